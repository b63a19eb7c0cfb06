"""Reading books: `circlebook books`, `show`, `sync` (with --follow), `watch`, `export`."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from circlebook.client import render
from circlebook.client.cli.root import CliError, JsonOpt, app, connected, resolve_book
from circlebook.client.config import data_dir
from circlebook.client.following import follow
from circlebook.client.models import Entry
from circlebook.client.sync import LocalBook, SyncReport


@app.command("books")
def list_books(as_json: JsonOpt = False) -> None:
    """The books you own or belong to."""
    with connected() as (client, _):
        items = client.books()
    none = "No books yet: `circlebook create TITLE` starts one."
    render.listing(items, render.books, none, json_wanted=as_json)


@app.command()
def show(
    book: Annotated[str, typer.Argument(help="book id, id prefix or title")],
    exclude_self: Annotated[bool, typer.Option(help="leave your own entry out")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The entries of a book you may see."""
    with connected() as (client, _):
        target = resolve_book(client, book)
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
        target = resolve_book(client, book)
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
    vcard_version: Annotated[
        str, typer.Option("--vcard-version", help="3.0, which every phone reads, or 4.0")
    ] = "3.0",
) -> None:
    """Write the entries you may see to a vCard or CSV file for your contacts app."""
    if format not in ("vcf", "csv"):
        raise CliError("--format is vcf or csv")
    if vcard_version not in ("3.0", "4.0"):
        raise CliError("--vcard-version is 3.0 or 4.0")
    with connected() as (client, _):
        target = resolve_book(client, book)
        if format == "vcf":
            text = client.export_vcf(target.id, vcard_version)
        else:
            text = _csv(client.entries(target.id).entries)
    output.write_text(text, encoding="utf-8")
    render.say(f"Wrote {output}")
