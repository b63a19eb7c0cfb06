"""`make bench-small`: what a small request costs, beside a bare Starlette endpoint in the same run.

    python -m bench.small [--seconds 10] [--connections 50] [--profile DIR]

This starts `circlebook serve` (one uvicorn worker, SQLite) and a bare Starlette
app with one route returning about 1 KB of JSON through orjson, run by uvicorn
with the same settings (one worker, the same event loop, log configuration and
access log).
A load generator holds `--connections` keep-alive connections open for
`--seconds` on each target in turn: wrk when it is on PATH (`wrk -t2`), else an
asyncio httpx client. The targets are printed beside their same-run reference,
never asserted. With `--profile DIR`, py-spy records circlebook's process
during each of its loads (DIR/<target>.txt, in py-spy's raw collapsed form).

Then the owner's full fetch of a book of `--floor-size` entries (10,000; 0
skips it) is timed beside its floor, in the same run and on the same SQLite
file: a route of the same bare app that selects the same columns of the same
rows with the standard library's sqlite3 and returns them through orjson, with
no sign-in, visibility rule or mapping. The two are asked in turn, one request
at a time over keep-alive, uncompressed, so that other work on the machine
weighs on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from bench import seed
from bench.databases import sqlite_database
from bench.server import BIN, Server, _die_with_parent, _stop, free_port, server_process
from bench.stats import Sample
from circlebook.storage.database import make_engine

TARGET_RATE = 0.25  # of the bare endpoint's req/s
TARGET_P99 = 4.0  # times the bare endpoint's p99
TARGET_FLOOR = 1.5  # the full fetch's p50, times its floor's
FLOOR_WARMUP, FLOOR_RUNS = 5, 60
# What the floor selects: the columns of a full fetch (storage.entries.VIEW_ROW),
# in its order.
FLOOR_QUERY = (
    "SELECT entries.id, accounts.phone, entries.name, entries.tags, entries.role,"
    " entries.created_at, entries.updated_at"
    " FROM entries JOIN accounts ON accounts.id = entries.account_id"
    " WHERE entries.book_id = ? ORDER BY entries.created_at, entries.id"
)
FLOOR_KEYS = ("id", "phone", "name", "tags", "role", "created_at", "updated_at")
PROPFIND_CTAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><cs:getctag/><d:sync-token/></d:prop></d:propfind>"
)


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    expect: int = 200
    # Whether the target applies to this one.
    judged: bool = False


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# --- the bare reference ---------------------------------------------------------------


def bare_app(floor_db: str | None = None) -> object:
    """One route, about 1 KB of JSON serialised by orjson: the floor a small request sits on.

    With `floor_db` (an SQLite file), also `/floor/{book_id}`: the book's rows as
    a full fetch selects them, returned through orjson (see `FLOOR_QUERY`).
    """
    import sqlite3

    import orjson
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    document = {
        "id": "a_0123456789",
        "phone": "+8613800000000",
        "name": "Bench Owner",
        "created_at": "2026-12-04T18:00:00.000000Z",
        "items": [{"n": n, "label": f"item number {n:03d}", "on": n % 2 == 0} for n in range(22)],
    }

    async def small(_: Request) -> Response:
        return Response(orjson.dumps(document), media_type="application/json")

    def floor(request: Request) -> Response:
        # A plain def, run in a worker thread as circlebook's reads are.
        with sqlite3.connect(f"file:{floor_db}?mode=ro", uri=True) as conn:
            rows = conn.execute(FLOOR_QUERY, (request.path_params["book_id"],)).fetchall()
        body = {"entries": [dict(zip(FLOOR_KEYS, row, strict=True)) for row in rows]}
        return Response(orjson.dumps(body), media_type="application/json")

    routes = [Route("/small", small)]
    if floor_db is not None:
        routes.append(Route("/floor/{book_id}", floor))
    return Starlette(routes=routes)


def serve_bare(port: int, floor_db: str | None) -> None:
    """In the child process: the bare app under uvicorn, set up as `circlebook serve` sets it up."""
    import uvicorn

    from circlebook.observe.logs import log_config
    from circlebook.serving import EVENT_LOOP

    uvicorn.run(
        bare_app(floor_db),  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="info",
        log_config=log_config(),
        loop=EVENT_LOOP,
    )


@contextmanager
def bare_process(log: Path, floor_db: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "python"), "-m", "bench.small", "--bare-server", str(port)]
    command += ["--floor-db", str(floor_db)]
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=url, timeout=2) as client:
            while True:
                try:
                    client.get("/small")
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the bare app did not start:\n{log.read_text()}"
                        ) from None
                    time.sleep(0.1)
        yield url, proc.pid
    finally:
        _stop(proc)


# --- load generators --------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _lua(target: Target) -> str:
    lines = [f'wrk.method = "{target.method}"']
    for name, value in target.headers:
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    if target.body:
        lines.append(f"wrk.body = [[{target.body}]]")
    return "\n".join(lines) + "\n"


def with_wrk(wrk: str, base: str, target: Target, seconds: float, connections: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(target))
    try:
        out = subprocess.run(
            [
                wrk,
                "-t2",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--latency",
                "-s",
                script.name,
                base + target.path,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script.name)
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if not (done and p50 and p99):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Load(
        requests=int(done.group(1)),
        seconds=_ms(done.group(2) + done.group(3)) / 1000,
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        errors=failed,
    )


async def _httpx_load(base: str, target: Target, seconds: float, connections: int) -> Load:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            response = await client.request(
                target.method,
                target.path,
                headers=dict(target.headers),
                content=target.body or None,
            )
            latencies.append(time.perf_counter() - t0)
            if response.status_code != target.expect:
                errors += 1

        async def worker(deadline: float) -> None:
            while time.perf_counter() < deadline:
                await one()

        await asyncio.gather(*(one() for _ in range(connections)))  # open the connections
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker(started + seconds) for _ in range(connections)))
        wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Load(len(latencies), wall, cuts[49] * 1000, cuts[98] * 1000, errors)


def with_httpx(base: str, target: Target, seconds: float, connections: int) -> Load:
    return asyncio.run(_httpx_load(base, target, seconds, connections))


# --- the run ----------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def check(base: str, target: Target) -> None:
    """One request first: a target that answers the wrong status would measure nothing."""
    response = httpx.request(
        target.method,
        base + target.path,
        headers=dict(target.headers),
        content=target.body or None,
        timeout=30,
    )
    if response.status_code != target.expect:
        raise RuntimeError(
            f"{target.name} answered {response.status_code}, expected {target.expect}: "
            f"{response.text[:300]}"
        )


@contextmanager
def profiling(out: Path | None, pid: int, seconds: float) -> Iterator[None]:
    """py-spy records `pid` while the block runs, if `out` is given."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    command = [spy, "record", "-d", f"{max(1, int(seconds) - 1)}", "-r", "250"]
    command += ["--format", "raw", "--nonblocking", "-o", str(out), "-p", str(pid)]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def table(results: list[tuple[Target, Load]], bare: Load) -> str:
    head = ("measurement", "req/s", "p50 ms", "p99 ms", "req/s ÷ bare", "p99 ÷ bare", "target", "")
    rows: list[tuple[str, ...]] = [head]
    for target, load in results:
        rate = load.per_second / bare.per_second
        tail = load.p99_ms / bare.p99_ms
        goal, verdict = "", ""
        if target.judged:
            goal = f">= {TARGET_RATE:.0%}, p99 < {TARGET_P99:g}x"
            verdict = "met" if rate >= TARGET_RATE and tail < TARGET_P99 else "NOT met"
        if load.errors:
            verdict += f" ({load.errors:,} errors)"
        rows.append(
            (
                target.name,
                f"{load.per_second:,.0f}",
                f"{load.p50_ms:.2f}",
                f"{load.p99_ms:.2f}",
                f"{rate:.0%}",
                f"{tail:.2f}x",
                goal,
                verdict.strip(),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    left = {0, 6, 7}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(rows[0]), rule, *(fmt(row) for row in rows[1:])])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.small", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per target (default 10)")
    parser.add_argument("--connections", type=int, default=50, help="open at once (default 50)")
    parser.add_argument(
        "--profile", type=Path, default=None, help="a folder for py-spy's profiles of circlebook"
    )
    parser.add_argument(
        "--load", choices=("auto", "wrk", "httpx"), default="auto", help="load generator"
    )
    parser.add_argument(
        "--floor-size",
        type=int,
        default=10_000,
        help="entries in the book whose full fetch is timed beside its floor (default 10000; 0: "
        "skip it)",
    )
    parser.add_argument("--bare-server", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--floor-db", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _stop_on_sigterm() -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def app_password_basic(client: httpx.Client, member: seed.Person) -> str:
    """Basic credentials for CardDAV: an app password made for `member`."""
    made = client.post("/v1/app-passwords", headers=member.headers, json={"label": "bench phone"})
    if made.status_code != 201:
        raise RuntimeError(f"could not make an app password: {made.text[:300]}")
    return base64.b64encode(
        f"{made.json()['user_name']}:{made.json()['password']}".encode()
    ).decode()


def measured_targets(member: seed.Person, book_id: str, basic: str) -> list[Target]:
    """The requests to load circlebook with, each answered as it is in use."""
    bearer = (("Authorization", f"Bearer {member.token}"),)
    return [
        Target("GET /v1/health", "/v1/health"),
        Target("GET /v1/me (bearer)", "/v1/me", headers=bearer, judged=True),
        Target(
            "GET /v1/books/{id} (bearer)",
            f"/v1/books/{book_id}",
            headers=bearer,
            judged=True,
        ),
        Target(
            "PROPFIND Depth 0, CTag (Basic)",
            f"/dav/addressbooks/{member.account_id}/{book_id}/",
            method="PROPFIND",
            headers=(
                ("Authorization", f"Basic {basic}"),
                ("Depth", "0"),
                ("Content-Type", "application/xml; charset=utf-8"),
            ),
            body=PROPFIND_CTAG,
            expect=207,
            judged=True,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bare_server is not None:
        serve_bare(args.bare_server, args.floor_db)
        return 0
    _stop_on_sigterm()
    wrk = shutil.which("wrk") if args.load in ("auto", "wrk") else None
    if args.load == "wrk" and wrk is None:
        say("wrk is not on PATH")
        return 2
    generator = f"wrk -t2 -c{args.connections}" if wrk else f"httpx, {args.connections} connections"
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)

    def load(base: str, target: Target) -> Load:
        if wrk:
            return with_wrk(wrk, base, target, args.seconds, args.connections)
        return with_httpx(base, target, args.seconds, args.connections)

    say(f"circlebook small requests, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    say(f"{os.cpu_count()} CPUs; before: {uptime()}")
    say(
        f"server: one uvicorn worker each, SQLite, access log on; load: {generator}, "
        f"{args.seconds:g} s per target, server and load on the same cores"
    )
    with tempfile.TemporaryDirectory(prefix="circlebook-small-") as tmp:
        workdir = Path(tmp)
        outbox = workdir / "outbox.jsonl"
        with (
            sqlite_database(workdir) as database_url,
            server_process(
                database_url, secrets.token_urlsafe(32), outbox, workdir / "server.log"
            ) as server,
            bare_process(workdir / "bare.log", workdir / "circlebook.db") as (bare_url, bare_pid),
            httpx.Client(base_url=server.base_url, timeout=30) as client,
        ):
            owner = seed.sign_in(client, outbox, seed.OWNER_PHONE, "Bench Owner")
            member = seed.sign_in(client, outbox, seed.MEMBER_PHONE, "Bench Member")
            book_id, _ = seed.create_book(client, owner, member, 2)
            basic = app_password_basic(client, member)
            bare = Target("bare Starlette, 1 KB JSON (reference)", "/small")
            targets = measured_targets(member, book_id, basic)
            check(bare_url, bare)
            for target in targets:
                check(server.base_url, target)
            results: list[tuple[Target, Load]] = []
            bare_load = load(bare_url, bare)
            say(f"  {bare.name}: {bare_load.per_second:,.0f} req/s")
            results.append((bare, bare_load))
            for n, target in enumerate(targets):
                out = args.profile / f"{n}-{_slug(target.name)}.txt" if args.profile else None
                with profiling(out, server.pid, args.seconds):
                    measured = load(server.base_url, target)
                say(f"  {target.name}: {measured.per_second:,.0f} req/s")
                results.append((target, measured))
            fetches = (
                full_fetch_beside_floor(
                    database_url,
                    client,
                    owner,
                    member,
                    (server, Server(bare_url, bare_pid)),
                    args.floor_size,
                )
                if args.floor_size
                else None
            )
    say("")
    say(table(results, bare_load))
    say("")
    if fetches is not None:
        say(floor_table(fetches, args.floor_size))
        say("")
    say(f"after: {uptime()}")
    if args.profile is not None:
        say(f"profiles of circlebook under each load: {args.profile}/")
    return 0


@dataclass
class FloorFetches:
    floor: Sample
    circlebook: Sample
    floor_bytes: int
    circlebook_bytes: int
    # Each server's CPU time over its timed requests, in seconds: other work on the
    # machine stretches the wall times, much less these.
    floor_cpu: float = 0.0
    circlebook_cpu: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User and system time `pid` has used so far (Linux /proc), 0.0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); here, after the name, 12 and 13.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def full_fetch_beside_floor(
    database_url: str,
    client: httpx.Client,
    owner: seed.Person,
    member: seed.Person,
    servers: tuple[Server, Server],
    size: int,
) -> FloorFetches:
    """The owner's full fetch of a book of `size` and its floor's, asked in turn."""
    engine = make_engine(database_url)
    try:
        book_id, _ = seed.create_book(client, owner, member, size)
        seed.insert_members(engine, book_id, seed.insert_pool(engine, size - 2))
    finally:
        engine.dispose()
    plain = {"Accept-Encoding": "identity"}
    server, bare_server = servers
    with (
        httpx.Client(
            base_url=server.base_url, headers={**owner.headers, **plain}, timeout=60
        ) as ours,
        httpx.Client(base_url=bare_server.base_url, headers=plain, timeout=60) as bare,
    ):
        url, floor_url = f"/v1/books/{book_id}/entries", f"/floor/{book_id}"
        answer, floor_answer = ours.get(url), bare.get(floor_url)
        counted = (len(answer.json()["entries"]), len(floor_answer.json()["entries"]))
        if answer.status_code != 200 or counted != (size, size):
            raise RuntimeError(f"the fetches did not answer {size} entries: {counted}")
        fetches = FloorFetches(Sample(), Sample(), len(floor_answer.content), len(answer.content))
        for n in range(FLOOR_WARMUP + FLOOR_RUNS):
            if n == FLOOR_WARMUP:
                cpu = (cpu_seconds(bare_server.pid), cpu_seconds(server.pid))
            for sample, fetch in ((fetches.floor, bare), (fetches.circlebook, ours)):
                t0 = time.perf_counter()
                got = fetch.get(floor_url if fetch is bare else url)
                took = time.perf_counter() - t0
                if got.status_code != 200:
                    raise RuntimeError(f"{got.request.url.path} answered {got.status_code}")
                if n >= FLOOR_WARMUP:
                    sample.seconds.append(took)
        fetches.floor_cpu = cpu_seconds(bare_server.pid) - cpu[0]
        fetches.circlebook_cpu = cpu_seconds(server.pid) - cpu[1]
    return fetches


def floor_table(fetches: FloorFetches, size: int) -> str:
    floor = fetches.floor.p50_ms
    floor_cpu = fetches.floor_cpu or float("nan")
    rows = [
        (
            "measurement",
            "p50 ms",
            "p95 ms",
            "KB",
            "server CPU ms",
            "p50 ÷ floor",
            "CPU ÷ floor",
            "target",
            "",
        ),
        (
            f"floor: bare Starlette, sqlite3, orjson, {size:,} rows",
            f"{floor:.2f}",
            f"{fetches.floor.p95_ms:.2f}",
            f"{fetches.floor_bytes / 1000:,.0f}",
            f"{fetches.floor_cpu / FLOOR_RUNS * 1000:.2f}",
            "1.00x",
            "1.00x",
            "",
            "",
        ),
    ]
    ratio = fetches.circlebook.p50_ms / floor
    rows.append(
        (
            f"circlebook owner's full fetch, {size:,} entries",
            f"{fetches.circlebook.p50_ms:.2f}",
            f"{fetches.circlebook.p95_ms:.2f}",
            f"{fetches.circlebook_bytes / 1000:,.0f}",
            f"{fetches.circlebook_cpu / FLOOR_RUNS * 1000:.2f}",
            f"{ratio:.2f}x",
            f"{fetches.circlebook_cpu / floor_cpu:.2f}x",
            f"p50 <= {TARGET_FLOOR:g}x",
            "met" if ratio <= TARGET_FLOOR else "NOT met",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    left = {0, 7, 8}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    head = (
        f"full fetch beside its floor: {FLOOR_RUNS} runs each, asked in turn, one at a time, "
        "uncompressed, same SQLite file; server CPU: per request, from /proc"
    )
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([head, fmt(rows[0]), rule, *(fmt(row) for row in rows[1:])])


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]


if __name__ == "__main__":
    sys.exit(main())
