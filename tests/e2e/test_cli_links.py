"""The terminal prints each invitee's link after `create` and `invite`, and on `invite-link`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.live import CIRCLEBOOK, Server, live_server
from tests.e2e.test_cli_live import terminal

OWNER, FRIEND, LATER = "+8615300153101", "+8615300153102", "+12015550125"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("cli-links")) as running:
        yield running


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CIRCLEBOOK, *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_create_invite_and_invite_link_print_the_links(server: Server, tmp_path: Path) -> None:
    env = terminal(server, tmp_path, OWNER, "Li Lei")
    created = run(env, "create", "Class of 2012", FRIEND, "--json")
    assert created.returncode == 0, created.stderr
    outcome = json.loads(created.stdout)["outcomes"][0]
    url = outcome["invite_url"]
    assert url.startswith(server.url + "/i/") and outcome["text_sent"] is False

    shown = run(env, "invite", "Class of 2012", LATER)
    assert shown.returncode == 0, shown.stderr
    assert "Send each person their link from your phone" in shown.stdout
    later_line = next(line for line in shown.stdout.splitlines() if "/i/" in line)
    assert later_line.strip().startswith("+12015550125: " + server.url + "/i/")

    link = run(env, "invite-link", "Class of 2012", FRIEND)
    assert link.returncode == 0, link.stderr
    lines = link.stdout.splitlines()
    assert lines[0] == url
    assert lines[1].startswith("Li Lei邀请您加入") and lines[1].endswith(url)

    as_json = json.loads(run(env, "invite-link", "Class of 2012", LATER, "--json").stdout)
    assert as_json["invite_text"].startswith('Li Lei invites you to "Class of 2012"')

    early = run(env, "remind", "Class of 2012", FRIEND)
    assert early.returncode == 1
    assert "a day after the invitation" in early.stderr + early.stdout

    unknown = run(env, "invite-link", "Class of 2012", "+8613999999999")
    assert unknown.returncode == 1
