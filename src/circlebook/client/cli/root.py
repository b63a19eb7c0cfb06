"""The Typer app every command registers on, the signed-in connection, and how a failure ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer

from circlebook.client import render
from circlebook.client.config import DEFAULT_SERVER, SavedSession, load_session
from circlebook.client.errors import ClientError
from circlebook.client.models import Book
from circlebook.client.naming import AmbiguousNameError, resolve
from circlebook.client.sdk import Client

app = typer.Typer(
    help="circlebook: a shared address book built by consent.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
contacts_app = typer.Typer(help="Your local address book, to pick invitees from.")
app.add_typer(contacts_app, name="contacts")

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
ServerOpt = Annotated[
    str | None,
    typer.Option("--server", envvar="CIRCLEBOOK_SERVER", help="the circlebook server's URL"),
]


class CliError(Exception):
    """Stops a command with one line on stderr and exit code 1."""


@dataclass
class State:
    server: str | None = None


state = State()


@app.callback()
def _options(server: ServerOpt = None) -> None:
    state.server = server


def server_url(session: SavedSession | None) -> str:
    return state.server or (session.server if session else None) or DEFAULT_SERVER


@contextmanager
def connected(*, signed_in: bool = True) -> Iterator[tuple[Client, SavedSession | None]]:
    session = load_session()
    if signed_in and session is None:
        raise CliError("not signed in: run `circlebook login PHONE` first")
    with Client(server_url(session), session.token if session else None) as client:
        yield client, session


def resolve_book(client: Client, query: str) -> Book:
    try:
        return resolve(query, client.books(), lambda b: b.id, lambda b: [b.title], "book")
    except AmbiguousNameError as exc:
        raise CliError(str(exc)) from exc


def run() -> None:
    """Run the CLI: every failure is one line on stderr and a non-zero exit, never a traceback."""
    try:
        app()
    except CliError as exc:
        render.fail(str(exc))
        raise SystemExit(1) from None
    except ClientError as exc:
        render.fail(str(exc))
        raise SystemExit(1) from None
    except OSError as exc:
        render.fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        raise SystemExit(1) from None
