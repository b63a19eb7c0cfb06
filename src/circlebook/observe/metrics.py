"""Prometheus metrics (prometheus-client): what an operator watches, counted without who.

No label ever carries a phone number, a name, a book title or an id: requests
are labelled by route template, method and status; texts by kind; invitations
by outcome. With `serve --workers N` each worker writes its figures to files in
PROMETHEUS_MULTIPROC_DIR (set by serving before the workers start) and a scrape,
whichever worker takes it, adds them all up (the library's multiprocess mode).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

from circlebook.domain.events import Event, EventType
from circlebook.notify.broker import Broker
from circlebook.services.ports import SmsSender

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Methods a label may name; anything else a client invents is "other", so that
# nobody can grow the number of series by sending made-up methods.
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    | {"PROPFIND", "PROPPATCH", "REPORT", "MKCOL", "COPY", "MOVE"}
)
# The committed events that tell how an invitation ended (the others are counted
# where they happen: see services.invitations).
OUTCOMES = {
    EventType.INVITATION_ACCEPTED: "accepted",
    EventType.INVITATION_DECLINED: "declined",
}
# Events published by this process and not yet heard back, at most this many:
# an event that never comes back (a lost notification) must not be kept forever.
IN_FLIGHT_LIMIT = 10_000
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _live_gauge(name: str, documentation: str, registry: CollectorRegistry) -> Gauge:
    """A gauge of what is open now: with several workers, the figures of the live ones add up."""
    return Gauge(name, documentation, registry=registry, multiprocess_mode="livesum")


def _pool_gauges(registry: CollectorRegistry) -> tuple[Gauge, Gauge]:
    """The database pool's connections checked out now, and its size (see `watch_pool`)."""
    in_use = _live_gauge(
        "circlebook_db_connections_in_use",
        "Database connections checked out of the pool now.",
        registry,
    )
    size = _live_gauge(
        "circlebook_db_pool_size",
        "Connections the database pool keeps (its size, without overflow).",
        registry,
    )
    return in_use, size


class Metrics:
    """The server's metrics, in a registry of their own (one per app, none at import time)."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "circlebook_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "circlebook_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template.",
            ["route", "method"],
            registry=registry,
        )
        self.streams = _live_gauge(
            "circlebook_event_streams_open",
            "Event streams (GET /v1/events) open now.",
            registry,
        )
        self.texts = Counter(
            "circlebook_texts_sent",
            "Texts handed to the SMS sender, by kind: code (sign-in) or invitation.",
            ["kind"],
            registry=registry,
        )
        self.invitations = Counter(
            "circlebook_invitations_ended",
            "Invitations that ended, by outcome: accepted, declined, withdrawn or expired.",
            ["outcome"],
            registry=registry,
        )
        self.pool_in_use, self.pool_size = _pool_gauges(registry)
        self.broker_lag = Histogram(
            "circlebook_broker_lag_seconds",
            "Time from publishing a committed event to hearing it back from the broker.",
            registry=registry,
            buckets=LAG_BUCKETS,
        )
        # The children of each label set, found by one dict lookup per request
        # instead of `labels()`, which checks and locks every time.
        self._by_request: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @classmethod
    def from_environment(cls) -> Metrics:
        return cls(os.environ.get(MULTIPROC_DIR) or None)

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method if method in METHODS else "other", status)
        children = self._by_request.get(key)
        if children is None:
            children = (
                self.requests.labels(key[0], key[1], str(status)),
                self.latency.labels(key[0], key[1]),
            )
            self._by_request[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def invitations_ended(self, outcome: str, count: int = 1) -> None:
        if count:
            self.invitations.labels(outcome).inc(count)

    def stream_opened(self, release: Callable[[], None]) -> Callable[[], None]:
        """Count a stream as open until the returned function (which calls `release`) runs."""
        self.streams.inc()

        def closed() -> None:
            self.streams.dec()
            release()

        return closed

    def watch_pool(self, engine: Engine) -> None:
        """Follow the engine's pool: its size, and each connection's checkout and return."""
        size = getattr(engine.pool, "size", None)
        if callable(size):
            self.pool_size.set(size())
        event.listen(engine, "checkout", lambda *_: self.pool_in_use.inc())
        event.listen(engine, "checkin", lambda *_: self.pool_in_use.dec())

    def exposition(self) -> bytes:
        """The text format of every metric, summed over the worker processes if several."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def process_ended(self) -> None:
        """Drop this process's live gauges from the sums (a worker that stops holds no stream)."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


class CountedSender:
    """An SMS sender that counts each text it handed over, by kind (never by number)."""

    def __init__(self, sender: SmsSender, metrics: Metrics, kind: str) -> None:
        self._sender = sender
        self._sent = metrics.texts.labels(kind)

    def send(self, to: str, text: str) -> None:
        self._sender.send(to, text)
        self._sent.inc()


class MeteredBroker:
    """A broker that times each event this process publishes until it hears it back, and counts
    the invitations that committed events say were answered.

    Every instance listens on the channel it publishes to, so each event is
    timed once, by the process that published it: the broker's lag, whether the
    event went through Redis, PostgreSQL or (in one process) the event loop.
    """

    def __init__(self, broker: Broker, metrics: Metrics) -> None:
        self._broker = broker
        self._metrics = metrics
        self._lock = threading.Lock()
        self._sent: OrderedDict[int, float] = OrderedDict()

    async def start(self, deliver: Callable[[Event], None]) -> None:
        lag = self._metrics.broker_lag

        def heard(event: Event) -> None:
            with self._lock:
                sent = self._sent.pop(event.id, None)
            if sent is not None:
                lag.observe(monotonic() - sent)
            deliver(event)

        await self._broker.start(heard)

    def publish(self, events: Sequence[Event]) -> None:
        now = monotonic()
        with self._lock:
            for item in events:
                self._sent[item.id] = now
            while len(self._sent) > IN_FLIGHT_LIMIT:
                self._sent.popitem(last=False)
        for item in events:
            outcome = OUTCOMES.get(item.type)
            if outcome is not None:
                self._metrics.invitations_ended(outcome)
        self._broker.publish(events)

    async def ping(self) -> None:
        await self._broker.ping()

    async def stop(self) -> None:
        await self._broker.stop()
