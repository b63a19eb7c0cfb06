"""App passwords: what a phone's contacts app signs in with to read your books over CardDAV."""

from __future__ import annotations

from typing import Annotated

import typer

from circlebook.client import render
from circlebook.client.cli.root import JsonOpt, app, connected

devices_app = typer.Typer(help="Passwords for contacts apps that read your books over CardDAV.")
app.add_typer(devices_app, name="app-passwords")


@devices_app.command("create")
def create(
    label: Annotated[str, typer.Argument(help="which device it is for, e.g. 'iPhone'")],
    as_json: JsonOpt = False,
) -> None:
    """Make a password for one device; it is shown this once."""
    with connected() as (client, _):
        made = client.create_app_password(label)
        server = client.base_url.rstrip("/")
    if as_json:
        render.as_json(made)
        return
    render.table(
        "Add a CardDAV account on the device with",
        ["server", "user name", "password"],
        [(server, made.user_name, made.password)],
    )
    render.say("The password is not shown again; `circlebook app-passwords revoke` ends it.")


@devices_app.command("list")
def listing(as_json: JsonOpt = False) -> None:
    """Your app passwords (never their secrets)."""
    with connected() as (client, _):
        made = client.app_passwords()
    if as_json:
        render.as_json(made)
        return
    render.table(
        "App passwords",
        ["id", "label", "created", "last used"],
        [(p.id, p.label, p.created_at[:16], (p.last_used_at or "never")[:16]) for p in made],
    )


@devices_app.command("revoke")
def revoke(app_password: Annotated[str, typer.Argument(help="its id")]) -> None:
    """End an app password: the device using it is refused from its next request."""
    with connected() as (client, _):
        client.revoke_app_password(app_password)
    render.say("Revoked.")
