"""Tags: short labels an owner gives invitees to scope who sees whom."""

from __future__ import annotations

import re
from collections.abc import Iterable

from circlebook.domain.errors import InvalidInputError

MAX_TAG_LENGTH = 32
MAX_TAGS = 16
# Letters of any script, digits and a few joiners; no commas or spaces, because
# storage joins a set of tags with commas.
_TAG = re.compile(r"^[^\W_][\w.\-]*$")


def normalize_tags(raw: Iterable[str], *, field: str = "tags") -> frozenset[str]:
    """Validate tags and fold them to lower case so `Team` and `team` are one tag."""
    tags = set()
    for value in raw:
        tag = value.strip().casefold()
        if not tag or len(tag) > MAX_TAG_LENGTH or not _TAG.match(tag):
            raise InvalidInputError(
                f"{value!r} is not a tag: use 1 to {MAX_TAG_LENGTH} letters, digits, '.', '-' "
                "or '_', starting with a letter or digit",
                field=field,
            )
        tags.add(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInputError(f"at most {MAX_TAGS} tags", field=field)
    return frozenset(tags)


def join_tags(tags: frozenset[str]) -> str:
    return ",".join(sorted(tags))


def split_tags(text: str) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()
