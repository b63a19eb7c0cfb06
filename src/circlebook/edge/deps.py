"""Request dependencies of every edge: the runtime, settings and hub the app was built
with, and the signed-in account, by bearer token or by the pages' session cookie.

Each is `async` where it does no blocking work: FastAPI runs a plain `def`
dependency in a worker thread, and that hop cost more than the work itself. The
signed-in account leaves the event loop only when its token must be read from
the database (see services.recent_sign_ins).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Cookie, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from circlebook.domain.errors import ForbiddenError, NotAuthenticatedError
from circlebook.domain.model import Account
from circlebook.notify.hub import Hub
from circlebook.services import auth, limits, reach, signing
from circlebook.services.languages import from_accept_language
from circlebook.services.runtime import Runtime
from circlebook.services.signing import Purpose
from circlebook.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="the token from POST /v1/auth/sessions")
# The web pages keep the same bearer token in this HttpOnly cookie (see circlebook.web.session).
SESSION_COOKIE = "circlebook_session"
# The language a person chose on the pages, which the API's messages follow too.
LANG_COOKIE = "circlebook_lang"


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _runtime(request: Request) -> Runtime:
    return get_runtime(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _settings(request: Request) -> Settings:
    return get_settings(request)


SettingsDep = Annotated[Settings, Depends(_settings)]


async def _hub(request: Request) -> Hub:
    """This process's event hub, which the event streams subscribe to."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(_hub)]


def client_address(request: Request) -> str:
    """Who the per-client limits count: the socket's peer, which uvicorn replaces with
    X-Forwarded-For only when that peer is a proxy named in FORWARDED_ALLOW_IPS."""
    return limits.client_of(request.client.host if request.client else None)


async def _client(request: Request) -> str:
    return client_address(request)


ClientDep = Annotated[str, Depends(_client)]


async def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticatedError("sign in first: send Authorization: Bearer <token>")
    return credentials.credentials


TokenDep = Annotated[str, Depends(get_token)]


async def get_stream_token(
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

# The header in which a page's script sends the CSRF token its forms carry.
CSRF_HEADER = "X-CSRF-Token"


def csrf_token(secret: bytes, seed: str) -> str:
    """The token a browser's forms carry, keyed by the server's secret and the browser's seed
    (its session token once signed in): a cross-site page can send cookies but not read it."""
    return signing.sign_text(secret, Purpose.CSRF, seed)


async def get_page_token(
    request: Request,
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[
        str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False, max_length=128)
    ] = None,
    sent_csrf: Annotated[
        str | None, Header(alias=CSRF_HEADER, include_in_schema=False, max_length=128)
    ] = None,
) -> str:
    """The bearer token, or else the web session cookie, for calls a page's script makes.

    A cookie comes with cross-site requests too, so a call that changes anything
    must also carry the page's CSRF token in X-CSRF-Token (the `csrf` value of
    its forms), which another site cannot read.
    """
    if credentials is not None and credentials.credentials:
        return credentials.credentials
    if not session:
        raise NotAuthenticatedError("sign in first: send Authorization: Bearer <token>")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return session
    if not sent_csrf or not signing.matches(csrf_token(rt.secret_key, session), sent_csrf):
        raise ForbiddenError(f"a call with the session cookie needs the {CSRF_HEADER} header")
    return session


PageTokenDep = Annotated[str, Depends(get_page_token)]


class SignInReads:
    """The token reads under way in this process, so that requests with the same token share one.

    When a remembered token runs out, every request already carrying it would
    otherwise miss at once and each take a worker thread to read it again: under
    load, dozens of reads a second that made the slowest requests ten times slower.
    Runs on the event loop only.
    """

    def __init__(self) -> None:
        self._reading: dict[str, asyncio.Future[Account]] = {}

    async def account(self, rt: Runtime, token: str) -> Account:
        under_way = self._reading.get(token)
        if under_way is not None:
            # shield: one waiter going away must not cancel the read the others share.
            return await asyncio.shield(under_way)
        read = asyncio.ensure_future(run_in_threadpool(auth.authenticate, rt, token))
        self._reading[token] = read
        read.add_done_callback(lambda _: self._reading.pop(token, None))
        return await asyncio.shield(read)


async def get_account(request: Request, rt: RuntimeDep, token: TokenDep) -> Account:
    account = auth.recently_signed_in(rt, token)
    if account is None:
        reads: SignInReads = request.app.state.sign_in_reads
        account = await reads.account(rt, token)
    return account


AccountDep = Annotated[Account, Depends(get_account)]


async def get_page_account(request: Request, rt: RuntimeDep, token: PageTokenDep) -> Account:
    return await get_account(request, rt, token)


PageAccountDep = Annotated[Account, Depends(get_page_account)]


async def get_reach(request: Request, rt: RuntimeDep) -> reach.Reach:
    """Where this request's invitation links point, and the language the caller reads."""
    base = reach.link_base(rt, str(request.base_url))
    return reach.Reach(base, from_accept_language(request.headers.get("accept-language", "")))


ReachDep = Annotated[reach.Reach, Depends(get_reach)]
