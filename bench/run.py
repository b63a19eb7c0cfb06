"""`make bench`: fetch, delta-sync and accept timings against a real server, per backend.

    python -m bench.run [--sizes 100,1000,10000] [--backends sqlite,postgres]
                        [--scale 1.0] [--concurrency 8]

For each backend this starts `circlebook serve` on a free local port over a
fresh database, signs an owner and a member in through the API, has the owner
create one book per size with the member invited and accepted through the API,
then fills each book with bulk members written straight into the tables (on
PostgreSQL followed by ANALYZE, as autovacuum would do in production). All
timings are taken by an httpx client with keep-alive, from request to the last
byte of the answer. The targets are printed for comparison, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType

import httpx

from bench import seed
from bench.databases import on_each_backend
from bench.server import server_process
from bench.stats import Sample, measure
from circlebook.storage.database import make_engine

BACKENDS = ("sqlite", "postgres")
TARGET_FULL_MS = 60.0  # full fetch of a 10,000-entry book
TARGET_DELTA_MS = 5.0  # one-change delta in a 10,000-entry book
TARGET_ACCEPT_MS = 10.0  # one accept in a 10,000-entry book
# Accepts from 8 clients at once into a 10,000-entry book: at least this rate,
# with the 95th percentile under this latency.
TARGET_ACCEPTS_PER_S = 400.0
TARGET_ACCEPT_LOAD_P95_MS = 30.0
LOAD_CLIENTS = 8
TARGET_NOT_MODIFIED_MS = 2.0  # a 304 to a current If-None-Match, 10,000 entries
TARGET_WIRE_BYTES = 400_000  # a compressed full fetch of 10,000 entries
TARGET_COMPRESSION_COST = 1 / 3  # compressing adds at most this share of the plain fetch
CODINGS = ("gzip", "zstd")
PLAIN = {"Accept-Encoding": "identity"}
TARGET_SIZE = 10_000
PARTS = ("fetches", "accepts")


@dataclass(frozen=True)
class Result:
    backend: str
    what: str
    sample: Sample
    target_ms: float | None = None
    rate: bool = False
    note: str = ""


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers") from None
    if not sizes or sizes[0] < 2:
        raise argparse.ArgumentTypeError("sizes are at least 2 (the owner and the member)")
    return sizes


def _backends(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"backends are {', '.join(BACKENDS)}")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[100, 1_000, 10_000],
        help="book sizes to fetch in full, comma-separated (default 100,1000,10000); "
        "the delta and accept figures use the largest",
    )
    parser.add_argument(
        "--backends", type=_backends, default=list(BACKENDS), help="sqlite,postgres (default both)"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the number of runs (default 1.0)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="clients for the concurrent accepts (default 8)"
    )
    parser.add_argument(
        "--only",
        choices=PARTS,
        help="run one part alone (the books are built the same way): "
        "fetches (full fetch, wire, delta) or accepts",
    )
    return parser.parse_args(argv)


def runs(n: int, scale: float, least: int = 5) -> int:
    return max(least, round(n * scale))


def full_fetch_runs(size: int, scale: float) -> int:
    return runs(min(300, max(60, 600_000 // size)), scale)


def say(text: str) -> None:
    print(text, flush=True)


def check(response: httpx.Response, status: int = 200) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    return response


def bench_full_fetch(
    backend: str, member: httpx.Client, book: seed.SeededBook, scale: float
) -> tuple[Result, str]:
    url = f"/v1/books/{book.id}/entries"
    # Uncompressed, as before compression existed: the figures stay comparable.
    body = check(member.get(url, headers=PLAIN))
    data = body.json()
    if len(data["entries"]) != book.size:
        raise RuntimeError(f"the member sees {len(data['entries'])} entries, not {book.size}")
    sample = measure(
        lambda: check(member.get(url, headers=PLAIN)),
        warmup=runs(5, scale, 2),
        runs=full_fetch_runs(book.size, scale),
    )
    kib = len(body.content) / 1024
    result = Result(
        backend,
        f"full fetch, {book.size:,} entries",
        sample,
        TARGET_FULL_MS if book.size == TARGET_SIZE else None,
        note=f"{kib:,.0f} KiB",
    )
    return result, str(data["sync_token"])


def _fetch_raw(client: httpx.Client, url: str, headers: dict[str, str]) -> int:
    """One fetch read to its last byte as sent, not decoded: the bytes on the wire."""
    with client.stream("GET", url, headers=headers) as response:
        check(response, 200 if "If-None-Match" not in headers else 304)
        return sum(len(chunk) for chunk in response.iter_raw())


def bench_wire(
    backend: str, member: httpx.Client, book: seed.SeededBook, scale: float
) -> list[Result]:
    """The 304 to a current copy, and the full fetch plain, gzip and zstd, read the same way."""
    url = f"/v1/books/{book.id}/entries"
    etag = check(member.get(url, headers=PLAIN)).headers["etag"]
    where = f"{book.size:,} entries"
    warmup, n = runs(5, scale, 2), full_fetch_runs(book.size, scale)
    not_modified = measure(
        lambda: _fetch_raw(member, url, {"If-None-Match": etag}),
        warmup=runs(20, scale),
        runs=runs(500, scale),
    )
    results = [
        Result(
            backend,
            f"304 to a current If-None-Match, {where}",
            not_modified,
            TARGET_NOT_MODIFIED_MS if book.size == TARGET_SIZE else None,
        )
    ]
    plain_bytes = _fetch_raw(member, url, PLAIN)
    plain = measure(lambda: _fetch_raw(member, url, PLAIN), warmup=warmup, runs=n)
    results.append(
        Result(
            backend,
            f"full fetch, uncompressed, read raw, {where}",
            plain,
            note=f"{plain_bytes / 1000:,.0f} KB on the wire",
        )
    )
    allowed_ms = plain.p50_ms * (1 + TARGET_COMPRESSION_COST)
    for coding in CODINGS:
        headers = {"Accept-Encoding": coding}
        wire = _fetch_raw(member, url, headers)
        sample = measure(partial(_fetch_raw, member, url, headers), warmup=warmup, runs=n)
        added = sample.p50_ms / plain.p50_ms - 1
        results.append(
            Result(
                backend,
                f"full fetch, {coding}, read raw, {where}",
                sample,
                allowed_ms if book.size == TARGET_SIZE else None,
                note=(
                    f"{wire / 1000:,.0f} KB on the wire, target < {TARGET_WIRE_BYTES / 1000:,.0f}"
                    f" KB; {added:+.0%} time vs uncompressed, target <= "
                    f"+{TARGET_COMPRESSION_COST:.0%}"
                ),
            )
        )
    return results


def bench_delta(
    backend: str,
    owner: httpx.Client,
    member: httpx.Client,
    book: seed.SeededBook,
    token: str,
    scale: float,
) -> Result:
    """One change (the owner renames a member) after `token`; the member asks for the delta."""
    check(
        owner.patch(f"/v1/books/{book.id}/entries/{book.other_entry_id}", json={"name": "Renamed"})
    )
    url = f"/v1/books/{book.id}/entries"
    data = check(member.get(url, params={"since": token})).json()
    if [e["id"] for e in data["entries"]] != [book.other_entry_id] or data["removed"]:
        raise RuntimeError(f"the delta is not the one change: {str(data)[:300]}")
    sample = measure(
        lambda: check(member.get(url, params={"since": token})),
        warmup=runs(20, scale),
        runs=runs(500, scale),
    )
    return Result(
        backend,
        f"delta, 1 change, {book.size:,} entries",
        sample,
        TARGET_DELTA_MS if book.size == TARGET_SIZE else None,
    )


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time process `pid` has used so far (Linux /proc), else None.

    The server's CPU per accept holds still when other work on the machine slows
    every timing down.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_note(pid: int, before: float | None, count: int) -> str:
    after = cpu_seconds(pid)
    if before is None or after is None or not count:
        return ""
    return f"server CPU {(after - before) * 1000 / count:.2f} ms per accept"


def bench_accepts(
    backend: str,
    base_url: str,
    server_pid: int,
    engine_url: str,
    owner_client: httpx.Client,
    owner: seed.Person,
    book: seed.SeededBook,
    scale: float,
    concurrency: int,
) -> list[Result]:
    warmup, sequential, concurrent = runs(20, scale), runs(300, scale), runs(300, scale)
    engine = make_engine(engine_url)
    try:
        people = seed.insert_signed_in(engine, warmup + sequential + concurrent)
    finally:
        engine.dispose()
    invitations = seed.invite(owner_client, owner, book.id, people)
    queue: Iterator[seed.Person] = iter(people)
    lock = threading.Lock()

    def next_person() -> seed.Person:
        with lock:
            return next(queue)

    def accept(client: httpx.Client) -> None:
        person = next_person()
        check(
            client.post(
                f"/v1/invitations/{invitations[person.phone]}/accept", headers=person.headers
            )
        )

    with httpx.Client(base_url=base_url, timeout=60) as client:
        for _ in range(warmup):
            accept(client)
        cpu = cpu_seconds(server_pid)
        one_by_one = measure(lambda: accept(client), warmup=0, runs=sequential)
        alone_cpu = _cpu_note(server_pid, cpu, one_by_one.runs)

    local = threading.local()
    clients: list[httpx.Client] = []
    everyone_connected = threading.Barrier(concurrency)

    def connect(_: int) -> None:
        """Give each worker thread its own client with an open connection."""
        client = httpx.Client(base_url=base_url, timeout=60)
        local.client = client
        with lock:
            clients.append(client)
        client.get("/v1/me")  # 401, but the connection is up
        # Hold this thread until all have one, so that no thread takes two.
        everyone_connected.wait(timeout=60)

    def timed_accept(_: int) -> float:
        client: httpx.Client = local.client
        t0 = time.perf_counter()
        accept(client)
        return time.perf_counter() - t0

    together = Sample()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(connect, range(concurrency)))
            cpu = cpu_seconds(server_pid)
            started = time.perf_counter()
            together.seconds = list(pool.map(timed_accept, range(concurrent)))
            together.wall = time.perf_counter() - started
            together_cpu = _cpu_note(server_pid, cpu, together.runs)
    finally:
        for client in clients:
            client.close()
    where = f"{book.size:,} entries"
    return [
        Result(
            backend,
            f"accept, one at a time, {where}",
            one_by_one,
            TARGET_ACCEPT_MS if book.size == TARGET_SIZE else None,
            rate=True,
            note=alone_cpu,
        ),
        Result(
            backend,
            f"accept, {concurrency} clients at once, {where}",
            together,
            None,
            rate=True,
            note=", ".join(filter(None, ["latency under load", together_cpu])),
        ),
    ]


def under_load(results: list[Result], concurrency: int) -> list[str]:
    """Per backend: the concurrent accepts beside their target and the one-at-a-time run."""
    lines = [
        f"writes under load ({concurrency} clients accepting at once, {TARGET_SIZE:,}-entry "
        f"book): target >= {TARGET_ACCEPTS_PER_S:,.0f} accepts/s with p95 < "
        f"{TARGET_ACCEPT_LOAD_P95_MS:g} ms with {LOAD_CLIENTS} clients; reference: one "
        "client at a time, same run"
    ]
    for backend in BACKENDS:
        alone = [r for r in results if r.backend == backend and "one at a time" in r.what]
        loaded = [r for r in results if r.backend == backend and "clients at once" in r.what]
        if not alone or not loaded:
            continue
        a, b = alone[0].sample, loaded[0].sample
        rate_ok = b.per_second >= TARGET_ACCEPTS_PER_S
        p95_ok = b.p95_ms < TARGET_ACCEPT_LOAD_P95_MS
        verdict = "met" if rate_ok and p95_ok and concurrency == LOAD_CLIENTS else "missed"
        if concurrency != LOAD_CLIENTS:
            verdict = f"not comparable ({concurrency} clients)"
        lines.append(
            f"  {backend:<8}  {concurrency} clients: {b.per_second:,.0f}/s "
            f"({'met' if rate_ok else 'missed'}), p50 {b.p50_ms:.2f} ms, p95 {b.p95_ms:.2f} ms "
            f"({'met' if p95_ok else 'missed'}): {verdict}  |  one at a time: "
            f"{a.per_second:,.0f}/s, p50 {a.p50_ms:.2f} ms, p95 {a.p95_ms:.2f} ms; "
            f"{b.per_second / a.per_second:.2f}x its rate"
        )
    return lines


def bench_fetches(
    backend: str,
    base_url: str,
    owner: seed.Person,
    member: seed.Person,
    books: list[seed.SeededBook],
    scale: float,
) -> list[Result]:
    """Full fetches of each book, the bytes on the wire and a one-change delta."""
    results: list[Result] = []
    with (
        httpx.Client(base_url=base_url, headers=member.headers, timeout=120) as as_member,
        httpx.Client(base_url=base_url, headers=owner.headers, timeout=120) as as_owner,
    ):
        token = ""
        for book in books:
            result, token = bench_full_fetch(backend, as_member, book, scale)
            results.append(result)
            say(f"[{backend}] {line(result)}")
        for result in bench_wire(backend, as_member, books[-1], scale):
            results.append(result)
            say(f"[{backend}] {line(result)}")
        result = bench_delta(backend, as_owner, as_member, books[-1], token, scale)
        results.append(result)
        say(f"[{backend}] {line(result)}")
    return results


def bench_backend(
    backend: str, database_url: str, workdir: Path, sizes: list[int], args: argparse.Namespace
) -> list[Result]:
    outbox, log = workdir / f"{backend}-outbox.jsonl", workdir / f"{backend}-server.log"
    secret_key = secrets.token_urlsafe(32)
    results: list[Result] = []
    engine = make_engine(database_url)
    try:
        with (
            server_process(database_url, secret_key, outbox, log) as server,
            httpx.Client(base_url=server.base_url, timeout=120) as client,
        ):
            base_url = server.base_url
            # The pid is there for a profiler to attach to (py-spy record --pid).
            say(f"[{backend}] server up at {base_url} (pid {server.pid}); seeding")
            owner = seed.sign_in(client, outbox, seed.OWNER_PHONE, "Bench Owner")
            member = seed.sign_in(client, outbox, seed.MEMBER_PHONE, "Bench Member")
            t0 = time.perf_counter()
            pool = seed.insert_pool(engine, max(sizes) - 2)
            books = []
            # The accepts need only the largest book, built as in a whole run.
            for size in sizes if args.only != "accepts" else sizes[-1:]:
                book_id, member_entry = seed.create_book(client, owner, member, size)
                other = seed.insert_members(engine, book_id, pool[: size - 2])
                books.append(seed.SeededBook(book_id, size, member_entry, other))
            seed.analyze(engine)
            analyzed = " and analyzed" if backend == "postgres" else ""
            say(
                f"[{backend}] seeded{analyzed} {sum(b.size for b in books):,} entries "
                f"in {time.perf_counter() - t0:.1f} s"
            )

            if args.only != "accepts":
                results += bench_fetches(backend, base_url, owner, member, books, args.scale)
            if args.only != "fetches":
                for result in bench_accepts(
                    backend,
                    base_url,
                    server.pid,
                    database_url,
                    client,
                    owner,
                    books[-1],
                    args.scale,
                    args.concurrency,
                ):
                    results.append(result)
                    say(f"[{backend}] {line(result)}")
    finally:
        engine.dispose()
    return results


def line(result: Result) -> str:
    s = result.sample
    rate = f", {s.per_second:,.0f}/s" if result.rate else ""
    return (
        f"{result.what}: p50 {s.p50_ms:.2f} ms, p95 {s.p95_ms:.2f} ms, "
        f"mean {s.mean_ms:.2f} ms, {s.runs} runs{rate}"
    )


def table(results: list[Result]) -> str:
    head = (
        "backend",
        "measurement",
        "runs",
        "p50 ms",
        "p95 ms",
        "mean ms",
        "per s",
        "target",
        "p50/target",
    )
    rows: list[tuple[str, ...]] = [head]
    for r in results:
        s = r.sample
        target = f"< {r.target_ms:g} ms" if r.target_ms else ""
        ratio = f"{s.p50_ms / r.target_ms:.2f}x" if r.target_ms else ""
        rows.append(
            (
                r.backend,
                r.what + (f" ({r.note})" if r.note else ""),
                str(s.runs),
                f"{s.p50_ms:.2f}",
                f"{s.p95_ms:.2f}",
                f"{s.mean_ms:.2f}",
                f"{s.per_second:,.0f}" if r.rate else "",
                target,
                ratio,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    left = {0, 1, 7}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(rows[0]), rule, *(fmt(row) for row in rows[1:])])


def _load() -> str:
    """The 1-, 5- and 15-minute load averages: anything near the CPU count skews timings."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stop_on_sigterm() -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    seed.check_phones(
        seed.OWNER_PHONE,
        seed.MEMBER_PHONE,
        seed.member_phone(0),
        seed.member_phone(max(args.sizes)),
        seed.joiner_phone(0),
        seed.joiner_phone(10_000),
    )
    say(
        f"circlebook benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {_load()}"
    )
    say(
        "server: `circlebook serve` (one uvicorn process); client: httpx with keep-alive; "
        "times from request to last byte"
    )
    say(
        f"books: the measuring member shares the tag {seed.COMMON_TAG!r} with every entry "
        "and so sees the whole book; each entry also holds one of "
        f"{len(seed.GROUP_TAGS)} other tags"
    )
    results: list[Result] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="circlebook-bench-") as tmp:
        workdir = Path(tmp)
        skipped += on_each_backend(
            args.backends,
            workdir,
            say,
            lambda backend, url: results.extend(
                bench_backend(backend, url, workdir, args.sizes, args)
            ),
        )
    say(f"load average at the end: {_load()} (other work on the machine skews the figures)")
    say("")
    if results:
        say(table(results))
        if args.only != "fetches":
            say("")
            for text in under_load(results, args.concurrency):
                say(text)
    for note in skipped:
        say(note)
    say(
        f"targets (on a 2-core machine, not asserted): full fetch of {TARGET_SIZE:,} entries "
        f"< {TARGET_FULL_MS:g} ms, one-change delta < {TARGET_DELTA_MS:g} ms, "
        f"accept < {TARGET_ACCEPT_MS:g} ms, 304 < {TARGET_NOT_MODIFIED_MS:g} ms, compressed "
        f"full fetch < {TARGET_WIRE_BYTES / 1000:,.0f} KB on the wire and at most "
        f"+{TARGET_COMPRESSION_COST:.0%} of the uncompressed fetch's time (its target column)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
