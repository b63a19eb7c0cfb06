"""`circlebook demo`: a server in a temporary directory and three terminals playing the mission."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from circlebook.client import render
from circlebook.client.errors import TransportError
from circlebook.client.models import Invitee
from circlebook.client.sdk import Client
from circlebook.client.sync import LocalBook

console = Console(highlight=False)

OWNER = ("+8613800138000", "Li Lei")
MEIMEI = ("+8613900139001", "Han Meimei")
FANG = ("+8613700137002", "Wang Fang")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def demo_server(workdir: Path) -> Iterator[tuple[str, Path]]:
    """Run `circlebook serve` on SQLite in `workdir`; SMS codes go to a file we can read."""
    port = _free_port()
    outbox = workdir / "sms.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLEBOOK_")}
    env.update(
        CIRCLEBOOK_DATABASE_URL=f"sqlite:///{workdir / 'circlebook.db'}",
        CIRCLEBOOK_SMS=f"file:{outbox}",
    )
    with (workdir / "server.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "circlebook", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        yield url, outbox
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    with Client(url) as probe:
        while True:
            try:
                probe.health()
                return
            except TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def _code(outbox: Path, phone: str) -> str:
    for line in reversed(outbox.read_text().splitlines()):
        message = json.loads(line)
        if message["to"] == phone:
            return str(message["text"].split("code is ")[1][:6])
    raise RuntimeError(f"no code was sent to {phone}")


def _terminal(url: str, outbox: Path, who: tuple[str, str]) -> Client:
    phone, name = who
    client = Client(url)
    client.request_code(phone)
    client.sign_in(phone, _code(outbox, phone), f"{name}'s phone", name=name)
    console.print(f"  {name} signs in as {phone} with the code the SMS brought")
    return client


def _step(text: str) -> None:
    console.print(Rule(text, align="left"))


def play(url: str, outbox: Path) -> None:
    _step("1. Three people sign in with a one-time code")
    li, meimei, fang = (_terminal(url, outbox, who) for who in (OWNER, MEIMEI, FANG))

    _step("2. Li Lei picks two friends from his address book, with different tags")
    created = li.create_book(
        "Weekend hikers",
        [Invitee(MEIMEI[0], "Meimei", ("hiking",)), Invitee(FANG[0], "Fang", ("climbing",))],
    )
    book = created.book
    render.outcomes(created.outcomes, {MEIMEI[0]: "Meimei", FANG[0]: "Fang"})

    _step("3. Meimei finds the invitation and accepts")
    invitation = meimei.inbox()[0]
    console.print(
        f"  Meimei sees: {invitation.inviter_name} invites you to {invitation.book_title}"
    )
    meimei.accept(invitation.id)

    _step("4. Fang declines: the server deletes her number and name for it")
    fang.decline(fang.inbox()[0].id)
    console.print(f"  Li Lei's pending invitations now: {len(li.pending_invitations(book.id))}")

    _step("5. Li Lei asks again; this time Fang says yes")
    li.invite(book.id, [Invitee(FANG[0], "Fang", ("climbing",))])
    fang.accept(fang.inbox()[0].id)

    _step("6. What each of them sees (tags scope who sees whom)")
    meimei_copy = LocalBook(book.id)
    meimei_copy.sync(meimei)
    for name, client in (
        ("Li Lei (owner)", li),
        ("Meimei (hiking)", meimei),
        ("Fang (climbing)", fang),
    ):
        render.entries(f"{name} sees", client.entries(book.id).entries)

    _step("7. Li Lei tags Fang for hiking too; Meimei's copy syncs only the change")
    fang_entry = next(e for e in li.entries(book.id).entries if e.phone == FANG[0])
    li.update_entry(book.id, fang_entry.id, tags=["hiking", "climbing"])
    report = meimei_copy.sync(meimei)
    console.print(f"  Meimei's sync: {report.changed} new or changed, {report.removed} removed")
    render.entries("Meimei now sees", meimei_copy.entries.values())
    for client in (li, meimei, fang):
        client.close()


def main() -> None:
    console.print("[bold]circlebook demo[/bold]: one shared address book, built by consent.\n")
    with (
        tempfile.TemporaryDirectory(prefix="circlebook-demo-") as tmp,
        demo_server(Path(tmp)) as (
            url,
            outbox,
        ),
    ):
        console.print(f"  server on {url}, data in {tmp}\n")
        play(url, outbox)
    console.print("\nThat is the whole flow. `circlebook --help` lists what you can do yourself.")
