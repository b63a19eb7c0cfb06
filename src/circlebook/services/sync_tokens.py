"""Sync tokens: where one member's view of a book stood, sealed so it tells nothing.

A token is one AES block: the version (8 bytes) and a keyed check of the book
and version (8 bytes), encrypted under a key drawn from the server's secret.
The client cannot read the version out of it (so it cannot count the changes
made between two of its syncs that it was not shown), forge one, or carry one
to another book. It is deterministic: the same view gives the same token, which
is what a CTag needs.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from circlebook.domain.errors import BadSyncTokenError
from circlebook.domain.numbers import whole_number
from circlebook.services import signing
from circlebook.services.signing import Purpose

_MAX_TOKEN = 64
_SEALED_LENGTH = 22  # 16 bytes in unpadded base64url


@lru_cache(maxsize=8)
def _cipher(secret: bytes) -> Cipher[modes.ECB]:
    key = signing.sign(secret, Purpose.SYNC_TOKEN_CIPHER)[:16]
    # ECB over exactly one block is the raw block cipher: a keyed permutation of
    # 16 bytes, which is all a token needs (no two tokens share a plaintext).
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


def _check(secret: bytes, book_id: str, version: int) -> bytes:
    return signing.sign(secret, Purpose.SYNC_TOKEN, book_id, str(version))[:8]


# Tokens issued lately. Every poll of a book answers its token, and the same view
# always gives the same one: a poll repeated no longer seals it again.
ISSUED_CACHE_SIZE = 4096


@lru_cache(maxsize=ISSUED_CACHE_SIZE)
def issue(secret: bytes, book_id: str, version: int) -> str:
    block = version.to_bytes(8, "big") + _check(secret, book_id, version)
    encryptor = _cipher(secret).encryptor()
    sealed = encryptor.update(block) + encryptor.finalize()
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def _unseal(secret: bytes, book_id: str, token: str) -> int | None:
    try:
        sealed = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return None
    if len(sealed) != 16:
        return None
    decryptor = _cipher(secret).decryptor()
    block = decryptor.update(sealed) + decryptor.finalize()
    version = int.from_bytes(block[:8], "big")
    return version if signing.matches(block[8:], _check(secret, book_id, version)) else None


def _legacy_signature(secret: bytes, book_id: str, version: int) -> str:
    return signing.sign_text(secret, Purpose.SYNC_TOKEN, book_id, str(version), size=12)


def _read_legacy(secret: bytes, book_id: str, token: str) -> int | None:
    """A token of the earlier `version.signature` form: still answered, so that an
    upgrade costs no client a full fetch."""
    version_text, _, signature = token.partition(".")
    version = whole_number(version_text)
    if version is None or not signature:
        return None
    expected = _legacy_signature(secret, book_id, version)
    return version if signing.matches(expected, signature) else None


def read(secret: bytes, book_id: str, token: str, current: int) -> int:
    """The version a token stands for, if this server issued it for this book."""
    if len(token) > _MAX_TOKEN or not token.isascii():
        raise BadSyncTokenError("this is not a sync token: fetch the book in full", field="since")
    if "." in token:
        version = _read_legacy(secret, book_id, token)
    elif len(token) == _SEALED_LENGTH:
        version = _unseal(secret, book_id, token)
    else:
        raise BadSyncTokenError("this is not a sync token: fetch the book in full", field="since")
    if version is None or version > current:
        raise BadSyncTokenError(
            "this sync token was not issued for this book: fetch the book in full", field="since"
        )
    return version
