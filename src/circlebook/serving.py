"""Running the server from the command line: settings, migrations, uvicorn."""

from __future__ import annotations

import contextlib
import gc
import logging
import logging.config
import os
import resource
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from circlebook.app import create_app
from circlebook.observe.logs import lean_records, log_config
from circlebook.observe.metrics import MULTIPROC_DIR
from circlebook.settings import (
    Settings,
    SettingsError,
    console_sms_exposure,
    default_database_url,
    load_settings,
)
from circlebook.storage import backup as backup_store
from circlebook.storage import migrate as migrations
from circlebook.storage import restore as restore_store
from circlebook.storage.archive import ArchiveError
from circlebook.storage.backup import BackupError, Summary
from circlebook.storage.database import make_engine

err = Console(stderr=True)

# The standard library's event loop, not uvloop. Under load uvloop took in one new
# connection per turn of its loop: fifty phones connecting to a busy server waited
# in line, the last about a second for its first answer, while those already
# connected were answered in 20 ms. The standard loop takes in every waiting
# connection at once, and served small requests as fast here (make bench-small).
EVENT_LOOP = "asyncio"


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        err.print(f"[red]circlebook: bad settings:[/red] {exc}")
        raise typer.Exit(2) from None


def migrate() -> None:
    """Bring the database schema up to date."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    migrations.upgrade(engine)
    err.print(f"database at revision {migrations.head()}")


def _database_url(given: str | None) -> str:
    """The database `serve` would use: backups need it alone, not the rest of the settings."""
    url = given or default_database_url()
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in ("sqlite", "postgresql"):
        err.print(
            "[red]circlebook: bad database URL:[/red] use a sqlite:///PATH or postgresql:// URL"
        )
        raise typer.Exit(2)
    return url


@contextmanager
def _backup_errors() -> Iterator[None]:
    """A backup or restore that fails says why in one line and exits 1, never with a traceback."""
    try:
        yield
    except (BackupError, ArchiveError) as exc:
        err.print(f"[red]circlebook:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(f"[red]circlebook: the database failed:[/red] {reason}", soft_wrap=True)
        raise typer.Exit(1) from None


def _rows_of(summary: Summary) -> str:
    return f"{sum(summary.rows.values())} rows of {len(summary.rows)} tables"


def backup(database_url: str | None, file: Path) -> None:
    """Write a consistent, portable backup of the database to `file`."""
    url = _database_url(database_url)
    with _backup_errors():
        summary = backup_store.back_up(url, file)
    err.print(
        f"backed up {_rows_of(summary)} (schema revision {summary.revision}) to {file}",
        soft_wrap=True,
    )


def restore(database_url: str | None, file: Path) -> None:
    """Restore the backup in `file` into the empty database."""
    url = _database_url(database_url)
    with _backup_errors():
        summary = restore_store.restore(url, file)
    err.print(
        f"restored {_rows_of(summary)} (schema revision {summary.revision}); "
        f"the database is at revision {migrations.head()}",
        soft_wrap=True,
    )


def _ready_engine(settings: Settings) -> Engine:
    """The database engine, once the schema is current (an empty database is migrated).

    A new SQLite database is made readable by this user only (see make_engine).
    """
    engine = make_engine(settings.database_url)
    state = migrations.state(engine)
    if state is migrations.SchemaState.EMPTY:
        migrations.upgrade(engine)
    elif state is not migrations.SchemaState.CURRENT:
        err.print(
            f"[red]circlebook: the database schema is {state.value}:[/red] run `circlebook migrate`"
        )
        raise typer.Exit(2)
    return engine


def _frozen(app: FastAPI) -> FastAPI:
    # Everything loaded so far lives as long as the process. Freezing it keeps the
    # collector's full passes from walking it again and again: without this, a
    # full collection during a 10,000-entry fetch paused the server for ~65 ms.
    gc.collect()
    gc.freeze()
    return app


def _check_console_sms(settings: Settings) -> None:
    exposure = console_sms_exposure(settings)
    if exposure == "refuse":
        err.print(
            f"[red]circlebook: refusing to listen on {settings.host} with the console SMS "
            "sender,[/red] which writes every sign-in code to the log: set CIRCLEBOOK_SMS "
            "to an SMS gateway URL or file:PATH, or to console to accept that on purpose"
        )
        raise typer.Exit(2)
    if exposure == "warn":
        err.print(
            f"[yellow]circlebook: warning: listening on {settings.host} with "
            "CIRCLEBOOK_SMS=console:[/yellow] every sign-in code is written to the log"
        )


def _raise_open_file_limit() -> None:
    """Allow as many open files as the system lets this process have.

    Every open event stream holds a connection, and so a file descriptor, for as
    long as it lasts: a soft limit of 1,024 (a common default) would refuse the
    thousand-and-somethingth phone long before memory or CPU run short.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        # Worker processes inherit the raised limit. Some kernels refuse an infinite
        # one; the soft limit then stays as it was, which is where it was anyway.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker_app() -> FastAPI:
    """The app of one worker process of `serve --workers N`, built from the environment."""
    settings = load_settings()
    lean_records()
    return _frozen(create_app(settings, engine=make_engine(settings.database_url)))


@contextmanager
def _shared_metrics(settings: Settings, workers: int) -> Iterator[None]:
    """With several workers and metrics on, a directory of this server's own where each
    worker writes its figures (prometheus-client's multiprocess mode), gone at the end.

    Set in the environment before the workers start: they read it when they import
    prometheus-client, and a directory shared with another server would mix their counts.
    """
    if workers <= 1 or settings.metrics != "on":
        yield
        return
    directory = tempfile.mkdtemp(prefix="circlebook-metrics-")
    os.environ[MULTIPROC_DIR] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROC_DIR]
        shutil.rmtree(directory, ignore_errors=True)


def serve(host: str | None, port: int | None, workers: int = 1) -> None:
    """Run the server (migrating an empty database first), in one or several processes."""
    settings = _settings(host=host, port=port)
    if workers > 1 and settings.broker_kind == "local":
        err.print(
            "[red]circlebook: --workers needs events shared between processes:[/red] "
            "use PostgreSQL, or set CIRCLEBOOK_BROKER to a redis:// URL"
        )
        raise typer.Exit(2)
    _check_console_sms(settings)
    logging.config.dictConfig(log_config(settings.log_format))
    lean_records()
    _raise_open_file_limit()
    engine = _ready_engine(settings)
    where = settings.sqlite_path or "PostgreSQL"
    banner = f"circlebook on http://{settings.host}:{settings.port} (data: {where})"
    if settings.log_format == "json":
        logging.getLogger("circlebook").info(banner)  # a log collector reads JSON lines only
    else:
        err.print(banner)
    if workers > 1:
        engine.dispose()
        # Each worker builds its own app from the same environment; the secret key
        # must then come from it too, which settings require for PostgreSQL.
        with _shared_metrics(settings, workers):
            uvicorn.run(
                "circlebook.serving:worker_app",
                factory=True,
                loop=EVENT_LOOP,
                host=settings.host,
                port=settings.port,
                workers=workers,
                log_level="info",
                log_config=log_config(settings.log_format),
                # observe.requests writes the access log, by route template, not path.
                access_log=False,
                # A worker's imports alone take several seconds on a busy small machine;
                # uvicorn's default 5 s check would kill it before it ever answered.
                timeout_worker_healthcheck=60,
            )
        return
    app = _frozen(create_app(settings, engine=engine))
    uvicorn.run(
        app,
        loop=EVENT_LOOP,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=log_config(settings.log_format),
        access_log=False,
    )
