"""The browser's session cookie and the CSRF token that every form carries.

The session cookie holds the bearer token that `services.auth.sign_in` issued,
so a browser is just one more signed-in device. It is HttpOnly, SameSite=Lax,
and Secure unless the page was asked for over plain HTTP on a loopback host
(development and tests): anywhere else a browser then refuses to keep it over
plain HTTP, which is the point.

Forms carry a token derived with HMAC from the server's secret key and a seed:
the session token once signed in, before that a random cookie of its own. A
cross-site page can make a browser send the cookies but cannot read the token.
"""

from __future__ import annotations

import secrets
import time

from starlette.requests import Request
from starlette.responses import Response

from circlebook.edge.deps import SESSION_COOKIE, csrf_token
from circlebook.services import signing
from circlebook.services.signing import Purpose

# Holds the CSRF seed before sign-in, so that the sign-in forms are protected too.
SEED_COOKIE = "circlebook_seed"
# Carries the number being signed in from the number form to the code form, so that
# it is never in an address (access logs, browser history); signed, and short-lived.
SIGNIN_COOKIE = "circlebook_signin"
CSRF_FIELD = "csrf"
SESSION_MAX_AGE = 180 * 24 * 3600
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host")


class CsrfError(Exception):
    """A form post whose CSRF token is missing or wrong."""


def is_loopback(request: Request) -> bool:
    """A browser on this very machine, asking directly.

    A proxy in front often asks for 127.0.0.1 on behalf of browsers anywhere, so a
    request that went through one (it says so in its headers) never counts.
    """
    if any(header in request.headers for header in _PROXY_HEADERS):
        return False
    return request.url.hostname in _LOOPBACK


def needs_secure_cookies(request: Request) -> bool:
    """Secure everywhere but plain HTTP on this very machine."""
    return request.url.scheme == "https" or not is_loopback(request)


def _set(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=needs_secure_cookies(request),
        httponly=True,
        samesite="lax",
    )


def cookies_refused(request: Request) -> bool:
    """Whether the browser will refuse our Secure cookies: plain HTTP beyond loopback.

    A TLS proxy in front that uvicorn does not trust with X-Forwarded-Proto still
    says https in that header; this only chooses whether to warn, never a flag.
    """
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    https = request.url.scheme == "https" or forwarded == "https"
    return not https and not is_loopback(request)


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def keep_session(response: Response, request: Request, token: str) -> None:
    _set(response, request, SESSION_COOKIE, token, SESSION_MAX_AGE)


def drop_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=needs_secure_cookies(request),
        httponly=True,
        samesite="lax",
    )


def _signature(secret: bytes, value: str) -> str:
    return signing.sign_text(secret, Purpose.SIGN_IN_COOKIE, value)


def remember_signin_phone(
    response: Response, request: Request, secret: bytes, phone: str, max_age: int
) -> None:
    """Keep the number a code was sent to for the code form, for as long as the code lives."""
    expires = str(int(time.time()) + max_age)
    value = f"{phone}|{expires}"
    _set(response, request, SIGNIN_COOKIE, f"{value}|{_signature(secret, value)}", max_age)


def signin_phone(request: Request, secret: bytes) -> str | None:
    """The number `remember_signin_phone` kept, if its cookie is this server's and current."""
    phone, _, rest = request.cookies.get(SIGNIN_COOKIE, "").partition("|")
    expires, _, signature = rest.partition("|")
    if not phone or not signature:
        return None
    if not signing.matches(_signature(secret, f"{phone}|{expires}"), signature):
        return None
    if not (expires.isascii() and expires.isdigit()) or int(expires) < time.time():
        return None
    return phone


def forget_signin_phone(response: Response, request: Request) -> None:
    response.delete_cookie(
        SIGNIN_COOKIE, path="/", secure=needs_secure_cookies(request), httponly=True, samesite="lax"
    )


def _seed(request: Request) -> str | None:
    return session_token(request) or request.cookies.get(SEED_COOKIE) or None


def form_token(request: Request, secret: bytes, signed_in: str | None) -> str:
    """The token this browser's forms carry: from its live session, else its seed cookie.

    A first visit gets a seed cookie (see `plant_seed`); a stale session cookie
    is dropped from the answer, so the next post is checked against the seed.
    """
    seed = signed_in or request.cookies.get(SEED_COOKIE) or getattr(request.state, "new_seed", None)
    if seed is None:
        seed = request.state.new_seed = secrets.token_urlsafe(32)
    return csrf_token(secret, seed)


def settle_cookies(response: Response, request: Request) -> None:
    """Set the seed cookie `form_token` chose for a first visit; drop a stale session."""
    seed = getattr(request.state, "new_seed", None)
    if seed is not None:
        _set(response, request, SEED_COOKIE, seed, None)
    if getattr(request.state, "stale_session", False):
        drop_session(response, request)


def check_csrf(request: Request, secret: bytes, sent: object) -> None:
    seed = _seed(request)
    if seed is None or not isinstance(sent, str) or not sent:
        raise CsrfError("this form has no CSRF token, or the browser has no cookies")
    # Constant time, so the right token cannot be found a character at a time.
    if not signing.matches(csrf_token(secret, seed), sent):
        raise CsrfError("this form's CSRF token does not belong to this browser")
