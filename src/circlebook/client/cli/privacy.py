"""One's own data: `circlebook export-me` takes a copy, `delete-account` erases it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.prompt import Prompt

from circlebook.client import render
from circlebook.client.cli.root import CliError, app, connected
from circlebook.client.config import forget_session


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
