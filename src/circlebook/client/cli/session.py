"""Signing in and out: `circlebook login`, `logout`, `whoami`, and `sessions`."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

import typer
from rich.markup import escape
from rich.prompt import Prompt
from rich.text import Text

from circlebook.client import render
from circlebook.client.cli.root import JsonOpt, app, connected, server_url
from circlebook.client.config import SavedSession, forget_session, load_session, save_session
from circlebook.client.errors import ClientError
from circlebook.client.sdk import Client


@app.command()
def login(
    phone: Annotated[str, typer.Argument(help="your phone number")],
    code: Annotated[str | None, typer.Option(help="the code from the SMS (else asked)")] = None,
    name: Annotated[str | None, typer.Option(help="your name, for a new account")] = None,
    region: Annotated[str | None, typer.Option(help="country of a number without +code")] = None,
    device: Annotated[str, typer.Option(help="what to call this terminal")] = "circlebook CLI",
) -> None:
    """Sign in with a one-time code sent by SMS."""
    server = server_url(None)
    with Client(server) as client:
        if code is None:
            client.request_code(phone, region)
            code = Prompt.ask(f"Code sent to {escape(phone)}").strip()
        signed = client.sign_in(phone, code, device, name=name, region=region)
    path = save_session(SavedSession(server, signed.token, signed.account.phone, signed.account.id))
    who = signed.account.name or signed.account.phone
    render.say(f"Signed in as {who} ({signed.account.phone}) on {server}")
    render.err.print(Text(f"session kept in {path}"))


@app.command()
def logout() -> None:
    """Sign out here and forget the session."""
    session = load_session()
    if session is not None:
        # The token is useless once the file is gone, even if the server is unreachable.
        with Client(server_url(session), session.token) as client, suppress(ClientError):
            client.sign_out()
    forget_session()
    render.say("Signed out.")


@app.command()
def whoami(as_json: JsonOpt = False) -> None:
    """Show the signed-in account."""
    with connected() as (client, _):
        account = client.me()
    if as_json:
        render.as_json(account)
    else:
        render.say(f"{account.name or '(no name)'} {account.phone} (account {account.id})")


sessions_app = typer.Typer(help="The devices signed in to your account, and signing them out.")
app.add_typer(sessions_app, name="sessions")


@sessions_app.command("list")
def sessions_list(as_json: JsonOpt = False) -> None:
    """Every device signed in with a code; * marks this terminal."""
    with connected() as (client, _):
        found = client.sessions()
    if as_json:
        render.as_json(found)
        return
    render.table(
        "Signed-in devices",
        ["", "id", "device", "signed in", "last used"],
        [
            ("*" if s.current else "", s.id, s.device, s.created_at[:16], s.last_used_at[:16])
            for s in found
        ],
    )


@sessions_app.command("end")
def sessions_end(
    session: Annotated[str, typer.Argument(help="its id, from `sessions list`")],
) -> None:
    """Sign one device out: its next request is refused."""
    with connected() as (client, _):
        client.end_session(session)
    render.say("Signed out that device.")


@sessions_app.command("end-others")
def sessions_end_others() -> None:
    """Sign out everywhere but this terminal."""
    with connected() as (client, _):
        client.end_other_sessions()
    render.say("Signed out everywhere else.")


@app.command()
def audience(as_json: JsonOpt = False) -> None:
    """Who can see your number, book by book."""
    with connected() as (client, _):
        books = client.audience()
    if as_json:
        render.as_json(books)
        return
    for book in books:
        render.say(f"{book.title} ({book.book_id}): seen by {len(book.seen_by)}")
        render.table(None, ["name", "role"], book.seen_by)
    if not books:
        render.say("You are in no book: nobody sees your number.")
