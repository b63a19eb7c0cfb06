"""The terminal and the SDK load nothing of the server's stack, so they run without it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.e2e.test_client_install import SERVER_ONLY

LOADED = """
import json, sys
import circlebook.__main__, circlebook.client, circlebook.client.sync
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def test_the_terminal_and_the_sdk_import_nothing_of_the_server() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True
    )

    assert set(json.loads(loaded.stdout)) & set(SERVER_ONLY) == set()


def test_the_client_imports_no_server_module_of_circlebook() -> None:
    probe = LOADED.replace('name.partition(".")[0] ', "name ")
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    ours = {name for name in json.loads(loaded.stdout) if name.startswith("circlebook.")}
    assert {name.split(".")[1] for name in ours} <= {"__main__", "client", "hashchain", "phonebook"}
