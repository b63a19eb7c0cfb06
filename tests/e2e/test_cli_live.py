"""`circlebook watch` and `sync --follow`: the terminal hearing of changes as they happen."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from circlebook.client import Client, Invitee
from tests.e2e.live import CIRCLEBOOK, Server, live_server
from tests.e2e.test_server_process import clean_env

OWNER, FRIEND = "+8615300153001", "+8615300153002"
WAIT = 15.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with live_server(tmp_path, events_heartbeat_seconds="1") as running:
        yield running


def terminal(server: Server, home: Path, phone: str, name: str) -> dict[str, str]:
    """A terminal's environment, signed in with `circlebook login`."""
    env = clean_env(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        CIRCLEBOOK_SERVER=server.url,
        COLUMNS="200",
    )
    code = server.send_code(phone)
    subprocess.run(
        [*CIRCLEBOOK, "login", phone, "--code", code, "--name", name],
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    return env


def token_of(env: dict[str, str]) -> str:
    path = Path(env["XDG_CONFIG_HOME"]) / "circlebook" / "session.json"
    return str(json.loads(path.read_text())["token"])


@contextmanager
def running(env: dict[str, str], *args: str) -> Iterator[queue.Queue[str]]:
    """A long-running command; its output lines arrive in the queue."""
    process = subprocess.Popen(
        [*CIRCLEBOOK, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        yield lines
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=5)
        if process.stdout:
            process.stdout.close()


def wait_for(lines: queue.Queue[str], text: str) -> str:
    while True:
        try:
            line = lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"the command printed no line with {text!r} within {WAIT} s")
        if text in line:
            return line


def test_watch_prints_an_invitation_the_moment_it_arrives(server: Server, tmp_path: Path) -> None:
    owner_env = terminal(server, tmp_path / "owner", OWNER, "Owner")
    friend_env = terminal(server, tmp_path / "friend", FRIEND, "Friend")
    with (
        running(friend_env, "watch", "--json") as lines,
        Client(server.url, token_of(owner_env)) as owner,
    ):
        wait_for(lines, '"ready"')
        book = owner.create_book("Watched").book
        owner.invite(book.id, [Invitee(FRIEND)])
        event = json.loads(wait_for(lines, "invitation.received"))
    assert event["book_id"] == book.id
    assert event["type"] == "invitation.received"


def test_sync_follow_keeps_the_local_copy_current(server: Server, tmp_path: Path) -> None:
    owner_env = terminal(server, tmp_path / "owner", OWNER, "Owner")
    friend_env = terminal(server, tmp_path / "friend", FRIEND, "Friend")
    with (
        Client(server.url, token_of(owner_env)) as owner,
        Client(server.url, token_of(friend_env)) as friend,
    ):
        book = owner.create_book("Followed", [Invitee(FRIEND)]).book
        friend.accept(friend.inbox()[0].id)
        with running(friend_env, "sync", "Followed", "--follow") as lines:
            wait_for(lines, "full fetch")
            me = next(e for e in owner.entries(book.id).entries if e.phone == OWNER)
            owner.update_entry(book.id, me.id, name="Owner Renamed")
            wait_for(lines, "changes since last sync: 1 new or changed")
        copy = Path(friend_env["XDG_DATA_HOME"]) / "circlebook" / "books" / f"{book.id}.json"
        names = {e["name"] for e in json.loads(copy.read_text())["entries"]}
        assert names == {"Owner Renamed", "Friend"}
        assert os.stat(copy).st_mode & 0o777 == 0o600


def test_app_passwords_are_made_listed_and_revoked_from_the_terminal(
    server: Server, tmp_path: Path
) -> None:
    env = terminal(server, tmp_path / "owner", OWNER, "Owner")
    made = subprocess.run(
        [*CIRCLEBOOK, "app-passwords", "create", "iPhone", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    created = json.loads(made.stdout)
    assert created["user_name"] == OWNER
    assert len(created["password"]) >= 20
    dav = server.http.request(
        "PROPFIND", "/dav/", auth=(OWNER, created["password"]), headers={"Depth": "0"}
    )
    assert dav.status_code == 207
    listed = subprocess.run(
        [*CIRCLEBOOK, "app-passwords", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert [p["label"] for p in json.loads(listed.stdout)] == ["iPhone"]
    assert "password" not in listed.stdout
    subprocess.run(
        [*CIRCLEBOOK, "app-passwords", "revoke", created["app_password"]["id"]],
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    refused = server.http.request(
        "PROPFIND", "/dav/", auth=(OWNER, created["password"]), headers={"Depth": "0"}
    )
    assert refused.status_code == 401
