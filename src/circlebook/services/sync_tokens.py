"""Sync tokens: a book version, signed so a client cannot forge or transplant one."""

from __future__ import annotations

import base64
import hashlib
import hmac

from circlebook.domain.errors import BadSyncTokenError
from circlebook.domain.numbers import whole_number

_MAX_TOKEN = 64


def _signature(secret: bytes, book_id: str, version: int) -> str:
    digest = hmac.new(secret, f"sync\x1f{book_id}\x1f{version}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:12]).decode().rstrip("=")


def issue(secret: bytes, book_id: str, version: int) -> str:
    return f"{version}.{_signature(secret, book_id, version)}"


def read(secret: bytes, book_id: str, token: str, current: int) -> int:
    """The version a token stands for, if this server issued it for this book."""
    version_text, _, signature = token.partition(".")
    version = whole_number(version_text)
    if len(token) > _MAX_TOKEN or version is None or not signature:
        raise BadSyncTokenError("this is not a sync token: fetch the book in full", field="since")
    expected = _signature(secret, book_id, version)
    # As bytes: compare_digest refuses a str with non-ASCII characters (TypeError).
    if not hmac.compare_digest(expected.encode(), signature.encode()) or version > current:
        raise BadSyncTokenError(
            "this sync token was not issued for this book: fetch the book in full", field="since"
        )
    return version
