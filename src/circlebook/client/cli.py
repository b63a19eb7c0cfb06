"""The terminal: `circlebook login`, `contacts`, `create`, `inbox`, `show`, `sync` and the rest."""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import phonenumbers
import typer
from rich.markup import escape
from rich.progress import Progress
from rich.prompt import Confirm, Prompt
from rich.text import Text

from circlebook.client import render
from circlebook.client.config import (
    DEFAULT_SERVER,
    SavedSession,
    data_dir,
    forget_session,
    load_session,
    save_session,
)
from circlebook.client.contacts import AddressBook, ContactsError, read_file
from circlebook.client.demo import main as play_demo
from circlebook.client.errors import ClientError
from circlebook.client.following import follow
from circlebook.client.models import Book, Entry, Invitee, Outcome
from circlebook.client.naming import AmbiguousNameError, resolve
from circlebook.client.picking import Pick, PickError, parse_numbers, pick
from circlebook.client.sdk import Client
from circlebook.client.sync import LocalBook, SyncReport

app = typer.Typer(
    help="circlebook: a shared address book built by consent.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
contacts_app = typer.Typer(help="Your local address book, to pick invitees from.")
app.add_typer(contacts_app, name="contacts")

CHUNK = 100  # invitees per request, so a long run can show its progress

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


def _server(session: SavedSession | None) -> str:
    return state.server or (session.server if session else None) or DEFAULT_SERVER


@contextmanager
def connected(*, signed_in: bool = True) -> Iterator[tuple[Client, SavedSession | None]]:
    session = load_session()
    if signed_in and session is None:
        raise CliError("not signed in: run `circlebook login PHONE` first")
    with Client(_server(session), session.token if session else None) as client:
        yield client, session


def _region(explicit: str | None) -> str:
    """--region, else CIRCLEBOOK_REGION, else the signed-in phone's country."""
    region = explicit or os.environ.get("CIRCLEBOOK_REGION")
    session = load_session()
    if not region and session:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(session.phone))
    if not region or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise CliError("say which country numbers without +code are in: --region CN (or US, ...)")
    return region.upper()


# -- session ---------------------------------------------------------------------------------


@app.command()
def login(
    phone: Annotated[str, typer.Argument(help="your phone number")],
    code: Annotated[str | None, typer.Option(help="the code from the SMS (else asked)")] = None,
    name: Annotated[str | None, typer.Option(help="your name, for a new account")] = None,
    region: Annotated[str | None, typer.Option(help="country of a number without +code")] = None,
    device: Annotated[str, typer.Option(help="what to call this terminal")] = "circlebook CLI",
) -> None:
    """Sign in with a one-time code sent by SMS."""
    server = _server(None)
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
        with Client(_server(session), session.token) as client, suppress(ClientError):
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


# -- the local address book ------------------------------------------------------------------


@contacts_app.command("import")
def contacts_import(
    files: Annotated[list[Path], typer.Argument(help="vCard (.vcf) or CSV files")],
    region: Annotated[str | None, typer.Option(help="country of numbers without +code")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read contacts into the local address book, merging duplicates; needs no server."""
    book = AddressBook()
    reg = _region(region)
    added = total = 0
    problems: list[tuple[str, str, str]] = []
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("Importing", total=len(files))
        for path in files:
            try:
                result = read_file(path, reg)
            except ContactsError as exc:
                raise CliError(str(exc)) from exc
            more, total = book.import_result(result)
            added += more
            problems += [(path.name, p.where, p.what) for p in result.problems]
            progress.advance(task)
    if as_json:
        render.as_json({"added": added, "total": total, "problems": problems})
        return
    render.say(f"Added {added} contacts; the address book holds {total}.")
    if problems:
        render.table("Not imported", ["file", "where", "why"], problems)


@contacts_app.command("list")
def contacts_list(
    filter: Annotated[str | None, typer.Argument(help="part of a name or number")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the local address book."""
    found = AddressBook().find(filter)
    if as_json:
        render.as_json([{"name": c.name, "phones": list(c.phones)} for c in found])
        return
    render.table(
        f"{len(found)} contacts",
        ["#", "name", "numbers"],
        [(i, c.name, ", ".join(c.phones)) for i, c in enumerate(found, 1)],
    )


def _choose(picks: Sequence[str], everyone: bool, tags: Sequence[str]) -> list[Invitee]:
    book = AddressBook()
    try:
        if picks or everyone:
            return pick(book.find, [Pick.parse(p) for p in picks], everyone=everyone, tags=tags)
        return _interactive(book, tags)
    except PickError as exc:
        raise CliError(str(exc)) from exc


def _interactive(book: AddressBook, tags: Sequence[str]) -> list[Invitee]:
    contacts = [c for c in book.find(None) if c.phones]
    if not contacts:
        raise CliError("your address book is empty: `circlebook contacts import FILE` first")
    render.table(
        "Your contacts",
        ["#", "name", "number"],
        [(i, c.name, c.phones[0]) for i, c in enumerate(contacts, 1)],
    )
    render.say("Pick by number (1,3,5-7); add =tag,tag to tag them (2,4=team). Empty line ends.")
    chosen: dict[int, tuple[str, ...]] = {}
    while line := Prompt.ask("pick", default="").strip():
        numbers, _, tag_text = line.partition("=")
        extra = tuple(t.strip() for t in tag_text.split(",") if t.strip())
        for index in parse_numbers(numbers, len(contacts)):
            chosen[index] = (*tags, *extra)
    return [Invitee(contacts[i].phones[0], contacts[i].name or None, t) for i, t in chosen.items()]


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
    invitees = _choose(picks or [], everyone, tag or [])
    with connected() as (client, _):
        book, outcomes = _send_invitations(client, None, title, invitees, region, name)
    assert book is not None
    if as_json:
        render.as_json({"book": book, "outcomes": outcomes})
        return
    render.say(f"Book {book.title} created: {book.id}", bold=book.title)
    if outcomes:
        render.outcomes(outcomes, {i.phone: i.name or "" for i in invitees})


def _book(client: Client, query: str) -> Book:
    try:
        return resolve(query, client.books(), lambda b: b.id, lambda b: [b.title], "book")
    except AmbiguousNameError as exc:
        raise CliError(str(exc)) from exc


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
    invitees = _choose(picks or [], everyone, tag or [])
    if not invitees:
        raise CliError("nobody picked")
    with connected() as (client, _):
        target = _book(client, book)
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
    if as_json:
        render.as_json(items)
    elif not items:
        render.say("No invitations.")
    else:
        render.inbox(items)


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


# -- books -----------------------------------------------------------------------------------


@app.command("books")
def list_books(as_json: JsonOpt = False) -> None:
    """The books you own or belong to."""
    with connected() as (client, _):
        items = client.books()
    if as_json:
        render.as_json(items)
    elif not items:
        render.say("No books yet: `circlebook create TITLE` starts one.")
    else:
        render.books(items)


@app.command()
def show(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    exclude_self: Annotated[bool, typer.Option(help="leave your own entry out")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The entries of a book you may see."""
    with connected() as (client, _):
        target = _book(client, book)
        page = client.entries(target.id, exclude_self=exclude_self)
    if as_json:
        render.as_json(page.entries)
    else:
        render.entries(target.title, page.entries)


def _local_copy_path(book_id: str) -> Path:
    return data_dir() / "books" / f"{book_id}.json"


def _report_sync(
    title: str, local: LocalBook, report: SyncReport, path: Path, as_json: bool
) -> None:
    if as_json:
        render.as_json({"report": report, "entries": list(local.entries.values())})
        return
    how = "full fetch" if report.full else "changes since last sync"
    render.say(
        f"{title}: {how}: {report.changed} new or changed, {report.removed} removed; "
        f"{len(local.entries)} entries kept in {path}"
    )


@app.command()
def sync(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    follow_changes: Annotated[
        bool, typer.Option("--follow", help="stay on and sync each change as it happens")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Bring the local copy of a book up to date, fetching only what changed."""
    with connected() as (client, _):
        target = _book(client, book)
        path = _local_copy_path(target.id)
        local = LocalBook.load(path, target.id)
        report = local.sync(client)
        local.save(path)
        _report_sync(target.title, local, report, path, as_json)
        if not follow_changes:
            return
        for event in follow(client):
            if event.data.get("book_id") not in (None, target.id):
                continue
            if event.type == "book.left":
                raise CliError(f"you are no longer in {target.title}")
            # On "ready" too: a change between the first sync and the stream going
            # live has no event this stream will replay.
            if event.type in ("book.changed", "resync", "ready"):
                if event.type == "resync":
                    local.sync_token = None  # the server could not replay: fetch in full
                report = local.sync(client)
                local.save(path)
                if event.type != "ready" or report.changed or report.removed:
                    _report_sync(target.title, local, report, path, as_json)


@app.command()
def watch(as_json: JsonOpt = False) -> None:
    """Print your events as they happen: invitations, answers, changes to your books."""
    with connected() as (client, _):
        titles = {b.id: b.title for b in client.books()}
        for event in follow(client):
            if event.type == "ready" and not as_json:
                render.err.print("Listening; events appear here as they happen (Ctrl-C stops).")
                continue
            if as_json:
                render.json_line({"id": event.id, "type": event.type, **event.data})
                continue
            book_id = str(event.data.get("book_id", ""))
            if book_id and book_id not in titles and event.type != "book.left":
                titles.update({b.id: b.title for b in client.books()})
            where = titles.get(book_id, book_id)
            render.say(f"{time.strftime('%H:%M:%S')}  {event.type:<20} {where}")


def _csv(entries: Sequence[Entry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Name", "Phone", "Tags"])
    for e in entries:
        writer.writerow([e.name, e.phone, " ".join(e.tags)])
    return buffer.getvalue()


@app.command()
def export(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
    format: Annotated[str, typer.Option("--format", help="vcf or csv")] = "vcf",
) -> None:
    """Write the entries you may see to a vCard or CSV file for your contacts app."""
    if format not in ("vcf", "csv"):
        raise CliError("--format is vcf or csv")
    with connected() as (client, _):
        target = _book(client, book)
        if format == "vcf":
            text = client.export_vcf(target.id)
        else:
            text = _csv(client.entries(target.id).entries)
    output.write_text(text, encoding="utf-8")
    render.say(f"Wrote {output}")


# -- owner and member tools ------------------------------------------------------------------


def _entry(client: Client, book_id: str, query: str) -> Entry:
    entries = client.entries(book_id).entries
    digits = "".join(ch for ch in query if ch.isdigit())
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
        target = _book(client, book)
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
        target = _book(client, book)
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
        target = _book(client, book)
        pending = client.pending_invitations(target.id)
        try:
            chosen = resolve(invitation, pending, lambda i: i.id, lambda i: [i.phone], "invitation")
        except AmbiguousNameError as exc:
            raise CliError(str(exc)) from exc
        client.revoke(target.id, chosen.id)
    render.say(f"Revoked the invitation to {chosen.phone}.")


@app.command()
def pending(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    as_json: JsonOpt = False,
) -> None:
    """Invitations to a book you own that nobody has answered yet."""
    with connected() as (client, _):
        items = client.pending_invitations(_book(client, book).id)
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
        renamed = client.rename_book(_book(client, book).id, title)
    render.say(f"Renamed to {renamed.title}.")


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask to confirm")]


@app.command()
def dissolve(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")], yes: YesOpt = False
) -> None:
    """End a book you own: every entry and invitation goes, for everyone."""
    with connected() as (client, _):
        target = _book(client, book)
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
        target = _book(client, book)
        if target.is_owner:
            raise CliError("the owner cannot leave; `circlebook dissolve` ends the book")
        mine = [e for e in client.entries(target.id).entries if e.phone == session.phone]
        if not mine:
            raise CliError("you have no entry in this book")
        if not yes and not Confirm.ask(f"Leave {escape(target.title)}?"):
            raise typer.Exit(1)
        client.remove_entry(target.id, mine[0].id)
    render.say(f"You left {target.title}.")


@app.command()
def demo() -> None:
    """Play the whole flow with three terminals against a throwaway local server."""
    play_demo()


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
