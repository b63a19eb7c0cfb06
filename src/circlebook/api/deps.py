"""Request dependencies: the runtime the app was built with, and the signed-in account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from circlebook.domain.errors import NotAuthenticatedError
from circlebook.domain.model import Account
from circlebook.services import auth, limits, reach
from circlebook.services.languages import from_accept_language
from circlebook.services.ports import Runtime

_bearer = HTTPBearer(auto_error=False, description="the token from POST /v1/auth/sessions")
# The web pages keep the same bearer token in this HttpOnly cookie (see circlebook.web.session).
SESSION_COOKIE = "circlebook_session"


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def client_address(request: Request) -> str:
    """Who the per-client limits count: the socket's peer, which uvicorn replaces with
    X-Forwarded-For only when that peer is a proxy named in FORWARDED_ALLOW_IPS."""
    return limits.client_of(request.client.host if request.client else None)


ClientDep = Annotated[str, Depends(client_address)]


def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticatedError("sign in first: send Authorization: Bearer <token>")
    return credentials.credentials


TokenDep = Annotated[str, Depends(get_token)]


def get_stream_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[
        str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False, max_length=128)
    ] = None,
) -> str:
    """The bearer token, or else the web session cookie: a browser's EventSource sends no headers.

    Only the read-only event stream takes the cookie, so no request it carries can
    change anything (no CSRF to fear); SameSite=Lax keeps it off cross-site
    requests, and without CORS headers no other origin can read the stream.
    """
    if credentials is not None and credentials.credentials:
        return credentials.credentials
    if session:
        return session
    raise NotAuthenticatedError("sign in first: send Authorization: Bearer <token>")


StreamTokenDep = Annotated[str, Depends(get_stream_token)]


def get_account(rt: RuntimeDep, token: TokenDep) -> Account:
    return auth.authenticate(rt, token)


AccountDep = Annotated[Account, Depends(get_account)]


def get_reach(request: Request, rt: RuntimeDep) -> reach.Reach:
    """Where this request's invitation links point, and the language the caller reads."""
    base = reach.link_base(rt, str(request.base_url))
    return reach.Reach(base, from_accept_language(request.headers.get("accept-language", "")))


ReachDep = Annotated[reach.Reach, Depends(get_reach)]
