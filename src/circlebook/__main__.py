"""The command line: the terminal's commands, and the server's (`serve`, `migrate`, ...).

`pip install circlebook` gives the terminal and the SDK alone; the server's commands
are listed all the same, and say how to install the server when it is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from circlebook.client import render
from circlebook.client.cli import app as cli
from circlebook.client.cli import run
from circlebook.client.demo import main as play_demo

SERVER_MISSING = "the server is not installed: pip install 'circlebook[server]'"

# Every command that runs the server side registers with this, so that `--help` shows
# them together, apart from the terminal's commands.
server_command = partial(cli.command, rich_help_panel="Server")


@contextmanager
def server_installed() -> Iterator[None]:
    """Wraps a server command's import of the server side: one clear line if it is missing.

    The server is an optional extra (`circlebook[server]`), so a server command imports
    it inside the command, not at the top of this module: the terminal's commands must
    run without FastAPI, SQLAlchemy or uvicorn installed (and start faster without them).
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == "circlebook":
            raise  # a module of our own is missing: a broken install, not a missing extra
        render.fail(SERVER_MISSING)
        raise typer.Exit(2) from None


@server_command()
def migrate() -> None:
    """Bring the database schema up to date."""
    with server_installed():
        from circlebook import serving

    serving.migrate()


@server_command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="server processes (needs PostgreSQL or Redis)")
    ] = 1,
) -> None:
    """Run the server (migrating an empty database first)."""
    with server_installed():
        from circlebook import serving

    serving.serve(host, port, workers)


DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CIRCLEBOOK_DATABASE_URL",
        help="the database, as `serve` is given it (default: the same as `serve`)",
    ),
]


@server_command()
def backup(
    file: Annotated[Path, typer.Argument(help="the backup file to write (replaced when whole)")],
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Write a consistent backup of the database while the server runs.

    The file is circlebook's own portable format (gzip'd JSON lines, one stream
    of rows per table, with the schema revision), the same from either backend,
    so `restore` can load it into SQLite or PostgreSQL. On SQLite the rows are
    read from a copy taken with SQLite's online backup API; on PostgreSQL from
    one SERIALIZABLE READ ONLY DEFERRABLE snapshot. pg_dump is never used, even
    when it is on the PATH: its dump restores into PostgreSQL only.
    """
    with server_installed():
        from circlebook import serving

    serving.backup(database_url, file)


@server_command()
def restore(
    file: Annotated[Path, typer.Argument(help="a file written by `circlebook backup`")],
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Restore a backup into an EMPTY database (SQLite or PostgreSQL, either way).

    The schema is migrated to the backup's revision, every row is copied with
    its ids, versions and times, and the schema is then brought up to date. A
    database that holds any row, or a backup from a newer circlebook, is refused.
    """
    with server_installed():
        from circlebook import serving

    serving.restore(database_url, file)


@server_command()
def demo() -> None:
    """Play the whole flow with three terminals against a throwaway local server."""
    # The demo starts `circlebook serve` in a child process: check here that it can.
    with server_installed():
        from circlebook import serving  # noqa: F401

    play_demo()


def main() -> None:
    try:
        run()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
