"""Identifiers: random and unguessable, so knowing one proves nothing and finds nothing."""

from __future__ import annotations

import secrets


def new_book_id() -> str:
    return "b_" + secrets.token_urlsafe(18)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"
