"""Backup files on real databases: damaged files are refused whole, counters are carried."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, inspect, select, text

from circlebook.storage import migrate
from circlebook.storage.archive import ArchiveError
from circlebook.storage.backup import BackupError, back_up
from circlebook.storage.database import make_engine
from circlebook.storage.restore import restore
from circlebook.storage.schema import events, metadata
from tests.e2e.dav import book_with
from tests.e2e.live import CIRCLEBOOK
from tests.e2e.test_server_process import clean_env

OWNER, FRIEND = "+8613800139201", "+8613800139202"


@pytest.fixture
def other_backend(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    """An empty database of the backend `database_url` is not."""
    if database_url.startswith("sqlite"):
        url: str = request.getfixturevalue("empty_postgres")
        return url
    return f"sqlite:///{tmp_path / 'target.db'}"


@pytest.fixture
def backup_file(people: Any, database_url: str, tmp_path: Path) -> Path:
    """A backup of a book of two people."""
    book_with(people(OWNER, "Olga"), "Club", [(people(FRIEND, "Fred"), ["red"])])
    path = tmp_path / "circlebook.backup"
    back_up(database_url, path)
    return path


def rows_in(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            return sum(
                int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in metadata.sorted_tables
                if t.name in names
            )
    finally:
        engine.dispose()


def damaged_copies(whole: Path, folder: Path) -> dict[str, Path]:
    data = whole.read_bytes()
    lines = gzip.decompress(data).splitlines(keepends=True)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    copies = {
        "cut in the gzip stream": data[: len(data) // 2],
        "cut after the header": gzip.compress(lines[0]),
        "cut before the last line": gzip.compress(b"".join(lines[:-1])),
        "cut inside a row": gzip.compress(b"".join(lines[:-3]) + lines[-3][:10]),
        "a byte changed": bytes(flipped),
        "not a backup at all": b"name,phone\nOlga,+8613800139201\n",
    }
    paths = {}
    for n, (what, content) in enumerate(copies.items()):
        paths[what] = folder / f"damaged-{n}.backup"
        paths[what].write_bytes(content)
    return paths


def test_a_damaged_backup_is_refused_and_leaves_the_database_empty(
    backup_file: Path, other_backend: str, tmp_path: Path
) -> None:
    for what, path in damaged_copies(backup_file, tmp_path).items():
        with pytest.raises(ArchiveError):
            restore(other_backend, path)
        assert rows_in(other_backend) == 0, what

    restore(other_backend, backup_file)

    assert rows_in(other_backend) > 0


def test_the_command_says_what_is_wrong_with_a_damaged_file_in_one_line(
    backup_file: Path, tmp_path: Path
) -> None:
    damaged = damaged_copies(backup_file, tmp_path)
    for what in ("cut in the gzip stream", "cut inside a row", "not a backup at all"):
        path, target = damaged[what], f"sqlite:///{tmp_path / 'target.db'}"
        done = subprocess.run(
            [*CIRCLEBOOK, "restore", str(path)],
            env=clean_env(CIRCLEBOOK_DATABASE_URL=target),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 1, what
        assert "Traceback" not in done.stderr, what
        assert len(done.stderr.strip().splitlines()) == 1, (what, done.stderr)
        assert done.stderr.startswith("circlebook:"), what


def test_a_backup_from_a_newer_schema_is_refused(backup_file: Path, tmp_path: Path) -> None:
    lines = gzip.decompress(backup_file.read_bytes()).splitlines(keepends=True)
    lines[0] = lines[0].replace(f'"revision":"{migrate.head()}"'.encode(), b'"revision":"9999"')
    newer = tmp_path / "newer.backup"
    newer.write_bytes(gzip.compress(b"".join(lines)))

    with pytest.raises(BackupError, match="newer than this circlebook knows"):
        restore(f"sqlite:///{tmp_path / 'target.db'}", newer)


def test_a_backup_file_is_readable_by_its_owner_alone(backup_file: Path) -> None:
    assert backup_file.stat().st_mode & 0o777 == 0o600


def test_restored_event_ids_continue_past_pruned_ones(
    people: Any, engine: Engine, database_url: str, other_backend: str, tmp_path: Path
) -> None:
    book_with(people(OWNER, "Olga"), "Club", [(people(FRIEND, "Fred"), [])])
    with engine.begin() as conn:
        handed_out = int(conn.scalar(select(func.max(events.c.id))) or 0)
        # As the retention sweep does: the newest ids are gone, yet must not come back.
        conn.execute(delete(events).where(events.c.id > handed_out - 2))
    path = tmp_path / "pruned.backup"
    back_up(database_url, path)

    restore(other_backend, path)

    target = make_engine(other_backend)
    try:
        with target.begin() as conn:
            made = conn.execute(
                events.insert().values(type="test", data="{}", created_at="2026-03-01T09:00:00Z")
            )
            assert made.inserted_primary_key is not None
            assert made.inserted_primary_key[0] > handed_out
            assert conn.scalar(text("SELECT count(*) FROM events")) >= 1
    finally:
        target.dispose()


def test_a_backup_of_an_older_schema_is_restored_and_brought_up_to_date(
    database_url: str, other_backend: str, tmp_path: Path
) -> None:
    older = f"sqlite:///{tmp_path / 'older.db'}"
    engine = make_engine(older)
    try:
        migrate.move_to(engine, "0008")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, phone, name, created_at)"
                    " VALUES ('a_1', '+8613800139201', 'Olga', '2026-03-01T09:00:00.000000Z')"
                )
            )
    finally:
        engine.dispose()
    path = tmp_path / "older.backup"
    assert back_up(older, path).revision == "0008"

    assert restore(other_backend, path).rows["accounts"] == 1

    target = make_engine(other_backend)
    try:
        assert migrate.state(target) is migrate.SchemaState.CURRENT
        with target.connect() as conn:
            assert conn.execute(text("SELECT id, phone, name FROM accounts")).all() == [
                ("a_1", "+8613800139201", "Olga")
            ]
    finally:
        target.dispose()
