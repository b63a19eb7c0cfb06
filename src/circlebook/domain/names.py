"""Names people give themselves and their books: trimmed, bounded, printable."""

from __future__ import annotations

import unicodedata

from circlebook.domain.errors import InvalidInputError

MAX_NAME_LENGTH = 100
MAX_TITLE_LENGTH = 200


def _clean(raw: str, limit: int, field: str, what: str) -> str:
    text = " ".join(raw.split())
    if not text:
        raise InvalidInputError(f"{what} must not be empty", field=field)
    if len(text) > limit:
        raise InvalidInputError(f"{what} is longer than {limit} characters", field=field)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise InvalidInputError(f"{what} contains control or unassigned characters", field=field)
    return text


def clean_name(raw: str, *, field: str = "name") -> str:
    return _clean(raw, MAX_NAME_LENGTH, field, "a name")


def clean_title(raw: str, *, field: str = "title") -> str:
    return _clean(raw, MAX_TITLE_LENGTH, field, "a title")
