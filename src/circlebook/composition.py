"""The adapters and background loops one server runs on, chosen from its settings.

`build_parts` picks each concrete adapter the settings name (database, broker, SMS
gateway, push), counts them when metrics are on, and builds the Runtime the services
run on; `lifespan_of` starts and stops what runs beside the requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from circlebook.dav.push import message as dav_push_message
from circlebook.notify import Hub, LocalBroker, PostgresBroker, RedisBroker
from circlebook.notify.broker import Broker
from circlebook.observe.metrics import CountedSender, MeteredBroker, Metrics
from circlebook.push import WebPushSender, public_key_b64
from circlebook.services import dav_push
from circlebook.services import push as pushing
from circlebook.services.book_rows import BookRows
from circlebook.services.ports import Clock, NoTally, SmsSender
from circlebook.services.recent_sign_ins import RecentSignIns
from circlebook.services.runtime import Policy, Runtime, SystemClock
from circlebook.services.shared_reads import SharedReads
from circlebook.services.sweep import sweep
from circlebook.settings import Settings, secret_key_bytes, vapid_key, vapid_subject
from circlebook.sms import BackgroundSender, ConsoleSender, FileOutboxSender, GatewaySender
from circlebook.storage.database import make_engine
from circlebook.storage.group_commit import GroupCommit
from circlebook.storage.unit_of_work import SqlUnitOfWorkFactory

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
    """This process's Web Push sender: rung by each commit here that queued messages, and
    polling as a fallback.

    Rung only when there is something to send, and only on the instance that
    queued it: waking every instance on every pushed event (through the broker)
    cost each accept two write transactions, SQLite's one write lock among them,
    mostly to find that nobody it concerned had subscribed. Messages an instance
    queued and did not send (it stopped) are taken by another's poll; the claims
    in the database decide which instance sends each message.
    """

    def __init__(self, runtime: Runtime, sender: WebPushSender, batch: int, poll: float) -> None:
        self._runtime = runtime
        self._sender = sender
        self._batch = batch
        self._poll = poll
        self._worker = pushing.new_worker()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def ring(self) -> None:
        """From any thread, after a commit that queued Web Push messages: send them now."""
        # WebDAV-Push messages are left to the poll: a book change rings nobody.
        loop = self._loop
        if loop is not None:
            # A commit that ends after the loop closed leaves its messages to the
            # next start's first round.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        """End `run` after the round under way, if any."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stopping:
            # Rung, or not: then for retries that came due, WebDAV-Push messages, or
            # messages another instance queued and did not send.
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


@dataclass(frozen=True, slots=True)
class Parts:
    """The adapters and loops one app runs on, built once from the settings."""

    settings: Settings
    engine: Engine
    broker: Broker
    hub: Hub
    meter: Metrics | None
    runtime: Runtime
    background_sms: BackgroundSender
    group_commit: GroupCommit
    push_public_key: str | None
    push_sender: WebPushSender | None
    push_loop: PushLoop | None


def build_parts(
    settings: Settings,
    engine: Engine | None,
    clock: Clock | None,
    sms: SmsSender | None,
    broker: Broker | None,
) -> Parts:
    """The concrete adapters `settings` name, unless given, counted when metrics are on."""
    engine = engine or make_engine(settings.database_url)
    broker = broker or broker_for(settings)
    meter, broker, sender, invitation_texts = counted(
        settings, engine, broker, sms or sms_sender(settings.sms)
    )
    background_sms = BackgroundSender(invitation_texts)
    push_on = settings.push == "on"
    uow = SqlUnitOfWorkFactory(
        engine, broker, timedelta(seconds=settings.push_ttl_seconds) if push_on else None
    )
    secret_key = secret_key_bytes(settings)
    group_commit = GroupCommit(uow, settings.group_commit_max)
    key = vapid_key(settings, secret_key) if push_on else None
    push_public_key = public_key_b64(key) if key is not None else None
    runtime = Runtime(
        uow=uow,
        sms=sender,
        clock=clock or SystemClock(),
        secret_key=secret_key,
        policy=policy_from(settings, push_public_key),
        background_sms=background_sms,
        group_commit=group_commit,
        sessions_seen=RecentSignIns(settings.session_cache_seconds, uow.writes),
        app_passwords_seen=RecentSignIns(settings.session_cache_seconds, uow.writes),
        tally=meter if meter is not None else NoTally(),
        books_seen=RecentSignIns(settings.book_cache_seconds, uow.writes),
        shared_reads=SharedReads(uow.writes),
        book_rows=BookRows(settings.book_rows_cache_size),
    )
    push_sender = WebPushSender(key, vapid_subject(settings)) if key is not None else None
    push_loop = push_loop_for(settings, runtime, push_sender)
    if push_loop is not None:
        uow.pushes_queued = push_loop.ring
    return Parts(
        settings,
        engine,
        broker,
        Hub(settings.events_heartbeat_seconds),
        meter,
        runtime,
        background_sms,
        group_commit,
        push_public_key,
        push_sender,
        push_loop,
    )


def counted(
    settings: Settings, engine: Engine, broker: Broker, sender: SmsSender
) -> tuple[Metrics | None, Broker, SmsSender, SmsSender]:
    """The metrics, the broker, the sender of codes and that of invitation texts: each
    counted when metrics are on. Off, nothing is counted anywhere: no wrapper, no pool
    listener, no /metrics."""
    meter = Metrics.from_environment() if settings.metrics == "on" else None
    if meter is None:
        return None, broker, sender, sender
    broker = MeteredBroker(broker, meter)
    invitation_texts = CountedSender(sender, meter, "invitation")
    codes = CountedSender(sender, meter, "code")
    meter.watch_pool(engine)
    return meter, broker, codes, invitation_texts


def push_loop_for(
    settings: Settings, runtime: Runtime, sender: WebPushSender | None
) -> PushLoop | None:
    """The loop that sends Web Push and WebDAV-Push messages, when push is on."""
    if sender is None:
        return None
    return PushLoop(runtime, sender, settings.push_concurrency, settings.dav_push_interval_seconds)


def lifespan_of(parts: Parts) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the broker and the background loops with the app; stop them in order after."""
    runtime, push_loop = parts.runtime, parts.push_loop

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await parts.broker.start(parts.hub.deliver)
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
            await run_in_threadpool(parts.group_commit.close)
            await parts.broker.stop()
            if parts.push_sender is not None:
                parts.push_sender.close()
            # Texts already queued still go out before the process ends.
            await run_in_threadpool(parts.background_sms.drain)
            if parts.meter is not None:
                parts.meter.process_ended()

    return lifespan
