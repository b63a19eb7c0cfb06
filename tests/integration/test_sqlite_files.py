"""A new SQLite database, its folder and its -wal/-shm files: readable by this user only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from circlebook.serving import _ready_engine
from circlebook.settings import load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> object:
    """The common 022 umask, under which files would otherwise come out 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("loose_umask")
def test_serving_a_new_database_keeps_it_and_its_folder_private(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "circlebook"
    database = folder / "circlebook.db"
    settings = load_settings(database_url=f"sqlite:///{database}")
    engine = _ready_engine(settings)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE scratch (x INTEGER)"))
            connection.execute(text("INSERT INTO scratch VALUES (1)"))
        with engine.connect():  # -wal and -shm live while a connection is open
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(folder) == 0o700
        assert mode(folder.parent) == 0o755  # a parent circlebook made is not its to restrict
    finally:
        engine.dispose()


@pytest.mark.usefixtures("loose_umask")
def test_an_existing_database_keeps_the_mode_its_operator_gave_it(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    database.touch(mode=0o640)
    engine = _ready_engine(load_settings(database_url=f"sqlite:///{database}"))
    engine.dispose()
    assert mode(database) == 0o640
