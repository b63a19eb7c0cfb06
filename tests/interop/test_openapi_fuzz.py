"""Schemathesis, a fuzzer nobody here wrote, throws generated requests at every JSON route."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from circlebook.client import Client, Invitee
from tests.e2e.live import live_server

OWNER = "+8615800158001"


def test_no_generated_request_makes_the_server_fail(tmp_path: Path) -> None:
    runner = Path(sys.executable).parent / "schemathesis"
    if not runner.exists() and shutil.which("schemathesis") is None:
        pytest.fail("schemathesis is a dev dependency: run `make test` to install it")
    with live_server(tmp_path, codes_per_window="1000000", events_heartbeat_seconds="1") as server:
        with Client(server.url) as owner:
            owner.request_code(OWNER)
            owner.sign_in(OWNER, server.code_for(OWNER), "fuzzer")
            owner.create_book("Fuzzed", [Invitee("13800138001", "Friend", ("team",))])
            token = owner.token
        result = subprocess.run(
            [
                str(runner),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--exclude-path",
                "/v1/events",
                "--seed",
                "20261124",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-4000:]
