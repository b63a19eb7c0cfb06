"""`python -m bench.dav`: CardDAV sync-collection timings against a real server, per backend.

    python -m bench.dav [--size 10000] [--backends sqlite,postgres] [--scale 1.0]

For each backend this starts `circlebook serve` over a fresh database, signs an
owner and a member in through the API, creates a book with the member invited
and accepted through the API, fills it with bulk members written straight into
the tables (as `make bench` does), and has the member make an app password.
Then, over HTTP with Basic auth and keep-alive, it times what a phone's contacts
app sends: the initial sync-collection REPORT of the whole book (RFC 6578, no
token), a one-change sync-collection after the owner renames one member, and
the Depth: 0 PROPFIND of the book's CTag and sync token that clients poll with.
The targets are printed for comparison, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import seed
from bench.databases import on_each_backend
from bench.dav_timings import POLL, SYNC
from bench.run import BACKENDS, Result, _backends, _load, _stop_on_sigterm, check, line, runs, say
from bench.run import table as results_table
from bench.server import running_server
from bench.stats import measure
from circlebook.storage.database import make_engine

TARGET_CHANGE_MS = 10.0  # a one-change sync-collection, whatever the book's size
TARGET_POLL_MS = 10.0  # the Depth: 0 PROPFIND a client polls with
_TOKEN = re.compile(r"<d:sync-token>([^<]+)</d:sync-token>")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dav", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="entries in the book (10000)")
    parser.add_argument(
        "--backends", type=_backends, default=list(BACKENDS), help="sqlite,postgres (default both)"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the number of runs (default 1.0)"
    )
    args = parser.parse_args(argv)
    if args.size < 3:
        parser.error("--size is at least 3 (the owner, the member and one more)")
    return args


def sync(dav: httpx.Client, path: str, token: str = "") -> tuple[int, str]:
    """Answers in a sync-collection and the new token."""
    response = check(
        dav.request("REPORT", path, content=SYNC.format(token=token), headers={"Depth": "0"}), 207
    )
    found = _TOKEN.search(response.text)
    if found is None:
        raise RuntimeError(f"no sync token in the answer: {response.text[:300]}")
    return response.text.count("<d:response>"), found.group(1)


def app_password(client: httpx.Client, person: seed.Person) -> str:
    made = client.post("/v1/app-passwords", headers=person.headers, json={"label": "bench"})
    return str(check(made, 201).json()["password"])


def bench_backend(
    backend: str, database_url: str, workdir: Path, args: argparse.Namespace
) -> list[Result]:
    outbox, log = workdir / f"{backend}-outbox.jsonl", workdir / f"{backend}-server.log"
    engine = make_engine(database_url)
    try:
        with (
            running_server(database_url, secrets.token_urlsafe(32), outbox, log) as base_url,
            httpx.Client(base_url=base_url, timeout=120) as client,
        ):
            say(f"[{backend}] server up at {base_url}; seeding {args.size:,} entries")
            owner = seed.sign_in(client, outbox, seed.OWNER_PHONE, "Bench Owner")
            member = seed.sign_in(client, outbox, seed.MEMBER_PHONE, "Bench Member")
            book_id, _ = seed.create_book(client, owner, member, args.size)
            other = seed.insert_members(engine, book_id, seed.insert_pool(engine, args.size - 2))
            seed.analyze(engine)
            auth = (member.phone, app_password(client, member))
            path = f"/dav/addressbooks/{member.account_id}/{book_id}/"
            with httpx.Client(base_url=base_url, auth=auth, timeout=120) as dav:
                return run_measurements(backend, client, dav, owner, path, book_id, other, args)
    finally:
        engine.dispose()


def run_measurements(
    backend: str,
    client: httpx.Client,
    dav: httpx.Client,
    owner: seed.Person,
    path: str,
    book_id: str,
    other_entry: str,
    args: argparse.Namespace,
) -> list[Result]:
    size = args.size
    count, token = sync(dav, path)
    if count != size:
        raise RuntimeError(f"the initial sync holds {count} cards, not {size}")
    initial = measure(
        lambda: sync(dav, path), warmup=runs(3, args.scale, 2), runs=runs(30, args.scale)
    )
    results = [Result(backend, f"initial sync-collection, {size:,} cards", initial)]
    say(f"[{backend}] {line(results[-1])}")

    renamed = client.patch(
        f"/v1/books/{book_id}/entries/{other_entry}",
        headers=owner.headers,
        json={"name": "Renamed"},
    )
    check(renamed)
    if sync(dav, path, token)[0] != 1:
        raise RuntimeError("the one-change sync does not hold exactly the one card")
    change = measure(
        lambda: sync(dav, path, token), warmup=runs(20, args.scale), runs=runs(500, args.scale)
    )
    results.append(
        Result(backend, f"one-change sync-collection, {size:,} cards", change, TARGET_CHANGE_MS)
    )
    say(f"[{backend}] {line(results[-1])}")

    def poll() -> None:
        check(dav.request("PROPFIND", path, content=POLL, headers={"Depth": "0"}), 207)

    polled = measure(poll, warmup=runs(20, args.scale), runs=runs(500, args.scale))
    results.append(Result(backend, f"PROPFIND ctag, {size:,} cards", polled, TARGET_POLL_MS))
    say(f"[{backend}] {line(results[-1])}")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    seed.check_phones(seed.OWNER_PHONE, seed.MEMBER_PHONE, seed.member_phone(args.size))
    say(
        f"circlebook CardDAV benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {_load()}"
    )
    say(
        "server: `circlebook serve` (one uvicorn process); client: httpx with keep-alive and "
        "Basic auth (an app password); times from request to last byte"
    )
    results: list[Result] = []
    skipped: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="circlebook-bench-dav-") as tmp:
        workdir = Path(tmp)
        skipped += on_each_backend(
            args.backends,
            workdir,
            say,
            lambda backend, url: results.extend(bench_backend(backend, url, workdir, args)),
        )
    say(f"load average at the end: {_load()}; {time.perf_counter() - started:.0f} s in all")
    say("")
    if results:
        say(results_table(results))
    for note in skipped:
        say(note)
    say(
        f"targets (on a 2-core machine, not asserted): one-change sync-collection "
        f"< {TARGET_CHANGE_MS:g} ms whatever the book's size, ctag poll < {TARGET_POLL_MS:g} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
