"""Invitations from both sides: `circlebook create` and `invite`; `inbox`, `accept`, `decline`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from circlebook.client import render
from circlebook.client.cli.addressbook import choose
from circlebook.client.cli.root import CliError, JsonOpt, app, connected, resolve_book
from circlebook.client.models import Book, Invitee, Outcome
from circlebook.client.naming import AmbiguousNameError, resolve
from circlebook.client.sdk import Client

CHUNK = 100  # invitees per request, so a long run can show its progress


def _send_invitations(
    client: Client,
    book_id: str | None,
    title: str,
    invitees: list[Invitee],
    region: str | None,
    owner_name: str | None,
) -> tuple[Book | None, list[Outcome]]:
    """Create the book (when `book_id` is None) and invite in chunks, showing progress."""
    outcomes: list[Outcome] = []
    book: Book | None = None
    with Progress(transient=True, disable=len(invitees) <= CHUNK) as progress:
        task = progress.add_task("Inviting", total=len(invitees))
        first = invitees[:CHUNK]
        if book_id is None:
            created = client.create_book(title, first, name=owner_name, region=region)
            book, book_id = created.book, created.book.id
            outcomes += created.outcomes
        else:
            outcomes += client.invite(book_id, first, region=region)
        progress.advance(task, len(first))
        for start in range(CHUNK, len(invitees), CHUNK):
            chunk = invitees[start : start + CHUNK]
            outcomes += client.invite(book_id, chunk, region=region)
            progress.advance(task, len(chunk))
    return book, outcomes


PicksArg = Annotated[
    list[str] | None,
    typer.Argument(help="FILTER or FILTER=tag,tag: contacts (or numbers) to invite"),
]
AllOpt = Annotated[bool, typer.Option("--all", help="invite every contact")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="tag for everyone picked")]
RegionOpt = Annotated[str | None, typer.Option(help="country of numbers without +code")]


@app.command()
def create(
    title: Annotated[str, typer.Argument(help="the book's title")],
    picks: PicksArg = None,
    everyone: AllOpt = False,
    tag: TagOpt = None,
    name: Annotated[str | None, typer.Option(help="your name in this book")] = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a book and invite people picked from your address book."""
    invitees = choose(picks or [], everyone, tag or [])
    with connected() as (client, _):
        book, outcomes = _send_invitations(client, None, title, invitees, region, name)
    assert book is not None
    if as_json:
        render.as_json({"book": book, "outcomes": outcomes})
        return
    render.say(f"Book {book.title} created: {book.id}", bold=book.title)
    if outcomes:
        render.outcomes(outcomes, {i.phone: i.name or "" for i in invitees})


@app.command()
def invite(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    picks: PicksArg = None,
    everyone: AllOpt = False,
    tag: TagOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Invite more people into a book you own."""
    invitees = choose(picks or [], everyone, tag or [])
    if not invitees:
        raise CliError("nobody picked")
    with connected() as (client, _):
        target = resolve_book(client, book)
        _, outcomes = _send_invitations(client, target.id, target.title, invitees, region, None)
    if as_json:
        render.as_json(outcomes)
    else:
        render.outcomes(outcomes, {i.phone: i.name or "" for i in invitees})


# -- the invitee's side ----------------------------------------------------------------------


@app.command()
def inbox(as_json: JsonOpt = False) -> None:
    """Invitations waiting for your answer."""
    with connected() as (client, _):
        items = client.inbox()
    render.listing(items, render.inbox, "No invitations.", json_wanted=as_json)


def _invitation_id(client: Client, query: str) -> str:
    try:
        return resolve(
            query, client.inbox(), lambda i: i.id, lambda i: [i.book_title], "invitation"
        ).id
    except AmbiguousNameError as exc:
        raise CliError(str(exc)) from exc


@app.command()
def accept(
    invitation: Annotated[str, typer.Argument(help="invitation id, id prefix or book title")],
    name: Annotated[str | None, typer.Option(help="the name to show in the book")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Say yes: join the book."""
    with connected() as (client, _):
        accepted = client.accept(_invitation_id(client, invitation), name=name)
        book = client.book(accepted.book_id)
    if as_json:
        render.as_json(accepted)
    else:
        render.say(f"You joined {book.title} ({book.id}).", bold=book.title)


@app.command()
def decline(
    invitation: Annotated[str, typer.Argument(help="invitation id, id prefix or book title")],
) -> None:
    """Say no: the server forgets your number and name for this invitation."""
    with connected() as (client, _):
        client.decline(_invitation_id(client, invitation))
    render.say("Declined.")
