"""The CardDAV tree as an ASGI app to mount under /dav, and the routes that lead clients to it.

A request is read (its body bounded), signed in with HTTP Basic and an app
password, resolved to a resource of the signed-in account, and answered by one
method handler. Services run in a worker thread, as FastAPI runs the JSON
routes; every failure leaves as a DAV answer, never as a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from circlebook.dav import methods, push
from circlebook.dav.auth import FailureThrottle, basic_credentials
from circlebook.dav.card_cache import CardCache
from circlebook.dav.carddav import accepted_version
from circlebook.dav.errors import BASIC_CHALLENGE, DavError, body_too_large, from_error
from circlebook.dav.reports import report, requested_version
from circlebook.dav.resources import CARD_SUFFIX, Session, remembered_book, resolve
from circlebook.dav.xml import MalformedXmlError, parse
from circlebook.domain.errors import CirclebookError, NotAuthenticatedError, NotFoundError
from circlebook.domain.model import Account
from circlebook.domain.numbers import whole_number
from circlebook.services import app_passwords, limits
from circlebook.services.runtime import Runtime

MOUNT_PATH = "/dav"
# A CTag poll's body is a few hundred bytes; a bigger one is parsed in a worker
# thread, where it cannot hold the event loop up.
POLL_BODY_BYTES = 4096
# One address may be many people (a carrier's NAT, an office): it is allowed this
# many times the failures of one user name before it waits.
ADDRESS_ALLOWANCE = 10


@dataclass(frozen=True, slots=True)
class Call:
    """What a DAV handler needs of one HTTP request, read before leaving the event loop."""

    method: str
    base: str
    relative: str
    body: bytes
    authorization: str | None
    depth: str | None
    if_none_match: str | None
    accept: str | None
    client: str


class DavApp:
    """CardDAV for the signed-in account's books; mount it at `MOUNT_PATH`."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        failures_per_window: int,
        failure_window_seconds: int,
        max_body_bytes: int,
        card_cache_size: int = 0,
    ) -> None:
        self.rt = runtime
        # Shared by every request this process answers: see dav.card_cache.
        self.cards = CardCache(card_cache_size)
        self.by_name = FailureThrottle(failures_per_window, failure_window_seconds)
        self.by_address = FailureThrottle(
            failures_per_window * ADDRESS_ALLOWANCE, failure_window_seconds
        )
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            if request.method == "OPTIONS":
                response = methods.options(self.rt.policy.push_public_key is not None)
            else:
                call = await self._call(request)
                remembered = self.answer_from_memory(call)
                if remembered is not None:
                    response = remembered
                else:
                    response = await run_in_threadpool(self.answer, call)
        except DavError as exc:
            response = exc.response()
        await response(scope, receive, send)

    async def _call(self, request: Request) -> Call:
        too_large = body_too_large(self.max_body_bytes)
        declared = request.headers.get("content-length")
        # Refused before a byte is read; the length is read by the one rule for client numbers.
        size = None if declared is None else whole_number(declared)
        if declared is not None and (size is None or size > self.max_body_bytes):
            raise too_large
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                raise too_large
        base = request.scope.get("root_path", "")
        path = request.scope["path"]
        client = limits.client_of(request.client.host if request.client else None)
        return Call(
            method=request.method,
            base=base,
            relative=path[len(base) :] if path.startswith(base) else path,
            body=bytes(body),
            authorization=request.headers.get("authorization"),
            depth=request.headers.get("depth"),
            if_none_match=request.headers.get("if-none-match"),
            accept=request.headers.get("accept"),
            client=client,
        )

    def answer(self, call: Call) -> Response:
        return self._guarded(
            call, lambda: self.dispatch(Session(self.rt, self.sign_in(call), call.base), call)
        )

    def answer_from_memory(self, call: Call) -> Response | None:
        """A CTag poll answered on the event loop, or None: answer `call` in a worker thread.

        A phone polls a book with PROPFIND at Depth 0 for its CTag again and again.
        When its credentials and its place in the book were both read within the
        last second (services.recent_sign_ins, services.books.recent_membership),
        the answer needs no database, and the worker thread's hop and the
        transaction were most of its cost. Anything else goes the usual way.
        """
        if call.method != "PROPFIND" or len(call.body) > POLL_BODY_BYTES:
            return None
        if (call.depth or "").strip() != "0":
            return None
        credentials = basic_credentials(call.authorization)
        if credentials is None:
            return None
        account = app_passwords.recently_signed_in(self.rt, *credentials)
        if account is None:
            return None
        book = remembered_book(Session(self.rt, account, call.base), call.relative)
        if book is None:
            return None

        def poll() -> Response:
            # The same throttle as `sign_in`: a user name that must wait, waits.
            self._refuse_if_waiting(account.id, call.client)
            return methods.propfind(book, parse(call.body), depth=0)

        return self._guarded(call, poll)

    def _guarded(self, call: Call, handle: Callable[[], Response]) -> Response:
        """`handle()`, with every failure answered as DAV, never as a 500."""
        try:
            return handle()
        except DavError as exc:
            return exc.response()
        except MalformedXmlError as exc:
            return DavError(400, str(exc)).response()
        except CirclebookError as exc:
            return from_error(exc, call.base + call.relative).response()
        except ValueError:
            # Every value a client sends is checked where it is read, and a 400 named
            # there; one that slips through is still the client's input, never a 500.
            return DavError(400, "this request has a value that could not be read").response()

    def sign_in(self, call: Call) -> Account:
        """The account of the Basic credentials, unless its user name or address must wait."""
        credentials = basic_credentials(call.authorization)
        if credentials is None:
            raise DavError(
                401,
                "sign in with your phone number and an app password",
                headers={"WWW-Authenticate": BASIC_CHALLENGE},
            )
        user, password = credentials
        # A poll repeats the credentials checked a moment ago: they need no reading.
        known = app_passwords.recently_signed_in(self.rt, user, password)
        # Wrong passwords count against the account from this address only: failures
        # from elsewhere must never lock its owner's own phone out of syncing.
        account_key = known.id if known else app_passwords.failure_key(self.rt, user)
        now = self._refuse_if_waiting(account_key, call.client)
        if known is not None:
            return known
        try:
            return app_passwords.authenticate_app_password(self.rt, user, password)
        except NotAuthenticatedError:
            self.by_name.failed([f"{account_key}|{call.client}"], now)
            self.by_address.failed([call.client], now)
            raise

    def _refuse_if_waiting(self, account_key: str, client: str) -> float:
        """429 if this user name from this address, or this address, must wait; else the time."""
        name, address = [f"{account_key}|{client}"], [client]
        now = self.rt.clock.now().timestamp()
        waits = [self.by_name.retry_after(name, now), self.by_address.retry_after(address, now)]
        if any(wait is not None for wait in waits):
            retry_after = str(max(wait or 0 for wait in waits))
            raise DavError(
                429,
                "too many wrong passwords: try again later",
                headers={"Retry-After": retry_after},
            )
        return now

    def dispatch(self, session: Session, call: Call) -> Response:
        pushed = push.answer(session, call.method, call.relative, call.body)
        if pushed is not None:
            return pushed
        if call.method in methods.WRITES:
            return self.refuse(session, call)
        body = parse(call.body) if call.method in ("PROPFIND", "REPORT") else None
        # The cards' vCard version is part of the request, like the account: asked for
        # by Accept on a GET, by CARDDAV:address-data in a REPORT (RFC 6352 5.1.1).
        if call.method in ("GET", "HEAD") and call.relative.endswith(CARD_SUFFIX):
            session = replace(session, card_version=accepted_version(call.accept))
        elif call.method == "REPORT" and body is not None:
            session = replace(session, card_version=requested_version(body))
        resource = resolve(session, call.relative)
        if call.method in ("GET", "HEAD"):
            return methods.get(resource, call.if_none_match, head=call.method == "HEAD")
        if call.method == "PROPFIND":
            return methods.propfind(resource, body, methods.depth_of(call.depth))
        if call.method == "REPORT":
            return report(resource, body, call.if_none_match, self.cards)
        raise DavError(405, f"{call.method} is not supported", headers={"Allow": methods.ALLOW})

    def refuse(self, session: Session, call: Call) -> Response:
        """403 for a write to anything the account can see, or to a new name inside it."""
        try:
            resolve(session, call.relative)
        except NotFoundError:
            parent = call.relative.rstrip("/").rpartition("/")[0]
            resolve(session, parent)
        raise methods.write_refused(call.base + call.relative)


def _below_root(path: str, root_path: str) -> str:
    """The path the app routes by: the request's path less the root it is served under."""
    if root_path and path.startswith(root_path + "/"):
        return path[len(root_path) :]
    return path


class DavFirst:
    """Hands requests under `MOUNT_PATH/` to the DAV app before the router looks at them.

    What `app.mount(MOUNT_PATH, dav)` does, minus the walk past every JSON and web
    route that comes first: on a CardDAV poll, that walk took a fifth of the
    server's time. `MOUNT_PATH` itself, without the slash, is left to the router.
    """

    def __init__(self, app: ASGIApp, *, dav: ASGIApp) -> None:
        self.app = app
        self.dav = dav

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root_path = scope.get("root_path", "")
        if scope["type"] == "http" and _below_root(scope["path"], root_path).startswith(
            MOUNT_PATH + "/"
        ):
            # The scope Mount would give the mounted app (starlette.routing.Mount.matches).
            scope = {
                **scope,
                "app_root_path": scope.get("app_root_path", root_path),
                "root_path": root_path + MOUNT_PATH,
                "endpoint": self.dav,
            }
            await self.dav(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _to_dav_root(request: Request) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + MOUNT_PATH + "/", 301)


def discovery_routes() -> list[Route]:
    """RFC 6764 section 5: /.well-known/carddav leads to the DAV root, and so does a
    PROPFIND on the site's root, where clients given only a host name start."""
    methods_seen = ["GET", "HEAD", "PROPFIND", "OPTIONS"]
    return [
        Route("/.well-known/carddav", _to_dav_root, methods=methods_seen, include_in_schema=False),
        Route("/", _to_dav_root, methods=["PROPFIND"], include_in_schema=False),
    ]
