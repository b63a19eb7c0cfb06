"""The command line: the server's `serve` and `migrate`, beside the terminal's commands."""

from __future__ import annotations

import sys
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


def main() -> None:
    try:
        run()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
