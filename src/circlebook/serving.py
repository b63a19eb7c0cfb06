"""Running the server from the command line: settings, migrations, uvicorn."""

from __future__ import annotations

import contextlib
import copy
import gc
import logging
import resource
from typing import Any

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from sqlalchemy import Engine
from uvicorn.config import LOGGING_CONFIG

from circlebook.app import create_app
from circlebook.settings import Settings, SettingsError, console_sms_exposure, load_settings
from circlebook.storage import migrate as migrations
from circlebook.storage.database import make_engine

err = Console(stderr=True)


class WithoutQueryString(logging.Filter):
    """Drops the query string from access-log lines: queries can carry personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client address, method, path with query, HTTP version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with the access log's query strings left out."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["without_query"] = {"()": WithoutQueryString}
    config["handlers"]["access"]["filters"] = ["without_query"]
    return config


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
    return _frozen(create_app(settings, engine=make_engine(settings.database_url)))


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
    _raise_open_file_limit()
    engine = _ready_engine(settings)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    where = settings.sqlite_path or "PostgreSQL"
    err.print(f"circlebook on http://{settings.host}:{settings.port} (data: {where})")
    if workers > 1:
        engine.dispose()
        # Each worker builds its own app from the same environment; the secret key
        # must then come from it too, which settings require for PostgreSQL.
        uvicorn.run(
            "circlebook.serving:worker_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level="info",
            log_config=log_config(),
        )
        return
    app = _frozen(create_app(settings, engine=engine))
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level="info", log_config=log_config()
    )
