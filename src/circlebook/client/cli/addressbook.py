"""The local address book: `circlebook contacts import` and `list`, and picking invitees from it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.prompt import Prompt

from circlebook.client import render
from circlebook.client.cli.root import CliError, JsonOpt, contacts_app
from circlebook.client.config import load_session
from circlebook.client.contacts import AddressBook, ContactsError, read_file
from circlebook.client.models import Invitee
from circlebook.client.picking import Pick, PickError, parse_numbers, pick
from circlebook.phonebook import known_region, region_of


def _region(explicit: str | None) -> str:
    """--region, else CIRCLEBOOK_REGION, else the signed-in phone's country."""
    region = explicit or os.environ.get("CIRCLEBOOK_REGION")
    session = load_session()
    if not region and session:
        region = region_of(session.phone)
    code = known_region(region or "")
    if code is None:
        raise CliError("say which country numbers without +code are in: --region CN (or US, ...)")
    return code


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


def choose(picks: Sequence[str], everyone: bool, tags: Sequence[str]) -> list[Invitee]:
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
