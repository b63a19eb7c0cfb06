"""`make bench-events`: many open event streams on one server; accept-to-event delay and memory.

    python -m bench.events [--streams 1000|10000] [--accepts 300] [--burst 100]
                           [--backends sqlite,postgres] [--heartbeat 15]

For each backend this seeds, straight into a fresh database, one owner per
stream (an account, a session and a book each) and one signed-in joiner per
accept, invites each joiner into a different owner's book through the API, and
starts one `circlebook serve` process. The benchmark then opens an event stream
(GET /v1/events) for every owner, each on a bare HTTP/1.1 connection, and waits
for each stream's `ready`.
With all streams open the joiners accept, first one at a time and then in one
concurrent burst; for each accept the benchmark takes the moment its answer
arrives and the moment the owner's `invitation.accepted` event arrives on the
owner's stream (time.perf_counter, one process, one event loop). The server's
resident memory is read from /proc/<pid>/status before the streams open, with
them open, and at the end.

The benchmark's own client (every stream, every accept) runs on the same
machine as the server and takes CPU from it; both CPU times are printed. The
targets are printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, insert

from bench import seed
from bench.databases import on_each_backend
from bench.run import BACKENDS, _backends, _load, _stop_on_sigterm, check, say
from bench.server import server_process
from bench.stats import Sample
from circlebook.client.events import aparse
from circlebook.domain.model import Role
from circlebook.services.auth import token_hash
from circlebook.services.clock import stamp
from circlebook.services.ids import new_book_id, new_id
from circlebook.storage.database import WRITE, make_engine
from circlebook.storage.schema import accounts, books, entries, sessions

TARGET_P99_MS = 100.0  # accept answered -> the owner's invitation.accepted event
TARGET_RSS_MB = 400.0  # the server's resident memory with 10,000 streams open (10**6 bytes)
TARGET_RSS_MIB = TARGET_RSS_MB * 1e6 / 2**20
TARGET_STREAMS = 10_000
DEFAULT_STREAMS = 1_000
EVENT_TIMEOUT = 10.0  # an event later than this counts as never arrived
OPEN_TIMEOUT = 900.0  # for all streams to be ready
FD_MARGIN = 512  # descriptors beyond one per stream: database, logs, accept clients


@dataclass(frozen=True)
class Owner:
    person: seed.Person
    book_id: str


@dataclass(frozen=True)
class Job:
    """One accept: a joiner answers its invitation into one owner's book."""

    owner: int
    book_id: str
    joiner: seed.Person
    invitation_id: str


@dataclass
class Timing:
    sent: float
    answered: float
    arrived: float | None


@dataclass
class Streams:
    """What the open streams have seen, filled in by the stream tasks."""

    arrivals: dict[str, float] = field(default_factory=dict)
    payloads: dict[str, tuple[int, dict[str, object]]] = field(default_factory=dict)
    waiters: dict[str, asyncio.Event] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    resyncs: int = 0

    def arrived(self, owner: int, data: dict[str, object]) -> None:
        now = time.perf_counter()
        invitation_id = str(data.get("invitation_id"))
        self.arrivals.setdefault(invitation_id, now)
        self.payloads.setdefault(invitation_id, (owner, data))
        waiter = self.waiters.get(invitation_id)
        if waiter is not None:
            waiter.set()


@dataclass
class Memory:
    """VmRSS in KiB at each point, and the peak (VmHWM) at the end."""

    before: int = 0
    open: int = 0
    end: int = 0
    peak: int = 0


@dataclass
class Outcome:
    backend: str
    streams: int
    open_wall: float
    open_each: Sample
    memory: Memory
    one_by_one: list[Timing]
    burst: list[Timing]
    burst_wall: float
    mismatched: int
    dropped: list[str]
    resyncs: int
    server_cpu: dict[str, float]
    bench_cpu: dict[str, float]


# --- the machine -------------------------------------------------------------------------


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE (the server inherits it); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise SystemExit(
            f"bench.events needs {needed} open files but the hard limit is {hard}: "
            f"raise it (ulimit -Hn, or LimitNOFILE) or pass fewer --streams"
        )
    return needed if soft == resource.RLIM_INFINITY else soft


def proc_status_kib(pid: int, key: str) -> int:
    """A `key: N kB` line of /proc/<pid>/status (VmRSS, VmHWM)."""
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith(f"{key}:"):
            return int(text.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {key}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    # Fields 14 and 15 of stat(5); the list starts at field 3 (state).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mib(kib: int) -> float:
    return kib / 1024


# --- seeding -----------------------------------------------------------------------------


def insert_owners(engine: Engine, count: int) -> list[Owner]:
    """`count` signed-in accounts, each the owner of one book, as create_book writes them.

    The book and the owner's entry are written as services.books.create_book does
    (version 1, no tags); the book.changed event it records is left out, as no
    stream is open yet to hear it.
    """
    at = stamp(datetime.now(UTC))
    owners: list[Owner] = []
    account_rows, session_rows, book_rows, entry_rows = [], [], [], []
    for n in range(count):
        account_id, token, book_id = new_id("a"), secrets.token_urlsafe(32), new_book_id()
        phone, name = seed.member_phone(n), f"Owner {n:05d}"
        owners.append(Owner(seed.Person(phone, account_id, token), book_id))
        account_rows.append({"id": account_id, "phone": phone, "name": name, "created_at": at})
        session_rows.append(
            {
                "token_hash": token_hash(token),
                "id": new_id("s"),
                "account_id": account_id,
                "device": "bench",
                "created_at": at,
                "last_used_at": at,
            }
        )
        book_rows.append(
            {
                "id": book_id,
                "title": f"Events book {n:05d}",
                "owner_id": account_id,
                "version": 1,
                "created_at": at,
                "updated_at": at,
            }
        )
        entry_rows.append(
            {
                "id": new_id("e"),
                "book_id": book_id,
                "account_id": account_id,
                "name": name,
                "tags": "",
                "role": Role.OWNER.value,
                "invitation_id": None,
                "created_at": at,
                "updated_at": at,
                "version": 1,
                "tags_version": 1,
            }
        )
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        for table, rows in (
            (accounts, account_rows),
            (sessions, session_rows),
            (books, book_rows),
            (entries, entry_rows),
        ):
            for start in range(0, len(rows), seed.BATCH):
                conn.execute(insert(table), rows[start : start + seed.BATCH])
    return owners


def invite_joiners(base_url: str, owners: list[Owner], joiners: list[seed.Person]) -> list[Job]:
    """Invite joiner k into a different owner's book through the API, owners in random order."""
    order = list(range(len(owners)))
    random.Random(20240601).shuffle(order)
    jobs: list[Job] = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for k, joiner in enumerate(joiners):
            n = order[k % len(order)]
            owner = owners[n]
            ids = seed.invite(client, owner.person, owner.book_id, [joiner])
            jobs.append(Job(n, owner.book_id, joiner, ids[joiner.phone]))
    return jobs


# --- streams and accepts -----------------------------------------------------------------


class StreamClosedError(RuntimeError):
    """The server ended a stream, or answered it with something other than a stream."""


async def _head(reader: asyncio.StreamReader) -> int:
    """Read an answer's status line and headers; its status, once it is a chunked stream."""
    status_line = await reader.readline()
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        raise StreamClosedError(f"not an HTTP answer: {status_line[:80]!r}")
    chunked = False
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if int(parts[1]) == 200 and not chunked:
        raise StreamClosedError("the event stream was not sent chunked")
    return int(parts[1])


async def _lines(reader: asyncio.StreamReader) -> AsyncIterator[str]:
    """The text lines of a chunked body (RFC 9112 section 7.1), as the event parser takes them."""
    held = b""
    while True:
        size_line = await reader.readline()
        if not size_line:
            return
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        held += (await reader.readexactly(size + 2))[:-2]
        *whole, held = held.split(b"\n")
        for line in whole:
            yield line.removesuffix(b"\r").decode()


async def _ask_for_events(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: tuple[str, int], token: str
) -> None:
    """Send GET /v1/events on an open connection and read the head of a 200 answer."""
    request = (
        f"GET /v1/events HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    )
    writer.write(request.encode())
    status = await _head(reader)
    if status != 200:
        raise StreamClosedError(f"GET /v1/events answered {status}")


async def hold_stream(
    address: tuple[str, int],
    n: int,
    owner: Owner,
    gate: asyncio.Semaphore,
    opened: asyncio.Future[float],
    streams: Streams,
) -> None:
    """Open owner `n`'s stream, report when `ready` came, then note every accepted event.

    A stream is a bare HTTP/1.1 connection read by hand rather than an httpx
    stream: httpx's pool walks all its connections for every request, which made
    opening 10,000 streams take minutes of the benchmark's own CPU.
    """
    await gate.acquire()
    holding = True
    started = time.perf_counter()
    writer: asyncio.StreamWriter | None = None
    try:
        reader, writer = await asyncio.open_connection(*address)
        await _ask_for_events(reader, writer, address, owner.person.token)
        async for event in aparse(_lines(reader)):
            if event.type == "invitation.accepted":
                streams.arrived(n, event.data)
            elif event.type == "ready" and not opened.done():
                opened.set_result(time.perf_counter() - started)
                gate.release()
                holding = False
            elif event.type == "resync":
                streams.resyncs += 1
        raise StreamClosedError("the server ended the stream")
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if not opened.done():
            opened.set_exception(exc)
        else:
            streams.dropped.append(f"owner {n}: {exc!r}")
    finally:
        if holding:
            gate.release()
        if writer is not None:
            writer.close()


async def accept(client: httpx.AsyncClient, job: Job, streams: Streams) -> tuple[Timing, bool]:
    """One accept; its timing, and whether the event that came (if any) was the right one."""
    waiter = asyncio.Event()
    streams.waiters[job.invitation_id] = waiter
    sent = time.perf_counter()
    response = await client.post(
        f"/v1/invitations/{job.invitation_id}/accept", headers=job.joiner.headers
    )
    answered = time.perf_counter()
    entry_id = check(response).json()["entry_id"]
    with suppress(TimeoutError):
        await asyncio.wait_for(waiter.wait(), timeout=EVENT_TIMEOUT)
    arrived = streams.arrivals.get(job.invitation_id)
    right = True
    if arrived is not None:
        owner, data = streams.payloads[job.invitation_id]
        right = (
            owner == job.owner
            and data.get("book_id") == job.book_id
            and data.get("entry_id") == entry_id
        )
    return Timing(sent, answered, arrived), right


async def measure_streams(
    backend: str,
    base_url: str,
    pid: int,
    owners: list[Owner],
    jobs: list[Job],
    args: argparse.Namespace,
) -> Outcome:
    memory = Memory(before=proc_status_kib(pid, "VmRSS"))
    streams = Streams()
    gate = asyncio.Semaphore(args.open_concurrency)
    loop = asyncio.get_running_loop()
    opened: list[asyncio.Future[float]] = [loop.create_future() for _ in owners]
    server_cpu: dict[str, float] = {}
    bench_cpu: dict[str, float] = {}
    url = httpx.URL(base_url)
    address = (url.host, url.port or 80)
    tasks: list[asyncio.Task[None]] = []
    async with httpx.AsyncClient(
        base_url=base_url, limits=httpx.Limits(max_connections=args.burst + 10), timeout=60
    ) as accepter:
        try:
            cpu0, own0 = cpu_seconds(pid), time.process_time()
            started = time.perf_counter()
            tasks = [
                asyncio.create_task(hold_stream(address, n, owner, gate, opened[n], streams))
                for n, owner in enumerate(owners)
            ]
            open_each = Sample(
                seconds=list(await asyncio.wait_for(asyncio.gather(*opened), timeout=OPEN_TIMEOUT))
            )
            open_wall = time.perf_counter() - started
            open_each.wall = open_wall
            server_cpu["open"] = cpu_seconds(pid) - cpu0
            bench_cpu["open"] = time.process_time() - own0
            memory.open = proc_status_kib(pid, "VmRSS")
            say(
                f"[{backend}] {len(owners):,} streams ready in {open_wall:.1f} s "
                f"(at most {args.open_concurrency} opening at once); server RSS "
                f"{mib(memory.before):.1f} MiB before, {mib(memory.open):.1f} MiB now"
            )

            warmup, one, burst = (
                jobs[: args.warmup],
                jobs[args.warmup : args.warmup + args.accepts],
                jobs[args.warmup + args.accepts :],
            )
            mismatched = 0
            for job in warmup:
                _, right = await accept(accepter, job, streams)
                mismatched += not right
            cpu0, own0 = cpu_seconds(pid), time.process_time()
            one_by_one: list[Timing] = []
            for job in one:
                timing, right = await accept(accepter, job, streams)
                one_by_one.append(timing)
                mismatched += not right
            server_cpu["one"] = cpu_seconds(pid) - cpu0
            bench_cpu["one"] = time.process_time() - own0
            say(f"[{backend}] {len(one)} accepts one at a time done")

            cpu0, own0 = cpu_seconds(pid), time.process_time()
            started = time.perf_counter()
            together = await asyncio.gather(*(accept(accepter, job, streams) for job in burst))
            burst_wall = time.perf_counter() - started
            server_cpu["burst"] = cpu_seconds(pid) - cpu0
            bench_cpu["burst"] = time.process_time() - own0
            mismatched += sum(not right for _, right in together)
            say(f"[{backend}] burst of {len(burst)} concurrent accepts done")
            memory.end = proc_status_kib(pid, "VmRSS")
            memory.peak = proc_status_kib(pid, "VmHWM")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return Outcome(
        backend=backend,
        streams=len(owners),
        open_wall=open_wall,
        open_each=open_each,
        memory=memory,
        one_by_one=one_by_one,
        burst=[timing for timing, _ in together],
        burst_wall=burst_wall,
        mismatched=mismatched,
        dropped=streams.dropped,
        resyncs=streams.resyncs,
        server_cpu=server_cpu,
        bench_cpu=bench_cpu,
    )


# --- one backend -------------------------------------------------------------------------


def bench_backend(
    backend: str, database_url: str, workdir: Path, args: argparse.Namespace
) -> Outcome:
    outbox, log = workdir / f"{backend}-events-outbox.jsonl", workdir / f"{backend}-events.log"
    total = args.warmup + args.accepts + args.burst
    engine = make_engine(database_url)
    try:
        t0 = time.perf_counter()
        owners = insert_owners(engine, args.streams)
        joiners = seed.insert_signed_in(engine, total)
        seed.analyze(engine)
    finally:
        engine.dispose()
    say(
        f"[{backend}] seeded {len(owners):,} owners (account, session, book) and "
        f"{len(joiners):,} joiners in {time.perf_counter() - t0:.1f} s"
    )
    env = {
        "CIRCLEBOOK_EVENTS_HEARTBEAT_SECONDS": f"{args.heartbeat:g}",
        "CIRCLEBOOK_INVITES_PER_DAY": "1000000",
        "CIRCLEBOOK_MAX_INVITEES_PER_REQUEST": "1000",
    }
    with server_process(database_url, secrets.token_urlsafe(32), outbox, log, env) as server:
        say(f"[{backend}] server up at {server.base_url}, pid {server.pid}; inviting")
        t0 = time.perf_counter()
        jobs = invite_joiners(server.base_url, owners, joiners)
        say(
            f"[{backend}] {len(jobs)} invitations sent through the API in "
            f"{time.perf_counter() - t0:.1f} s, each to a different owner's book"
        )
        return asyncio.run(
            measure_streams(backend, server.base_url, server.pid, owners, jobs, args)
        )


# --- the report --------------------------------------------------------------------------


def _ms(values: Sequence[float]) -> Sample:
    return Sample(seconds=list(values))


def delay_line(label: str, timings: list[Timing], target: bool) -> list[str]:
    came = [t for t in timings if t.arrived is not None]
    missing = len(timings) - len(came)
    lines = []
    if came:
        after_answer = _ms([t.arrived - t.answered for t in came if t.arrived is not None])
        after_sent = _ms([t.arrived - t.sent for t in came if t.arrived is not None])
        early = sum(1 for t in came if t.arrived is not None and t.arrived < t.answered)
        p99 = after_answer.p99_ms
        verdict = (
            f"  [target p99 < {TARGET_P99_MS:g} ms: {'met' if p99 < TARGET_P99_MS else 'MISSED'}]"
            if target
            else ""
        )
        lines.append(
            f"{label}: accept answered -> owner's event: p50 {after_answer.p50_ms:.2f} ms, "
            f"p95 {after_answer.p95_ms:.2f} ms, p99 {p99:.2f} ms, max {after_answer.max_ms:.2f} ms"
            f"{verdict}"
        )
        lines.append(
            f"{' ' * len(label)}  ({early} of {len(came)} events came before the accept's answer, "
            "counted as negative delays)"
        )
        lines.append(
            f"{' ' * len(label)}  accept sent -> owner's event: p50 {after_sent.p50_ms:.2f} ms, "
            f"p95 {after_sent.p95_ms:.2f} ms, p99 {after_sent.p99_ms:.2f} ms, "
            f"max {after_sent.max_ms:.2f} ms"
        )
    accept_rtt = _ms([t.answered - t.sent for t in timings])
    lines.append(
        f"{' ' * len(label)}  accept round trip: p50 {accept_rtt.p50_ms:.2f} ms, "
        f"p99 {accept_rtt.p99_ms:.2f} ms; events never arrived (within "
        f"{EVENT_TIMEOUT:g} s): {missing}"
    )
    return lines


def report(o: Outcome) -> list[str]:
    m = o.memory
    per_stream = (m.open - m.before) / o.streams if o.streams else 0.0
    rss_ok = mib(m.open) < TARGET_RSS_MIB
    scaled = o.streams >= TARGET_STREAMS
    lines = [
        f"== {o.backend}: {o.streams:,} streams on one server process ==",
        f"streams: all ready in {o.open_wall:.1f} s; connect -> ready per stream p50 "
        f"{o.open_each.p50_ms:.1f} ms, p99 {o.open_each.p99_ms:.1f} ms; "
        f"dropped {len(o.dropped)}, resync events {o.resyncs}",
        f"server RSS: before streams {mib(m.before):.1f} MiB, with {o.streams:,} open "
        f"{mib(m.open):.1f} MiB (+{per_stream:.1f} KiB a stream), at the end "
        f"{mib(m.end):.1f} MiB, peak {mib(m.peak):.1f} MiB"
        + (
            f"  [target < {TARGET_RSS_MB:g} MB = {TARGET_RSS_MIB:.1f} MiB "
            f"with {TARGET_STREAMS:,} streams: "
            f"{'met' if rss_ok else 'MISSED'}]"
            if scaled
            else ""
        ),
    ]
    lines += delay_line(f"{len(o.one_by_one)} accepts, one at a time", o.one_by_one, True)
    rate = len(o.burst) / o.burst_wall if o.burst_wall else 0.0
    lines += delay_line(
        f"burst of {len(o.burst)} concurrent accepts ({o.burst_wall * 1000:.0f} ms, {rate:,.0f}/s)",
        o.burst,
        False,
    )
    if o.mismatched:
        lines.append(f"events on the wrong stream or with the wrong ids: {o.mismatched}")
    lines.append(
        "CPU seconds, server / this benchmark: opening streams "
        f"{o.server_cpu['open']:.1f} / {o.bench_cpu['open']:.1f}, accepts one at a time "
        f"{o.server_cpu['one']:.1f} / {o.bench_cpu['one']:.1f}, burst "
        f"{o.server_cpu['burst']:.1f} / {o.bench_cpu['burst']:.1f}"
    )
    lines += [f"  dropped: {why}" for why in o.dropped[:5]]
    return lines


# --- the command -------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.events", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--streams",
        type=_positive,
        default=DEFAULT_STREAMS,
        help="open streams (default 1000; the memory target is for 10000)",
    )
    parser.add_argument(
        "--accepts", type=_positive, default=300, help="accepts one at a time (default 300)"
    )
    parser.add_argument(
        "--burst",
        type=_positive,
        default=100,
        help="accepts sent at once after those (default 100)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed accepts first (default 20)")
    parser.add_argument(
        "--backends", type=_backends, default=list(BACKENDS), help="sqlite,postgres (default both)"
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=15.0,
        help="the server's CIRCLEBOOK_EVENTS_HEARTBEAT_SECONDS (default 15, its own default)",
    )
    parser.add_argument(
        "--open-concurrency",
        type=_positive,
        default=50,
        help="streams connecting at once while they are opened (default 50)",
    )
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    total = args.warmup + args.accepts + args.burst
    seed.check_phones(
        seed.member_phone(0),
        seed.member_phone(args.streams),
        seed.joiner_phone(0),
        seed.joiner_phone(total),
    )
    files = raise_fd_limit(args.streams + args.burst + FD_MARGIN)
    say(
        f"circlebook event-stream benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {_load()}, open-file limit {files:,}"
    )
    say(
        f"server: one `circlebook serve` process, heartbeat every {args.heartbeat:g} s; "
        f"client: this process, one asyncio loop, a bare HTTP/1.1 connection per stream and "
        f"one httpx.AsyncClient for the accepts. It shares the machine's {os.cpu_count()} CPUs "
        "with the server."
    )
    if total > args.streams:
        say(f"note: {total} accepts over {args.streams} owners: some owners hear several")
    outcomes: list[Outcome] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="circlebook-bench-events-") as tmp:
        workdir = Path(tmp)
        skipped += on_each_backend(
            args.backends,
            workdir,
            say,
            lambda backend, url: outcomes.append(bench_backend(backend, url, workdir, args)),
        )
    say(f"load average at the end: {_load()} (other work on the machine skews the figures)")
    for outcome in outcomes:
        say("")
        for text in report(outcome):
            say(text)
    say("")
    for note in skipped:
        say(note)
    say(
        f"targets (on a 2-core machine, not asserted): p99 from an accept's answer to the "
        f"owner's event < {TARGET_P99_MS:g} ms; server resident memory < {TARGET_RSS_MB:g} MB "
        f"with {TARGET_STREAMS:,} streams open"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
