"""create_app(settings): the one place that chooses concrete adapters and wires them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from circlebook import __version__
from circlebook.api import problems
from circlebook.api.compression import Compression
from circlebook.api.deps import SignInReads
from circlebook.api.limits import BodyLimit, StreamSlots
from circlebook.api.routes import (
    app_passwords,
    auth,
    books,
    entries,
    events,
    health,
    invitations,
    invites,
    privacy,
    replies,
)
from circlebook.dav import MOUNT_PATH, DavApp, DavFirst, discovery_routes
from circlebook.notify import Hub, LocalBroker, PostgresBroker, RedisBroker
from circlebook.notify.broker import Broker
from circlebook.services.ports import Clock, Policy, Runtime, SmsSender, SystemClock
from circlebook.services.recent_sign_ins import RecentSignIns
from circlebook.services.sweep import sweep
from circlebook.settings import Settings, secret_key_bytes
from circlebook.sms import BackgroundSender, ConsoleSender, FileOutboxSender, GatewaySender
from circlebook.storage.database import make_engine
from circlebook.storage.unit_of_work import SqlUnitOfWorkFactory
from circlebook.web import router as web_router

log = logging.getLogger("circlebook")


def sms_sender(spec: str) -> SmsSender:
    if spec.startswith("file:"):
        return FileOutboxSender(Path(spec.removeprefix("file:")))
    if spec.startswith(("http://", "https://")):
        return GatewaySender(spec)
    return ConsoleSender()


def policy_of(settings: Settings) -> Policy:
    return Policy(
        region=settings.region,
        code_ttl_seconds=settings.code_ttl_seconds,
        code_max_attempts=settings.code_max_attempts,
        codes_per_window=settings.codes_per_window,
        code_window_seconds=settings.code_window_seconds,
        code_requests_per_client=settings.code_requests_per_client,
        signin_failures_per_client=settings.signin_failures_per_client,
        signin_failures_per_phone=settings.signin_failures_per_phone,
        sms_per_hour=settings.sms_per_hour,
        session_idle_days=settings.session_idle_days,
        session_max_days=settings.session_max_days,
        invites_per_day=settings.invites_per_day,
        invitation_ttl_days=settings.invitation_ttl_days,
        sync_token_days=settings.sync_token_days,
        max_invitees_per_request=settings.max_invitees_per_request,
        public_url=settings.public_url or None,
        invite_sms=settings.invite_sms == "on",
        invite_texts_per_number=settings.invite_texts_per_number,
    )


def broker_for(settings: Settings) -> Broker:
    kind = settings.broker_kind
    if kind == "redis":
        return RedisBroker(settings.broker, settings.broker_channel)
    if kind == "postgres":
        url = make_url(settings.database_url).set(drivername="postgresql")
        return PostgresBroker(url.render_as_string(hide_password=False), settings.broker_channel)
    return LocalBroker()


async def _sweep(runtime: Runtime, every: float = 3600.0) -> None:
    """Drop what the server no longer needs to keep (see `services.sweep`), every hour."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(sweep, runtime)
        except SQLAlchemyError as exc:  # the next sweep tries again
            log.warning("could not sweep old data: %s", exc)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    sms: SmsSender | None = None,
    broker: Broker | None = None,
) -> FastAPI:
    """Build the ASGI app. The database must already be migrated (see `circlebook migrate`)."""
    engine = engine or make_engine(settings.database_url)
    broker = broker or broker_for(settings)
    hub = Hub(settings.events_heartbeat_seconds)
    sender = sms or sms_sender(settings.sms)
    background_sms = BackgroundSender(sender)
    uow = SqlUnitOfWorkFactory(engine, broker)
    runtime = Runtime(
        uow=uow,
        sms=sender,
        clock=clock or SystemClock(),
        secret_key=secret_key_bytes(settings),
        policy=policy_of(settings),
        background_sms=background_sms,
        sessions_seen=RecentSignIns(settings.session_cache_seconds, uow.writes),
        app_passwords_seen=RecentSignIns(settings.session_cache_seconds, uow.writes),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.start(hub.deliver)
        sweeper = asyncio.create_task(_sweep(runtime))
        try:
            yield
        finally:
            sweeper.cancel()
            await broker.stop()
            # Texts already queued still go out before the process ends.
            await run_in_threadpool(background_sms.drain)

    app = FastAPI(
        title="circlebook",
        version=__version__,
        description="A shared address book built by consent.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.stream_slots = StreamSlots(settings.streams_per_account)
    app.state.runtime = runtime
    app.state.sign_in_reads = SignInReads()
    app.state.engine = engine
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
        replies,
    ):
        app.include_router(module.router)
    # The pages for browsers, at /; none of them belongs in the OpenAPI document.
    app.include_router(web_router, include_in_schema=False)
    # CardDAV for phones' contacts apps, outside the OpenAPI document (RFC 6352, RFC 6764).
    dav = DavApp(
        runtime,
        failures_per_window=settings.dav_failures_per_window,
        failure_window_seconds=settings.dav_failure_window_seconds,
        max_body_bytes=settings.max_body_bytes,
    )
    app.mount(MOUNT_PATH, dav)
    app.router.routes.extend(discovery_routes())
    # Inside the body limit, as the mount was: DAV bodies are bounded the same way,
    # and inside compression, so DAV answers are compressed like the others.
    app.add_middleware(DavFirst, dav=dav)
    if settings.compress_min_bytes:
        app.add_middleware(Compression, min_bytes=settings.compress_min_bytes)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
