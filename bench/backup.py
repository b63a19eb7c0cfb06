"""What `circlebook backup` and `restore` cost, beside reading the same rows bare.

    python -m bench.backup [--members 10000]

A book of `--members` accepted members is written straight into the tables (as
bench.seed does) on each backend, backed up, and the backup restored into an
empty database of the other backend. Beside each figure, a reference from the
same run: a bare `SELECT *` of every table on the source (what any backup must
at least read) and a bare parse of the backup file (what any restore must at
least read). The target, ours, is printed beside them and never asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from bench import seed
from bench.databases import BackendUnavailable, postgres_database, sqlite_database
from circlebook.services.clock import stamp
from circlebook.services.ids import new_id
from circlebook.storage.archive import ArchiveReader
from circlebook.storage.backup import back_up
from circlebook.storage.database import make_engine
from circlebook.storage.restore import restore
from circlebook.storage.schema import books, metadata

# Ours: a 10,000-member book is backed up, and restored, each within 10 s.
TARGET_SECONDS = 10.0


def say(line: str) -> None:
    print(line, flush=True)


def fill(url: str, members: int) -> int:
    """A book of `members` members and its owner; the number of rows written."""
    engine = make_engine(url)
    try:
        pool = seed.insert_pool(engine, members + 1)
        owner, at = pool[-1], stamp(datetime.now(UTC))
        book_id = new_id("b")
        with engine.begin() as conn:
            conn.execute(
                insert(books).values(
                    id=book_id,
                    title="Bench",
                    owner_id=owner.id,
                    version=0,
                    created_at=at,
                    updated_at=at,
                )
            )
        seed.insert_members(engine, book_id, pool[:-1])
        with engine.connect() as conn:
            return sum(
                int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in metadata.sorted_tables
            )
    finally:
        engine.dispose()


def bare_read(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                conn.execute(select(table)).all()
    finally:
        engine.dispose()


def bare_parse(path: Path) -> None:
    with path.open("rb") as stream:
        reader = ArchiveReader(stream)
        for table in reader.tables():
            for _ in table.batches:
                pass


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(source: str, target: str, members: int, workdir: Path, names: tuple[str, str]) -> None:
    rows = fill(source, members)
    path = workdir / f"{names[0]}.backup"
    read_s = timed(lambda: bare_read(source))
    backup_s = timed(lambda: back_up(source, path))
    parse_s = timed(lambda: bare_parse(path))
    restore_s = timed(lambda: restore(target, path))
    size = path.stat().st_size / 1024 / 1024
    say(
        f"{names[0]} -> {names[1]}: {rows} rows, file {size:.1f} MiB\n"
        f"  backup  {backup_s:6.2f} s ({rows / backup_s:8.0f} rows/s)   "
        f"reference: bare SELECT of every table {read_s:.2f} s   target < {TARGET_SECONDS:g} s\n"
        f"  restore {restore_s:6.2f} s ({rows / restore_s:8.0f} rows/s)   "
        f"reference: bare parse of the file {parse_s:.2f} s   target < {TARGET_SECONDS:g} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args(argv)
    say(f"circlebook backup and restore, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    say(f"{os.cpu_count()} CPUs; load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="circlebook-backup-") as tmp:
        workdir = Path(tmp)
        try:
            with postgres_database() as pg, postgres_database() as pg_target:
                (workdir / "a").mkdir()
                (workdir / "b").mkdir()
                with sqlite_database(workdir / "a") as lite:
                    run(lite, pg_target, args.members, workdir, ("SQLite", "PostgreSQL"))
                with sqlite_database(workdir / "b") as lite_target:
                    run(pg, lite_target, args.members, workdir, ("PostgreSQL", "SQLite"))
        except BackendUnavailable as exc:
            say(f"skipped: {exc}")
            return 1
    say(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
