"""`make bench-peers`: circlebook beside Radicale and Xandikos, the same people in each, one run.

    python -m bench.peers [--sizes 100,1000,10000] [--quick] [--connections 32]
                          [--servers circlebook,radicale,xandikos]

For each size every server is started afresh on 127.0.0.1 with storage of its
own: circlebook (`circlebook serve` on SQLite, seeded as `make bench` does: an
owner and a member signed in through the API, the book created and the member
accepted through the API, the rest written straight into the tables), Radicale
and Xandikos (installed from PyPI into `.bench-peers/venv`, never into the
project's environment; the same N people as vCards: Radicale's PUT in one bulk
upload of the collection, Xandikos' committed to its git store in one commit,
since its PUT commits each card and 1,000 one by one took two minutes). Seeding
time is shown but is not part of any figure.

Then, over HTTP with keep-alive, each is asked the same things a contacts app
asks: the initial sync (sync-collection with no token, then addressbook-multiget
of every card in batches of 1,000), a one-change sync (one card changed, then
sync-collection from the token before it), a full fetch (addressbook-query with
no filter; for circlebook also its JSON `GET /v1/books/{id}/entries`), adding
one person (a PUT of one vCard; circlebook's CardDAV is read-only, so there the
JSON invite and accept), the CTag poll (PROPFIND Depth 0) as requests per second
from a concurrent client, for circlebook also `GET /v1/me`, and the server's
resident memory at the end. Targets are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx
from sqlalchemy import Engine

from bench import dav_timings as dav
from bench import peer_servers, seed
from bench.databases import sqlite_database
from bench.run import _load, _sizes, _stop_on_sigterm, say
from bench.server import server_process
from bench.stats import Sample
from circlebook.storage.database import make_engine

SERVERS = ("circlebook", "radicale", "xandikos")
TARGET_SIZE = 10_000
# Radicale takes 8 connections at once by default, and closed some of 32 even with
# that raised: a load every server here answers whole.
CONNECTIONS = 8
# How many times faster than each peer circlebook should be at 10,000 people.
TARGETS = {
    "initial": {"Radicale": 20.0, "Xandikos": 10.0},
    "query": {"Radicale": 20.0, "Xandikos": 10.0},
    "json": {"Radicale": 20.0, "Xandikos": 10.0},
    "change": {"Radicale": 100.0, "Xandikos": 100.0},
}


@dataclass(frozen=True)
class Plan:
    """How many times to repeat each measurement, and when a slow server has had enough."""

    runs: int = 20
    change_runs: int = 200
    add_runs: int = 30
    budget_s: float = 20.0
    # A rate runs for `rate_seconds` with wrk, or `requests` times with the httpx fallback.
    requests: int = 3000
    rate_seconds: float = 10.0
    connections: int = CONNECTIONS

    @classmethod
    def quick(cls, connections: int = CONNECTIONS) -> Plan:
        return cls(
            runs=5,
            change_runs=30,
            add_runs=5,
            budget_s=3.0,
            requests=300,
            rate_seconds=3.0,
            connections=connections,
        )


@dataclass
class Figures:
    """One server's figures at one size: timing samples by row, memory, seeding time."""

    server: str
    version: str
    size: int
    seed_s: float = 0.0
    samples: dict[str, Sample | dav.Rate] = field(default_factory=dict)
    rss_mib: float = 0.0


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    rate: bool = False
    # For a circlebook-only row, the peers' row it is set against (JSON fetch: their REPORT).
    peer_key: str = ""


def rows(connections: int) -> list[Row]:
    return [
        Row("initial", "initial sync: sync-collection + multiget, p50 ms"),
        Row("change", "one-change sync: sync-collection from last token, p50 ms"),
        Row("query", "full fetch: addressbook-query REPORT, p50 ms"),
        Row("json", "full fetch: JSON GET /v1/books/{id}/entries, p50 ms", peer_key="query"),
        Row("add", "add one person, p50 ms (see below)"),
        Row("poll", f"CTag poll PROPFIND Depth 0, {connections} conns, req/s", rate=True),
        Row("me", f"GET /v1/me, {connections} conns, req/s", rate=True, peer_key="poll"),
    ]


def _line(figures: Figures, key: str, sample: Sample | dav.Rate) -> str:
    if not sample.runs:
        return f"[{figures.server} {figures.size:,}] {key}: no answer in {sample.wall:.0f} s"
    tail = ""
    if isinstance(sample, dav.Rate):
        tail = f", {sample.per_second:,.0f} req/s ({sample.client})"
        tail += f", {sample.dropped} dropped" if sample.dropped else ""
    return (
        f"[{figures.server} {figures.size:,}] {key}: p50 {sample.p50_ms:.2f} ms, "
        f"p95 {sample.p95_ms:.2f} ms, {sample.runs} runs{tail}"
    )


def measure_dav(
    figures: Figures, book: dav.AddressBook, change: Callable[[], None], plan: Plan
) -> None:
    """The CardDAV figures, the same for every server; `change` alters exactly one card."""
    size, path = figures.size, book.path

    def keep(key: str, sample: Sample | dav.Rate) -> None:
        figures.samples[key] = sample
        say(_line(figures, key, sample))

    with book.client() as client:
        cards, token = dav.initial_sync(client, path)
        if cards != size:
            raise RuntimeError(f"{book.server}: the initial sync holds {cards} cards, not {size}")
        keep(
            "initial",
            dav.timed(
                lambda: dav.initial_sync(client, path), runs=plan.runs, budget_s=plan.budget_s
            ),
        )
        change()
        changed, _ = dav.sync(client, path, token)
        if len(changed) != 1:
            raise RuntimeError(f"{book.server}: the one-change sync names {len(changed)} cards")
        keep(
            "change",
            dav.timed(
                lambda: dav.sync(client, path, token),
                runs=plan.change_runs,
                budget_s=plan.budget_s,
                warmup=3,
            ),
        )
        if (found := dav.query_all(client, path)) != size:
            raise RuntimeError(f"{book.server}: addressbook-query holds {found} cards, not {size}")
        keep(
            "query",
            dav.timed(lambda: dav.query_all(client, path), runs=plan.runs, budget_s=plan.budget_s),
        )
    poll = dav.Request("PROPFIND", path, 207, dav.POLL, {**dav.XML, "Depth": "0"})
    keep(
        "poll",
        dav.rate(
            book.base_url,
            poll,
            total=plan.requests,
            seconds=plan.rate_seconds,
            connections=plan.connections,
            auth=book.auth,
        ),
    )


def measure_peer(start: peer_servers.Starter, name: str, size: int, plan: Plan) -> Figures:
    with (
        tempfile.TemporaryDirectory(prefix=f"circlebook-bench-{name.lower()}-") as tmp,
        start(Path(tmp), size) as peer,
    ):
        figures = Figures(name, peer.version, size, seed_s=peer.seed_s)
        say(f"[{name} {size:,}] up at {peer.book.base_url}; {size:,} people in {peer.seed_s:.1f} s")
        with peer.book.client() as client:
            measure_dav(
                figures,
                peer.book,
                lambda: peer_servers.put_card(client, peer.book, 1, "Renamed Member"),
                plan,
            )
            added = iter(range(size, size + plan.add_runs + 1))
            figures.samples["add"] = dav.timed(
                lambda: peer_servers.put_card(client, peer.book, next(added)),
                runs=plan.add_runs,
                budget_s=plan.budget_s,
            )
        say(_line(figures, "add", figures.samples["add"]))
        figures.rss_mib = dav.resident_mib(peer.pid)
    return figures


def measure_circlebook(size: int, plan: Plan, cb_version: str = "") -> Figures:
    """circlebook's figures at `size` on a fresh SQLite database and server."""
    if size < 3:
        raise ValueError("a circlebook book here holds at least 3 (owner, member, one more)")
    figures = Figures("circlebook", cb_version or _circlebook_version(), size)
    with tempfile.TemporaryDirectory(prefix="circlebook-bench-peers-") as tmp:
        workdir = Path(tmp)
        outbox, log = workdir / "outbox.jsonl", workdir / "server.log"
        with sqlite_database(workdir) as url:
            engine = make_engine(url)
            try:
                with (
                    server_process(url, secrets.token_urlsafe(32), outbox, log) as server,
                    httpx.Client(base_url=server.base_url, timeout=600) as client,
                ):
                    _measure_circlebook(
                        figures, server.base_url, server.pid, client, engine, plan, outbox
                    )
            finally:
                engine.dispose()
    return figures


def _measure_circlebook(
    figures: Figures,
    base_url: str,
    pid: int,
    client: httpx.Client,
    engine: Engine,
    plan: Plan,
    outbox: Path,
) -> None:
    size = figures.size
    say(f"[circlebook {size:,}] up at {base_url}; seeding {size:,} entries")
    t0 = time.perf_counter()
    owner = seed.sign_in(client, outbox, seed.OWNER_PHONE, "Bench Owner")
    member = seed.sign_in(client, outbox, seed.MEMBER_PHONE, "Bench Member")
    book_id, _ = seed.create_book(client, owner, member, size)
    other = seed.insert_members(engine, book_id, seed.insert_pool(engine, size - 2))
    made = client.post("/v1/app-passwords", headers=member.headers, json={"label": "bench"})
    password = str(dav.expect(made, 201).json()["password"])
    joiners = seed.insert_signed_in(engine, plan.add_runs + 1)
    figures.seed_s = time.perf_counter() - t0
    say(f"[circlebook {size:,}] seeded in {figures.seed_s:.1f} s")

    book = dav.AddressBook(
        "circlebook",
        base_url,
        f"/dav/addressbooks/{member.account_id}/{book_id}/",
        (member.phone, password),
    )

    def rename() -> None:
        url = f"/v1/books/{book_id}/entries/{other}"
        dav.expect(client.patch(url, headers=owner.headers, json={"name": "Renamed"}), 200)

    measure_dav(figures, book, rename, plan)

    entries = f"/v1/books/{book_id}/entries"
    seen = len(dav.expect(client.get(entries, headers=member.headers), 200).json()["entries"])
    if seen != size:
        raise RuntimeError(f"circlebook: the member sees {seen} entries, not {size}")
    figures.samples["json"] = dav.timed(
        lambda: dav.expect(client.get(entries, headers=member.headers), 200),
        runs=plan.runs,
        budget_s=plan.budget_s,
    )
    say(_line(figures, "json", figures.samples["json"]))

    me = dav.Request("GET", "/v1/me", 200, headers=member.headers)
    figures.samples["me"] = dav.rate(
        base_url,
        me,
        total=plan.requests,
        seconds=plan.rate_seconds,
        connections=plan.connections,
    )
    say(_line(figures, "me", figures.samples["me"]))

    people = iter(joiners)

    def invite_and_accept() -> None:
        person = next(people)
        (invitation,) = seed.invite(client, owner, book_id, [person]).values()
        accepted = client.post(f"/v1/invitations/{invitation}/accept", headers=person.headers)
        dav.expect(accepted, 200)

    figures.samples["add"] = dav.timed(
        invite_and_accept, runs=plan.add_runs, budget_s=plan.budget_s
    )
    say(_line(figures, "add", figures.samples["add"]))
    figures.rss_mib = dav.resident_mib(pid)


def _circlebook_version() -> str:
    try:
        return version("circlebook")
    except PackageNotFoundError:
        return "?"


def _advantage(
    row: Row, ours: Sample | dav.Rate | None, theirs: Sample | dav.Rate | None
) -> float | None:
    """How many times circlebook is ahead: their time over ours, or our rate over theirs."""
    if ours is None or theirs is None:
        return None
    if row.rate:
        if not theirs.per_second and theirs.wall:
            # Nothing answered within the run: their rate was under one per run.
            return ours.per_second * theirs.wall
        return ours.per_second / theirs.per_second if theirs.per_second else None
    return theirs.p50_ms / ours.p50_ms if ours.p50_ms else None


def _comparisons(
    row: Row, ours: Figures, peers: list[Figures], at_target: bool
) -> tuple[list[str], list[str]]:
    """A row's `vs peer` cells, and its targets against each peer with whether they were met."""
    targets = TARGETS.get(row.key, {})
    cells: list[str] = []
    goals: list[str] = []
    for p in peers:
        theirs = p.samples.get(row.peer_key or row.key)
        adv = _advantage(row, ours.samples.get(row.key), theirs)
        at_least = row.rate and theirs is not None and not theirs.runs
        cells.append("" if adv is None else f"{'>' if at_least else ''}{adv:,.1f}x")
        want = targets.get(p.server)
        if want:
            verdict = ""
            if at_target and adv is not None:
                verdict = " met" if adv >= want else " NOT met"
            goals.append(f"{p.server} >= {want:g}x{verdict}")
    return cells, goals


def table(size: int, everyone: list[Figures], connections: int) -> str:
    ours = next((f for f in everyone if f.server == "circlebook"), None)
    peers = [f for f in everyone if f.server != "circlebook"]
    head = ["measurement", *(f.server for f in everyone)]
    if ours:
        head += [f"vs {p.server}" for p in peers]
    at_target = size == TARGET_SIZE
    judged = bool(ours and peers)
    if judged:
        head.append(f"target at {TARGET_SIZE:,}")
    grid: list[list[str]] = [head]
    for row in rows(connections):
        cells = [row.label]
        for f in everyone:
            # A peer has no JSON API: its figure to compare is in the row `peer_key` names.
            mine = f.server == "circlebook" or not row.peer_key
            cells.append(_cell(row, f.samples.get(row.key) if mine else None))
        if ours:
            advantages, goals = _comparisons(row, ours, peers, at_target)
            cells += advantages
            if judged:
                cells.append("; ".join(goals))
        grid.append(cells)
    memory = ["resident memory at the end, MiB", *(f"{f.rss_mib:,.0f}" for f in everyone)]
    if ours:
        memory += [f"{p.rss_mib / ours.rss_mib:,.2f}x" if ours.rss_mib else "" for p in peers]
    grid.append(memory + [""] * (len(head) - len(memory)))
    seeding = ["seeding, s (not in any figure)", *(f"{f.seed_s:,.1f}" for f in everyone)]
    grid.append(seeding + [""] * (len(head) - len(seeding)))
    widths = [max(len(r[i]) for r in grid) for i in range(len(head))]
    left = {0, len(head) - 1} if judged else {0}

    def fmt(r: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths).rstrip()
    return "\n".join([f"{size:,} people", fmt(grid[0]), rule, *(fmt(r) for r in grid[1:])])


def _cell(row: Row, sample: Sample | dav.Rate | None) -> str:
    if sample is None:
        return "-"
    if not row.rate:
        return f"{sample.p50_ms:,.2f}"
    if not sample.runs:
        return f"none in {sample.wall:.0f} s"
    dropped = sample.dropped if isinstance(sample, dav.Rate) else 0
    return f"{sample.per_second:,.0f}" + (f" ({dropped} dropped)" if dropped else "")


def _rate_how(plan: Plan) -> str:
    if dav.rate_client() == "wrk":
        return f"wrk for {plan.rate_seconds:g} s"
    return f"an asyncio httpx client, {plan.requests:,} requests (install wrk for a lighter one)"


def _servers(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names or any(n not in SERVERS for n in names):
        raise argparse.ArgumentTypeError(f"servers are {', '.join(SERVERS)}")
    return [n for n in SERVERS if n in names]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peers", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="people per address book, comma-separated (default 100,1000,10000)",
    )
    parser.add_argument("--quick", action="store_true", help="100 people only, few runs")
    parser.add_argument(
        "--servers", type=_servers, default=list(SERVERS), help="circlebook,radicale,xandikos"
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=CONNECTIONS,
        help=f"connections for the req/s figures ({CONNECTIONS})",
    )
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = [100] if args.quick else [100, 1_000, 10_000]
    if args.sizes[0] < 3:
        parser.error("--sizes are at least 3 (circlebook's owner, member and one more)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    seed.check_phones(seed.member_phone(max(args.sizes) + 100), seed.joiner_phone(1000))
    plan = Plan.quick(args.connections) if args.quick else Plan(connections=args.connections)
    peer_names = [n for n in args.servers if n != "circlebook"]
    starters = {}
    found: dict[str, str] = {}
    if peer_names:
        bin_dir = peer_servers.peer_venv(say=say)
        found = peer_servers.versions(bin_dir)
        starters = peer_servers.starters(bin_dir, found)
    cb_version = _circlebook_version()
    say(
        f"circlebook vs CardDAV peers, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {_load()}"
    )
    say(
        f"versions: circlebook {cb_version}"
        + "".join(f", {name.capitalize()} {found[name]}" for name in peer_names)
    )
    say(
        "client: httpx with keep-alive, on the same cores as the server; times from request "
        f"to last byte; req/s over {plan.connections} connections from {_rate_how(plan)}"
    )
    started = time.perf_counter()
    tables = []
    for size in args.sizes:
        everyone: list[Figures] = []
        for name in args.servers:
            if name == "circlebook":
                everyone.append(measure_circlebook(size, plan, cb_version))
            else:
                label = name.capitalize()
                everyone.append(measure_peer(starters[label], label, size, plan))
        tables.append(table(size, everyone, plan.connections))
        say("")
        say(tables[-1])
        say("")
    say(f"load average at the end: {_load()}; {time.perf_counter() - started:.0f} s in all")
    say("")
    for text in tables:
        say(text)
        say("")
    say(
        "vs X: how many times circlebook is ahead of X (X's p50 over circlebook's, circlebook's "
        "req/s over X's, X's memory over circlebook's); the JSON fetch is set against X's "
        "addressbook-query and GET /v1/me against X's CTag poll"
    )
    say(
        "add one person: Radicale and Xandikos take a PUT of one vCard; circlebook, whose "
        "CardDAV is read-only, the JSON invite and the invitee's accept (two requests)"
    )
    say(
        f"targets at {TARGET_SIZE:,} people (printed, not asserted): full fetch and initial "
        "sync at least 20x Radicale and 10x Xandikos, one-change sync at least 100x both"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
