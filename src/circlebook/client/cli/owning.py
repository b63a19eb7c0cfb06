"""Owner and member tools: `remove`, `retag`, `revoke`, `pending`, `invite-link`, `remind`,
`rename`, `hand-on`, `dissolve`, `leave`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.prompt import Confirm

from circlebook.client import render
from circlebook.client.cli.root import CliError, JsonOpt, app, connected, resolve_book
from circlebook.client.models import Entry, PendingInvitation
from circlebook.client.naming import AmbiguousNameError, resolve
from circlebook.client.sdk import Client


def _entry(client: Client, book_id: str, query: str) -> Entry:
    entries = client.entries(book_id).entries
    digits = "".join(ch for ch in query if ch.isascii() and ch.isdigit())  # phones are ASCII
    by_phone = [e for e in entries if digits and e.phone.lstrip("+").endswith(digits)]
    if len(by_phone) == 1 and len(digits) >= 5:
        return by_phone[0]
    try:
        return resolve(query, entries, lambda e: e.id, lambda e: [e.name], "entry")
    except AmbiguousNameError as exc:
        raise CliError(str(exc)) from exc


@app.command()
def remove(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    who: Annotated[str, typer.Argument(help="entry id, number or name")],
) -> None:
    """Remove a member from a book you own."""
    with connected() as (client, _):
        target = resolve_book(client, book)
        entry = _entry(client, target.id, who)
        client.remove_entry(target.id, entry.id)
    render.say(f"Removed {entry.name} ({entry.phone}) from {target.title}.")


@app.command()
def retag(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    who: Annotated[str, typer.Argument(help="entry id, number or name")],
    tags: Annotated[list[str] | None, typer.Argument(help="the new tags; none to untag")] = None,
) -> None:
    """Set a member's tags, which decide whom it sees."""
    with connected() as (client, _):
        target = resolve_book(client, book)
        entry = _entry(client, target.id, who)
        updated = client.update_entry(target.id, entry.id, tags=tags or [])
    render.say(f"{updated.name}: tags {', '.join(updated.tags) or '(none)'}")


@app.command()
def revoke(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    invitation: Annotated[str, typer.Argument(help="invitation id, id prefix or number")],
) -> None:
    """Withdraw a pending invitation."""
    with connected() as (client, _):
        target = resolve_book(client, book)
        chosen = _pending(client, target.id, invitation)
        client.revoke(target.id, chosen.id)
    render.say(f"Revoked the invitation to {chosen.phone}.")


def _pending(client: Client, book_id: str, query: str) -> PendingInvitation:
    """A pending invitation by id, id prefix, number or the name the owner gave."""
    try:
        return resolve(
            query,
            client.pending_invitations(book_id),
            lambda i: i.id,
            lambda i: [i.phone, *([i.name] if i.name else [])],
            "invitation",
        )
    except AmbiguousNameError as exc:
        raise CliError(str(exc)) from exc


PersonArg = Annotated[str, typer.Argument(help="invitation id, id prefix, number or name")]


@app.command("invite-link")
def invite_link(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    person: PersonArg,
    as_json: JsonOpt = False,
) -> None:
    """Print someone's personal invitation link and a message to send it with."""
    with connected() as (client, _):
        chosen = _pending(client, resolve_book(client, book).id, person)
    if as_json:
        render.as_json({"invite_url": chosen.invite_url, "invite_text": chosen.invite_text})
    else:
        render.invite_link(chosen)


@app.command()
def remind(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    person: PersonArg,
    as_json: JsonOpt = False,
) -> None:
    """Remind someone once, a day or more after inviting them."""
    with connected() as (client, _):
        target = resolve_book(client, book)
        reminder = client.remind(target.id, _pending(client, target.id, person).id)
    if as_json:
        render.as_json(reminder)
        return
    render.say("Texted by the server." if reminder.text_sent else "Send it from your phone:")
    render.invite_link_text(reminder.invite_url, reminder.invite_text)


@app.command()
def pending(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    as_json: JsonOpt = False,
) -> None:
    """Invitations to a book you own that nobody has answered yet."""
    with connected() as (client, _):
        items = client.pending_invitations(resolve_book(client, book).id)
    if as_json:
        render.as_json(items)
    else:
        render.pending(items)


@app.command()
def rename(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    title: Annotated[str, typer.Argument(help="the new title")],
) -> None:
    """Rename a book you own."""
    with connected() as (client, _):
        renamed = client.rename_book(resolve_book(client, book).id, title)
    render.say(f"Renamed to {renamed.title}.")


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask to confirm")]


@app.command("hand-on")
def hand_on(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    who: Annotated[str, typer.Argument(help="the member to own it: entry id, number or name")],
    yes: YesOpt = False,
) -> None:
    """Make a member the owner of a book you own; you stay on as an untagged member."""
    with connected() as (client, _):
        target = resolve_book(client, book)
        entry = _entry(client, target.id, who)
        question = f"Make {escape(entry.name)} the owner of {escape(target.title)}?"
        if not yes and not Confirm.ask(question):
            raise typer.Exit(1)
        client.hand_on(target.id, entry.id)
    render.say(f"{entry.name} now owns {target.title}; you stay as a member.")


@app.command()
def dissolve(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")], yes: YesOpt = False
) -> None:
    """End a book you own: every entry and invitation goes, for everyone."""
    with connected() as (client, _):
        target = resolve_book(client, book)
        if not yes and not Confirm.ask(f"Dissolve {escape(target.title)} for all its members?"):
            raise typer.Exit(1)
        client.dissolve_book(target.id)
    render.say(f"Dissolved {target.title}.")


@app.command()
def leave(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")], yes: YesOpt = False
) -> None:
    """Leave a book: your entry goes from it."""
    with connected() as (client, session):
        assert session is not None
        target = resolve_book(client, book)
        if target.is_owner:
            raise CliError("the owner cannot leave; `circlebook dissolve` ends the book")
        mine = [e for e in client.entries(target.id).entries if e.phone == session.phone]
        if not mine:
            raise CliError("you have no entry in this book")
        if not yes and not Confirm.ask(f"Leave {escape(target.title)}?"):
            raise typer.Exit(1)
        client.remove_entry(target.id, mine[0].id)
    render.say(f"You left {target.title}.")
