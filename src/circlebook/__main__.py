"""The command line: the server's `serve`, `migrate`, `backup` and `restore`, beside the
terminal's commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from circlebook.client.cli import app as cli
from circlebook.client.cli import run


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    # Imported here, not at the top: the server's stack (FastAPI, SQLAlchemy,
    # Alembic, uvicorn) takes about a second to load and no terminal command needs it.
    from circlebook import serving

    serving.migrate()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="server processes (needs PostgreSQL or Redis)")
    ] = 1,
) -> None:
    """Run the server (migrating an empty database first)."""
    from circlebook import serving  # see migrate() for why it is imported here

    serving.serve(host, port, workers)


DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CIRCLEBOOK_DATABASE_URL",
        help="the database, as `serve` is given it (default: the same as `serve`)",
    ),
]


@cli.command()
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
    from circlebook import serving  # see migrate() for why it is imported here

    serving.backup(database_url, file)


@cli.command()
def restore(
    file: Annotated[Path, typer.Argument(help="a file written by `circlebook backup`")],
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Restore a backup into an EMPTY database (SQLite or PostgreSQL, either way).

    The schema is migrated to the backup's revision, every row is copied with
    its ids, versions and times, and the schema is then brought up to date. A
    database that holds any row, or a backup from a newer circlebook, is refused.
    """
    from circlebook import serving  # see migrate() for why it is imported here

    serving.restore(database_url, file)


def main() -> None:
    try:
        run()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
