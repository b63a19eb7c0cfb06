"""`make bench-soak`: a mixed workload from many clients at once against a real server, per backend.

    python -m bench.soak [--seconds 60] [--clients 32] [--backends sqlite,postgres]

For each backend this starts `circlebook serve` over a fresh database and gives
every client an owner (an account and a session written straight into the
tables), one book made through the API and an app password. Then every client,
one thread each with its own httpx.Client and keep-alive, sends one request
after another for `--seconds`, picking at random among: a sign-in (a code
request, then the session with the code from the file outbox), a book create,
an invite of someone who signed in earlier, that person's accept, a full entry
fetch, a delta fetch (?since= the last fetch's sync token), an event stream
(GET /v1/events, read until the first event, closed) and a CardDAV
sync-collection REPORT with Basic auth (from the last sync's token, or now and
then from none).

Any answer other than the expected 2xx or 207, and any transport error, is an
error; the command exits with status 1 if there was one. The server's resident
memory (VmRSS in /proc/<pid>/status) is printed at the start and at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import seed
from bench.databases import on_each_backend
from bench.dav_timings import SYNC
from bench.events import cpu_seconds, mib, proc_status_kib
from bench.run import BACKENDS, _backends, _load, _stop_on_sigterm, check, say
from bench.server import server_process
from bench.stats import Sample
from circlebook.client.events import parse
from circlebook.storage.database import make_engine

# How often each kind of step is picked, relative to the others.
WEIGHTS = {
    "sign-in": 2,
    "book create": 1,
    "invite": 3,
    "accept": 3,
    "full fetch": 3,
    "delta fetch": 5,
    "event stream": 2,
    "carddav sync": 3,
}
# The requests timed, in the order printed; a sign-in is two of them.
KINDS = (
    "code request",
    "session",
    "book create",
    "invite",
    "accept",
    "full fetch",
    "delta fetch",
    "event stream",
    "carddav sync",
)
REQUEST_TIMEOUT = 30.0
STREAM_TIMEOUT = 10.0  # the first event (`ready`) comes at once; later than this is an error
FULL_DAV_SYNC = 0.25  # the share of CardDAV syncs sent without a token
_TOKEN = re.compile(r"<d:sync-token>([^<]+)</d:sync-token>")


def soak_phone(n: int) -> str:
    """A valid Chinese mobile number for the `n`th sign-in of the soak."""
    return f"+86136{n:08d}"


class Outbox:
    """The codes in the server's file outbox, read on from where the last look stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()

    def code_for(self, phone: str, wait: float = 5.0) -> str:
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                self._read_on()
                code = self._codes.pop(phone, None)
            if code is not None:
                return code
            if time.monotonic() > deadline:
                raise RuntimeError(f"no SMS to {phone} in {self.path}")
            time.sleep(0.01)

    def _read_on(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n") + 1  # only whole lines; a half-written one waits
        for raw in chunk[:end].splitlines():
            message = json.loads(raw)
            self._codes[message["to"]] = str(message["text"].split("code is ")[1][:6])
        self._offset += end


class Phones:
    """Fresh numbers for sign-ins, one after another across all threads."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            n, self._next = self._next, self._next + 1
        return soak_phone(n)


@dataclass
class Tally:
    """One client's timings by kind and what went wrong."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Worker:
    """One simulated client: an owner with books, and the people it brings in."""

    owner: seed.Person
    dav_auth: tuple[str, str]
    books: list[str]
    client: httpx.Client
    outbox: Outbox
    phones: Phones
    rng: random.Random
    tally: Tally = field(default_factory=Tally)
    tokens: dict[str, str] = field(default_factory=dict)
    dav_tokens: dict[str, str] = field(default_factory=dict)
    signed_in: list[seed.Person] = field(default_factory=list)
    invited: list[tuple[seed.Person, str]] = field(default_factory=list)

    def call(
        self, kind: str, status: int, send: Callable[[], httpx.Response]
    ) -> httpx.Response | None:
        """Send one request and time it; None (and an error noted) unless it answered `status`."""
        self.tally.requests += 1
        started = time.perf_counter()
        try:
            response = send()
        except httpx.HTTPError as exc:
            self.tally.errors.append(f"{kind}: {exc!r}")
            return None
        elapsed = time.perf_counter() - started
        if response.status_code != status:
            self.tally.errors.append(
                f"{kind}: {response.request.method} {response.request.url.path} answered "
                f"{response.status_code}, expected {status}: {response.text[:200]}"
            )
            return None
        self.tally.seconds[kind].append(elapsed)
        return response

    # --- the steps -------------------------------------------------------------------

    def sign_in(self) -> None:
        phone = self.phones.take()
        if (
            self.call(
                "code request",
                202,
                lambda: self.client.post("/v1/auth/codes", json={"phone": phone}),
            )
            is None
        ):
            return
        try:
            code = self.outbox.code_for(phone)
        except RuntimeError as exc:
            self.tally.errors.append(f"session: {exc}")
            return
        body = {"phone": phone, "code": code, "device": "soak", "name": f"Soak {phone[-6:]}"}
        made = self.call("session", 201, lambda: self.client.post("/v1/auth/sessions", json=body))
        if made is not None:
            data = made.json()
            self.signed_in.append(seed.Person(phone, data["account"]["id"], data["token"]))

    def create_book(self) -> None:
        body = {"title": f"Soak book {len(self.books)}", "name": "Soak Owner"}
        made = self.call(
            "book create",
            201,
            lambda: self.client.post("/v1/books", headers=self.owner.headers, json=body),
        )
        if made is not None:
            self.books.append(str(made.json()["id"]))

    def invite(self) -> None:
        if not self.signed_in:
            self.sign_in()
            return
        person = self.signed_in.pop()
        book_id = self.rng.choice(self.books)
        body = {"invitees": [{"phone": person.phone, "name": "Soak Member", "tags": ["soak"]}]}
        answer = self.call(
            "invite",
            200,
            lambda: self.client.post(
                f"/v1/books/{book_id}/invitations", headers=self.owner.headers, json=body
            ),
        )
        if answer is None:
            return
        (outcome,) = answer.json()["outcomes"]
        if outcome["status"] != "invited":
            self.tally.errors.append(f"invite: the outcome was {outcome}")
            return
        self.invited.append((person, str(outcome["invitation_id"])))

    def accept(self) -> None:
        if not self.invited:
            self.invite()
            return
        person, invitation_id = self.invited.pop()
        self.call(
            "accept",
            200,
            lambda: self.client.post(
                f"/v1/invitations/{invitation_id}/accept", headers=person.headers
            ),
        )

    def full_fetch(self) -> None:
        book_id = self.rng.choice(self.books)
        fetched = self.call(
            "full fetch",
            200,
            lambda: self.client.get(f"/v1/books/{book_id}/entries", headers=self.owner.headers),
        )
        if fetched is not None:
            self.tokens[book_id] = str(fetched.json()["sync_token"])

    def delta_fetch(self) -> None:
        book_id = self.rng.choice(self.books)
        token = self.tokens.get(book_id)
        if token is None:
            self.full_fetch()
            return
        fetched = self.call(
            "delta fetch",
            200,
            lambda: self.client.get(
                f"/v1/books/{book_id}/entries",
                headers=self.owner.headers,
                params={"since": token},
            ),
        )
        if fetched is not None:
            self.tokens[book_id] = str(fetched.json()["sync_token"])

    def event_stream(self) -> None:
        """Open the owner's stream, read until its first event, close it; timed to that event."""
        self.tally.requests += 1
        started = time.perf_counter()
        try:
            with self.client.stream(
                "GET", "/v1/events", headers=self.owner.headers, timeout=STREAM_TIMEOUT
            ) as response:
                if response.status_code != 200:
                    response.read()
                    self.tally.errors.append(
                        f"event stream: GET /v1/events answered {response.status_code}: "
                        f"{response.text[:200]}"
                    )
                    return
                kind = response.headers.get("content-type", "")
                if not kind.startswith("text/event-stream"):
                    self.tally.errors.append(f"event stream: content type {kind!r}")
                    return
                first = next(parse(response.iter_lines()), None)
        except httpx.HTTPError as exc:
            self.tally.errors.append(f"event stream: {exc!r}")
            return
        if first is None:
            self.tally.errors.append("event stream: the server ended it before any event")
            return
        self.tally.seconds["event stream"].append(time.perf_counter() - started)

    def carddav_sync(self) -> None:
        book_id = self.rng.choice(self.books)
        token = "" if self.rng.random() < FULL_DAV_SYNC else self.dav_tokens.get(book_id, "")
        path = f"/dav/addressbooks/{self.owner.account_id}/{book_id}/"
        answer = self.call(
            "carddav sync",
            207,
            lambda: self.client.request(
                "REPORT",
                path,
                content=SYNC.format(token=token),
                headers={"Depth": "0", "Content-Type": "application/xml; charset=utf-8"},
                auth=self.dav_auth,
            ),
        )
        if answer is None:
            return
        found = _TOKEN.search(answer.text)
        if found is None:
            self.tally.errors.append(f"carddav sync: no sync token in {answer.text[:200]}")
            return
        self.dav_tokens[book_id] = found.group(1)

    def run(self, deadline: float) -> None:
        steps: dict[str, Callable[[], None]] = {
            "sign-in": self.sign_in,
            "book create": self.create_book,
            "invite": self.invite,
            "accept": self.accept,
            "full fetch": self.full_fetch,
            "delta fetch": self.delta_fetch,
            "event stream": self.event_stream,
            "carddav sync": self.carddav_sync,
        }
        names, weights = list(WEIGHTS), list(WEIGHTS.values())
        while time.perf_counter() < deadline:
            try:
                steps[self.rng.choices(names, weights)[0]]()
            except Exception as exc:  # an unexpected answer body: note it and go on
                self.tally.errors.append(f"unexpected: {exc!r}")


@dataclass
class Outcome:
    backend: str
    clients: int
    wall: float
    samples: dict[str, Sample]
    requests: int
    errors: list[str]
    rss_start: int
    rss_end: int
    rss_peak: int
    server_cpu: float
    bench_cpu: float


def set_up(
    backend: str, base_url: str, database_url: str, outbox: Outbox, args: argparse.Namespace
) -> list[Worker]:
    """One owner per client, each with a book and an app password; not timed."""
    engine = make_engine(database_url)
    try:
        owners = seed.insert_signed_in(engine, args.clients)
    finally:
        engine.dispose()
    phones = Phones()
    workers: list[Worker] = []
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as setup:
        for n, owner in enumerate(owners):
            made = setup.post(
                "/v1/books",
                headers=owner.headers,
                json={"title": f"Soak book of client {n}", "name": "Soak Owner"},
            )
            book_id = str(check(made, 201).json()["id"])
            password = setup.post(
                "/v1/app-passwords", headers=owner.headers, json={"label": "soak"}
            )
            dav = check(password, 201).json()
            workers.append(
                Worker(
                    owner=owner,
                    dav_auth=(str(dav["user_name"]), str(dav["password"])),
                    books=[book_id],
                    client=httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT),
                    outbox=outbox,
                    phones=phones,
                    rng=random.Random(f"{backend}-{n}"),
                )
            )
    return workers


def soak_backend(
    backend: str, database_url: str, workdir: Path, args: argparse.Namespace
) -> Outcome:
    outbox_path, log = workdir / f"{backend}-outbox.jsonl", workdir / f"{backend}-server.log"
    with server_process(database_url, secrets.token_urlsafe(32), outbox_path, log) as server:
        say(f"[{backend}] server up at {server.base_url} (pid {server.pid}); setting up")
        workers = set_up(backend, server.base_url, database_url, Outbox(outbox_path), args)
        try:
            rss_start = proc_status_kib(server.pid, "VmRSS")
            say(
                f"[{backend}] {args.clients} clients for {args.seconds:g} s; "
                f"server RSS {mib(rss_start):.1f} MiB"
            )
            cpu0, own0 = cpu_seconds(server.pid), time.process_time()
            started = time.perf_counter()
            deadline = started + args.seconds
            threads = [
                threading.Thread(target=w.run, args=(deadline,), name=f"soak-{n}")
                for n, w in enumerate(workers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            server_cpu, bench_cpu = cpu_seconds(server.pid) - cpu0, time.process_time() - own0
            rss_end = proc_status_kib(server.pid, "VmRSS")
            rss_peak = proc_status_kib(server.pid, "VmHWM")
        finally:
            for w in workers:
                w.client.close()
    seconds: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    for w in workers:
        for kind, values in w.tally.seconds.items():
            seconds[kind].extend(values)
        errors.extend(w.tally.errors)
    outcome = Outcome(
        backend=backend,
        clients=args.clients,
        wall=wall,
        samples={kind: Sample(seconds[kind], wall) for kind in KINDS if seconds[kind]},
        requests=sum(w.tally.requests for w in workers),
        errors=errors,
        rss_start=rss_start,
        rss_end=rss_end,
        rss_peak=rss_peak,
        server_cpu=server_cpu,
        bench_cpu=bench_cpu,
    )
    say(f"[{backend}] done: {outcome.requests:,} requests, {len(errors)} errors")
    return outcome


def report(o: Outcome) -> list[str]:
    rate = o.requests / o.wall if o.wall else 0.0
    lines = [
        f"== {o.backend}: {o.clients} clients for {o.wall:.1f} s ==",
        f"requests: {o.requests:,} ({rate:,.0f}/s); errors: {len(o.errors)}",
        f"server RSS: {mib(o.rss_start):.1f} MiB at the start, {mib(o.rss_end):.1f} MiB "
        f"at the end ({mib(o.rss_end - o.rss_start):+.1f} MiB), peak {mib(o.rss_peak):.1f} MiB",
        f"CPU seconds, server / this benchmark: {o.server_cpu:.1f} / {o.bench_cpu:.1f}",
    ]
    width = max(len(kind) for kind in KINDS)
    lines.append(f"  {'kind':<{width}}  {'count':>7}  {'p50 ms':>8}  {'p99 ms':>8}  {'max ms':>8}")
    for kind in KINDS:
        sample = o.samples.get(kind)
        if sample is None:
            lines.append(f"  {kind:<{width}}  {0:>7}")
            continue
        lines.append(
            f"  {kind:<{width}}  {sample.runs:>7,}  {sample.p50_ms:>8.1f}  "
            f"{sample.p99_ms:>8.1f}  {sample.max_ms:>8.1f}"
        )
    lines += [f"  error: {why}" for why in o.errors[:10]]
    if len(o.errors) > 10:
        lines.append(f"  ... and {len(o.errors) - 10} more")
    return lines


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError("must be more than 0")
        return value

    return convert


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--seconds", type=_positive(float), default=60.0, help="how long (default 60)"
    )
    parser.add_argument(
        "--clients", type=_positive(int), default=32, help="concurrent clients (default 32)"
    )
    parser.add_argument(
        "--backends", type=_backends, default=list(BACKENDS), help="sqlite,postgres (default both)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    seed.check_phones(soak_phone(0), seed.joiner_phone(args.clients))
    say(
        f"circlebook soak, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {_load()}"
    )
    say(
        "server: one `circlebook serve` process; clients: threads of this process, each with "
        f"its own httpx.Client and keep-alive, sharing the machine's {os.cpu_count()} CPUs "
        "with the server"
    )
    mix = ", ".join(f"{kind} {weight}" for kind, weight in WEIGHTS.items())
    say(f"mix (relative weights): {mix}")
    outcomes: list[Outcome] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="circlebook-bench-soak-") as tmp:
        workdir = Path(tmp)
        skipped += on_each_backend(
            args.backends,
            workdir,
            say,
            lambda backend, url: outcomes.append(soak_backend(backend, url, workdir, args)),
        )
    say(f"load average at the end: {_load()}")
    for outcome in outcomes:
        say("")
        for text in report(outcome):
            say(text)
    say("")
    for note in skipped:
        say(note)
    failed = [o.backend for o in outcomes if o.errors]
    if failed:
        say(f"FAILED: errors on {', '.join(failed)}")
        return 1
    say("no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
