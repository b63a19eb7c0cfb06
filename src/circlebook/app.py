"""create_app(settings): the one place that chooses concrete adapters and wires them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
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
from circlebook.dav import MOUNT_PATH, DavApp, DavFirst, discovery_routes
from circlebook.dav import too_large as dav_too_large
from circlebook.dav.push import DontNotify
from circlebook.dav.push import message as dav_push_message
from circlebook.domain.events import Event
from circlebook.domain.push import PUSHED
from circlebook.edge.bodies import BodyLimit, by_path
from circlebook.edge.deps import SignInReads
from circlebook.notify import Hub, LocalBroker, PostgresBroker, RedisBroker
from circlebook.notify.broker import Broker
from circlebook.observe.metrics import CountedSender, MeteredBroker, Metrics
from circlebook.observe.readiness import Liveness, Readiness
from circlebook.observe.requests import RequestLog
from circlebook.push import WebPushSender, public_key_b64
from circlebook.services import dav_push
from circlebook.services import push as pushing
from circlebook.services.ports import Clock, NoTally, SmsSender, Tally
from circlebook.services.recent_sign_ins import RecentSignIns
from circlebook.services.runtime import Policy, Runtime, SystemClock
from circlebook.services.shared_reads import SharedReads
from circlebook.services.sweep import sweep
from circlebook.settings import Settings, secret_key_bytes, vapid_key, vapid_subject
from circlebook.sms import BackgroundSender, ConsoleSender, FileOutboxSender, GatewaySender
from circlebook.storage.database import make_engine
from circlebook.storage.group_commit import GroupCommit
from circlebook.storage.unit_of_work import SqlUnitOfWorkFactory
from circlebook.web import router as web_router
from circlebook.web import too_large as web_too_large

log = logging.getLogger("circlebook")


def sms_sender(spec: str) -> SmsSender:
    if spec.startswith("file:"):
        return FileOutboxSender(Path(spec.removeprefix("file:")))
    if spec.startswith(("http://", "https://")):
        return GatewaySender(spec)
    return ConsoleSender()


def policy_from(settings: Settings, push_public_key: str | None = None) -> Policy:
    """The limits of `settings`, each Policy field from the setting of its name: the one
    place a Policy is built, so it holds no defaults that could differ from the settings'."""
    derived: dict[str, Any] = {
        "public_url": settings.public_url or None,
        "invite_sms": settings.invite_sms == "on",
        "push_public_key": push_public_key,
    }
    copied = {f.name: getattr(settings, f.name) for f in fields(Policy) if f.name not in derived}
    return Policy(**copied, **derived)


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


class PushLoop:
    """This process's Web Push sender: woken by each pushed event, and polling as a fallback.

    Woken on every instance by every instance's events (through the broker); the
    claims in the database decide which one sends each message.
    """

    def __init__(self, runtime: Runtime, sender: WebPushSender, batch: int, poll: float) -> None:
        self._runtime = runtime
        self._sender = sender
        self._batch = batch
        self._poll = poll
        self._worker = pushing.new_worker()
        self._wake = asyncio.Event()
        self._stopping = False

    def heard(self, event: Event) -> None:
        """On the event loop: a pushed event may have queued messages."""
        # WebDAV-Push messages are left to the poll: a book change wakes nobody.
        if event.type in PUSHED:
            self._wake.set()

    def stop(self) -> None:
        """End `run` after the round under way, if any."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            # Woken, or not: then for retries that came due, WebDAV-Push messages, or
            # a wake-up the broker lost.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()
            if self._stopping:
                return
            try:
                while (
                    await run_in_threadpool(
                        pushing.deliver_due, self._runtime, self._sender, self._worker, self._batch
                    )
                    == self._batch
                ):
                    pass  # a full batch: there may be more waiting
                while (
                    await run_in_threadpool(
                        dav_push.deliver_due,
                        self._runtime,
                        self._sender,
                        self._worker,
                        self._batch,
                        dav_push_message,
                    )
                    == self._batch
                ):
                    pass
            except SQLAlchemyError as exc:  # the next round tries again
                log.warning("could not send push messages: %s", exc)


class Circlebook(FastAPI):
    """FastAPI with the request log outside everything, the error handler included,
    so that even a 500 carries its X-Request-ID and is logged and counted."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestLog(super().build_middleware_stack(), meter=self.state.metrics)


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
    invitation_texts = sender
    # Off, nothing is counted anywhere: no wrapper, no pool listener, no /metrics.
    meter = Metrics.from_environment() if settings.metrics == "on" else None
    tally: Tally = NoTally()
    if meter is not None:
        broker = MeteredBroker(broker, meter)
        invitation_texts = CountedSender(sender, meter, "invitation")
        sender = CountedSender(sender, meter, "code")
        meter.watch_pool(engine)
        tally = meter
    background_sms = BackgroundSender(invitation_texts)
    push_on = settings.push == "on"
    uow = SqlUnitOfWorkFactory(
        engine, broker, timedelta(seconds=settings.push_ttl_seconds) if push_on else None
    )
    secret_key = secret_key_bytes(settings)
    group_commit = GroupCommit(uow, settings.group_commit_max)
    key = vapid_key(settings, secret_key) if push_on else None
    runtime = Runtime(
        uow=uow,
        sms=sender,
        clock=clock or SystemClock(),
        secret_key=secret_key,
        policy=policy_from(settings, public_key_b64(key) if key is not None else None),
        background_sms=background_sms,
        group_commit=group_commit,
        sessions_seen=RecentSignIns(settings.session_cache_seconds, uow.writes),
        app_passwords_seen=RecentSignIns(settings.session_cache_seconds, uow.writes),
        tally=tally,
        books_seen=RecentSignIns(settings.book_cache_seconds, uow.writes),
        shared_reads=SharedReads(uow.writes),
    )

    push_sender = WebPushSender(key, vapid_subject(settings)) if key is not None else None
    poll = settings.dav_push_interval_seconds
    push_loop = (
        PushLoop(runtime, push_sender, settings.push_concurrency, poll) if push_sender else None
    )

    def deliver(event: Event) -> None:
        hub.deliver(event)
        if push_loop is not None:
            push_loop.heard(event)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.start(deliver)
        sweeper = asyncio.create_task(_sweep(runtime))
        pusher = asyncio.create_task(push_loop.run()) if push_loop else None
        try:
            yield
        finally:
            sweeper.cancel()
            # Reads ahead under way end before the engine they read from is closed.
            await run_in_threadpool(runtime.shared_reads.close)
            if push_loop is not None and pusher is not None:
                # Cancelling would leave a round's worker thread running on after the
                # engine is closed, holding a connection: let the round end instead.
                push_loop.stop()
                await asyncio.gather(pusher, return_exceptions=True)
            # Writes still waiting to be grouped commit, and publish, while the broker runs.
            await run_in_threadpool(group_commit.close)
            await broker.stop()
            if push_sender is not None:
                push_sender.close()
            # Texts already queued still go out before the process ends.
            await run_in_threadpool(background_sms.drain)
            if meter is not None:
                meter.process_ended()

    app = Circlebook(
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
    app.state.push_public_key = public_key_b64(key) if key is not None else None
    app.state.metrics = meter
    app.state.readiness = Readiness(engine, broker)
    app.state.liveness = Liveness(partial(health.database_answers, runtime))
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
    # The pages for browsers, at /; none of them belongs in the OpenAPI document.
    app.include_router(web_router, include_in_schema=False)
    # CardDAV for phones' contacts apps, outside the OpenAPI document (RFC 6352, RFC 6764).
    dav = DavApp(
        runtime,
        failures_per_window=settings.dav_failures_per_window,
        failure_window_seconds=settings.dav_failure_window_seconds,
        max_body_bytes=settings.max_body_bytes,
        card_cache_size=settings.dav_card_cache_size,
    )
    app.mount(MOUNT_PATH, dav)
    app.router.routes.extend(discovery_routes())
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
    return app
