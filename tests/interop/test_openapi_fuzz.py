"""Schemathesis, a fuzzer nobody here wrote, throws generated requests at every JSON route."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from circlebook.client import Client, Invitee
from tests.e2e.live import live_server

OWNER = "+8615800158001"


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("hooks", [None, "tests.interop.unicode_hooks"])
def test_no_generated_request_makes_the_server_fail(tmp_path: Path, hooks: str | None) -> None:
    """Once as the fuzzer generates, once with its strings swapped for Unicode digits and
    huge numbers (see unicode_hooks.py): no 5xx either way."""
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
            env={**os.environ, **_hooks_env(hooks)},
        )
    assert result.returncode == 0, result.stdout[-4000:]


def _hooks_env(hooks: str | None) -> dict[str, str]:
    if hooks is None:
        return {}
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return {"SCHEMATHESIS_HOOKS": hooks, "PYTHONPATH": path}
