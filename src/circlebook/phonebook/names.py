"""Display names: tidied, joined from their parts, and told apart from numbers standing in."""

from __future__ import annotations

import re

# A name made only of these is a number standing in for a name.
_NUMBER_LIKE = re.compile(r"[\d\s+\-().]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def is_real_name(name: str) -> bool:
    return bool(name.strip()) and not _NUMBER_LIKE.fullmatch(name)


def joined_name(
    given: str, additional: str, family: str, prefix: str = "", suffix: str = ""
) -> str:
    """A display name from its parts, family name first and unspaced for CJK names."""
    parts = [given, additional, family, prefix, suffix]
    if any(_CJK.search(part) for part in parts):
        return clean("".join([family, given, additional]))
    return clean(" ".join([prefix, given, additional, family, suffix]))


def clean(text: str) -> str:
    return " ".join(text.split())
