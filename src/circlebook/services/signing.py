"""What the server keys with its secret, each purpose listed once, and how values are compared.

A value is HMAC-SHA256 under the server's secret of the purpose's label and the
parts, joined by U+001F (the unit separator, which no label holds): so each
purpose is a keyed function of its own, and a value made for one purpose never
matches one made for another (see `Purpose`). Every hash stored, token handed
out and cookie set carries its label, so a label never changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from enum import StrEnum, unique

_SEPARATOR = "\x1f"


@unique
class Purpose(StrEnum):
    """Each use of the secret, by the label that leads every message it keys.

    Labels, not secrets (the linter's S105 takes some for passwords).
    """

    # A number where the number itself need not be kept: codes, texts sent, the do-not-invite list.
    PHONE = "phone"
    SIGN_IN_CODE = "code"
    # What stands for an erased account in one book's history.
    PSEUDONYM = "pseudonym"
    APP_PASSWORD = "app-password"  # noqa: S105
    # The cache of app passwords checked lately, so CardDAV needs no hash per request.
    APP_PASSWORD_SEEN = "app-password-seen"  # noqa: S105
    DAV_PUSH_TOPIC = "webdav-push topic"
    # The AES key sync tokens are sealed under (keyed with the label alone).
    SYNC_TOKEN_CIPHER = "circlebook sync token key"  # noqa: S105
    # The check of a book and version inside a sync token, and the earlier tokens' signature.
    SYNC_TOKEN = "sync"  # noqa: S105
    INVITE_LINK = "invite-link"
    INVITE_LINK_LOOKUP = "invite-link-lookup"
    # The web sign-in form's memory of the number a code went to.
    SIGN_IN_COOKIE = "signin"
    CSRF = "csrf"


def sign(secret: bytes, purpose: Purpose, *parts: str) -> bytes:
    """The 32-byte keyed hash of `parts` for `purpose`."""
    message = _SEPARATOR.join((purpose.value, *parts)).encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def sign_hex(secret: bytes, purpose: Purpose, *parts: str) -> str:
    return sign(secret, purpose, *parts).hex()


def sign_text(secret: bytes, purpose: Purpose, *parts: str, size: int = 32) -> str:
    """The first `size` bytes of the hash in unpadded base64url, fit for URLs and cookies."""
    digest = sign(secret, purpose, *parts)[:size]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def matches(expected: str | bytes, given: str | bytes) -> bool:
    """Whether `given` is `expected`, in time that does not tell how much of it matched.

    Compared as bytes: `hmac.compare_digest` raises on a str holding anything
    but ASCII, which a client may send.
    """
    if isinstance(expected, str):
        expected = expected.encode()
    if isinstance(given, str):
        given = given.encode()
    return hmac.compare_digest(expected, given)
