"""Identifiers: random and unguessable, so knowing one proves nothing and finds nothing."""

from __future__ import annotations

import re
import secrets


def new_book_id() -> str:
    return "b_" + secrets.token_urlsafe(18)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


_SHAPE = re.compile(r"^[a-z]_[A-Za-z0-9_-]{8,40}$")


def is_wellformed(value: str) -> bool:
    """Whether a client-sent id could be one of ours; anything else cannot exist."""
    return bool(_SHAPE.match(value))
