"""One's own data: `circlebook export-me` takes a copy, `delete-account` erases it, and
`ledger` shows (and with `--verify` proves) the record of every consent."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.prompt import Prompt

from circlebook.client import render
from circlebook.client.cli.root import CliError, JsonOpt, app, connected
from circlebook.client.config import forget_session, load_ledger_head, save_ledger_head
from circlebook.hashchain import head as chain_head
from circlebook.hashchain import verify as verify_chain


def _write_private(path: Path, text: str) -> None:
    """Create or replace the file readable by this user only: it holds phone numbers."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@app.command("export-me")
def export_me(
    output: Annotated[str, typer.Option("-o", "--output", help="file to write; - for stdout")],
) -> None:
    """Download everything the server holds about you, and every entry you see, as JSON."""
    with connected() as (client, _):
        document = client.export_me()
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output == "-":
        sys.stdout.write(text)
        return
    _write_private(Path(output), text)
    render.say(f"Wrote {output}")


@app.command("delete-account")
def delete_account(
    confirm: Annotated[
        str | None, typer.Option(help="your number in E.164, for scripts (else asked)")
    ] = None,
) -> None:
    """Erase your account: books you own are dissolved, your entries leave the others."""
    with connected() as (client, session):
        assert session is not None  # connected() insists on a session
        if confirm is None:
            render.say(
                "This deletes your account for good: books you own are dissolved for "
                "everyone, and your entry leaves every other book."
            )
            confirm = Prompt.ask("Type your phone number to confirm").strip()
            if not confirm:
                raise CliError("nothing deleted: no number typed")
        client.delete_account(confirm)
    forget_session()
    render.say("Your account is deleted.")


def _details(record: dict[str, Any]) -> str:
    """The kind's own fields, in a few words; another person is only ever a role here."""
    kind = record.get("kind")
    by = record.get("by") or {}
    parts = []
    if kind == "retagged":
        parts.append(f"tags {_tags(record.get('old_tags'))} -> {_tags(record.get('new_tags'))}")
    elif "tags" in record:
        parts.append(f"tags {_tags(record.get('tags'))}")
    if kind == "renamed" and "new_name" in record:
        parts.append(f"your name {record.get('old_name')} -> {record.get('new_name')}")
    elif kind == "renamed":
        parts.append(f"{record.get('old_title')} -> {record.get('new_title')}")
    if kind == "owner_changed":
        parts.append(f"to entry {(record.get('to') or {}).get('entry_id')}")
    if by:
        parts.append(f"by the {by.get('role')}")
    return "; ".join(parts)


def _tags(tags: Any) -> str:
    return ",".join(tags) if tags else "(none)"


@app.command("ledger")
def ledger(
    verify: Annotated[
        bool,
        typer.Option("--verify", help="check the whole chain, and against the head kept here"),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Your consent ledger: every invitation, answer and change to a book you were in."""
    with connected() as (client, session):
        assert session is not None  # connected() insists on a session
        records = list(client.ledger_records(limit=200))
    if verify:
        _verify(list(reversed(records)), session.server, session.account_id)
        return
    if as_json:
        render.as_json(records)
        return
    render.table(
        "My consent record",
        ["seq", "when", "kind", "book", "details"],
        [
            (
                r.get("seq"),
                str(r.get("at", ""))[:16],
                r.get("kind"),
                (r.get("book") or {}).get("title"),
                _details(r),
            )
            for r in records
        ],
    )
    if not records:
        render.say("Nothing recorded yet.")


def _verify(oldest_first: list[dict[str, Any]], server: str, account_id: str) -> None:
    known = load_ledger_head(server, account_id)
    problem = verify_chain(oldest_first, known)
    if problem is not None:
        raise CliError(f"ledger NOT verified: {problem}")
    newest = chain_head(oldest_first)
    if newest is None:
        render.say("ledger verified: 0 records, no head yet")
        return
    save_ledger_head(server, account_id, *newest)
    render.say(f"ledger verified: {len(oldest_first)} records, head {newest[0]} {newest[1][:12]}")
