"""create_app(settings): the ASGI app over the parts `composition` builds from the
settings; it mounts the API, the pages and CardDAV, and the middleware around them."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp

from circlebook import __version__
from circlebook.api import limits as api_limits
from circlebook.api import problems
from circlebook.api.compression import Compression
from circlebook.api.limits import StreamSlots
from circlebook.api.routes import (
    app_passwords,
    auth,
    books,
    entries,
    events,
    health,
    invitations,
    invites,
    metrics,
    privacy,
    push,
    replies,
)
from circlebook.composition import Parts, build_parts, lifespan_of
from circlebook.dav import MOUNT_PATH, DavApp, DavFirst, discovery_routes
from circlebook.dav import too_large as dav_too_large
from circlebook.dav.push import DontNotify
from circlebook.edge.bodies import BodyLimit, by_path
from circlebook.edge.deps import SignInReads
from circlebook.notify.broker import Broker
from circlebook.observe.metrics import Metrics
from circlebook.observe.readiness import Liveness, Readiness
from circlebook.observe.requests import RequestLog
from circlebook.services.ports import Clock, SmsSender
from circlebook.settings import Settings
from circlebook.web import router as web_router
from circlebook.web import too_large as web_too_large


class Circlebook(FastAPI):
    """FastAPI with the request log outside everything, the error handler included,
    so that even a 500 carries its X-Request-ID and is logged and counted; and the
    event streams served just inside it, ahead of the rest (see api.routes.events)."""

    def build_middleware_stack(self) -> ASGIApp:
        streams_first = events.EventsFirst(super().build_middleware_stack(), state=self.state)
        return RequestLog(streams_first, meter=self.state.metrics)


def keep_in_state(app: FastAPI, parts: Parts) -> None:
    """What the edges' dependencies read off `app.state`."""
    settings = parts.settings
    app.state.settings = settings
    app.state.hub = parts.hub
    app.state.stream_slots = StreamSlots(settings.streams_per_account)
    app.state.runtime = parts.runtime
    app.state.sign_in_reads = SignInReads()
    app.state.engine = parts.engine
    app.state.push_public_key = parts.push_public_key
    app.state.metrics = parts.meter
    app.state.readiness = Readiness(parts.engine, parts.broker)
    app.state.liveness = Liveness(partial(health.database_answers, parts.runtime))


def include_api(app: FastAPI, meter: Metrics | None) -> None:
    """The JSON API under /v1/, with its problem+json errors; /metrics when metrics are on."""
    problems.install(app)
    for module in (
        health,
        auth,
        books,
        invitations,
        invites,
        entries,
        events,
        app_passwords,
        privacy,
        push,
        replies,
    ):
        app.include_router(module.router)
    if meter is not None:
        app.include_router(metrics.router)


def mount_dav(app: FastAPI, parts: Parts) -> DavApp:
    """CardDAV for phones' contacts apps, outside the OpenAPI document (RFC 6352, RFC 6764)."""
    settings = parts.settings
    dav = DavApp(
        parts.runtime,
        failures_per_window=settings.dav_failures_per_window,
        failure_window_seconds=settings.dav_failure_window_seconds,
        max_body_bytes=settings.max_body_bytes,
        card_cache_size=settings.dav_card_cache_size,
    )
    # A removed or erased person's cards leave the cache at once (dav.card_cache).
    parts.runtime.entries_removed.append(dav.cards.forget)
    app.mount(MOUNT_PATH, dav)
    app.router.routes.extend(discovery_routes())
    return dav


def add_middleware(app: FastAPI, settings: Settings, dav: DavApp) -> None:
    """Body limits, DAV's way in, compression and DAV-Push's silencing, innermost first."""
    # Each edge answers a body over the limit in its own format: the JSON API under
    # /v1/, pages elsewhere. DAV, in front of this limit, bounds its own bodies; only
    # MOUNT_PATH itself, without the slash, comes this way.
    refuse = by_path(
        {"/v1/": api_limits.too_large, MOUNT_PATH: dav_too_large}, otherwise=web_too_large
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, refuse=refuse)
    # Inside compression, so DAV answers are compressed like the others.
    app.add_middleware(DavFirst, dav=dav)
    if settings.compress_min_bytes:
        app.add_middleware(Compression, min_bytes=settings.compress_min_bytes)
    # Outermost: the changes a request makes know which registrations it silences.
    app.add_middleware(DontNotify)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    sms: SmsSender | None = None,
    broker: Broker | None = None,
) -> FastAPI:
    """Build the ASGI app. The database must already be migrated (see `circlebook migrate`)."""
    parts = build_parts(settings, engine, clock, sms, broker)
    app = Circlebook(
        title="circlebook",
        version=__version__,
        description="A shared address book built by consent.",
        lifespan=lifespan_of(parts),
    )
    keep_in_state(app, parts)
    include_api(app, parts.meter)
    # The pages for browsers, at /; none of them belongs in the OpenAPI document.
    app.include_router(web_router, include_in_schema=False)
    dav = mount_dav(app, parts)
    add_middleware(app, settings, dav)
    return app
