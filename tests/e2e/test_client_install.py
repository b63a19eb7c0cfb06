"""`pip install circlebook` alone: the terminal and the SDK, without the server's stack.

A fresh virtualenv (no system site packages) installs the wheel built from this
tree, resolving the client's own dependencies from the package index, and talks
to a real server run from the project's environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from circlebook.__main__ import SERVER_MISSING
from tests.e2e.live import live_server

ROOT = Path(__file__).resolve().parents[2]

# What only the server needs: none of it may come with the client. (pydantic is not
# here: typer itself depends on it.)
SERVER_ONLY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "redis",
    "jinja2",
    "babel",
    "multipart",
    "orjson",
    "defusedxml",
)


@dataclass(frozen=True)
class ClientVenv:
    python: Path
    circlebook: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, check=check, timeout=120)


def _pip(python: Path | str, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> ClientVenv:
    """The client alone, installed as a person would: `pip install circlebook`."""
    where = tmp_path_factory.mktemp("client-install")
    _pip(sys.executable, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(where), str(ROOT))
    (wheel,) = where.glob("circlebook-*.whl")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    _pip(venv / "bin" / "python", "install", "--quiet", str(wheel))
    return ClientVenv(venv / "bin" / "python", venv / "bin" / "circlebook")


@pytest.mark.slow
def test_the_client_alone_installs_none_of_the_servers_stack(client_venv: ClientVenv) -> None:
    probe = "import importlib.util, json, sys; print(json.dumps([m for m in sys.argv[1:] "
    probe += "if importlib.util.find_spec(m) is not None]))"
    found = client_venv.run(str(client_venv.python), "-c", probe, *SERVER_ONLY)

    assert json.loads(found.stdout) == []
    has_sdk = client_venv.run(str(client_venv.python), "-c", "import circlebook.client, httpx")
    assert has_sdk.returncode == 0


@pytest.mark.slow
def test_the_client_alone_lists_every_command(client_venv: ClientVenv) -> None:
    shown = client_venv.run(str(client_venv.circlebook), "--help")

    for command in ("login", "books", "export", "contacts", "serve", "migrate"):
        assert f"  {command} " in shown.stdout


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "migrate", "demo"])
def test_a_server_command_says_how_to_install_the_server(
    client_venv: ClientVenv, command: str
) -> None:
    said = client_venv.run(str(client_venv.circlebook), command, check=False)

    assert said.returncode == 2
    assert said.stderr.strip() == f"circlebook: {SERVER_MISSING}"
    assert "Traceback" not in said.stderr + said.stdout


SIGN_IN = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from circlebook.client import Client

    url, outbox, phone = sys.argv[1:]
    with Client(url) as anonymous:
        assert anonymous.health() == "ok"
        anonymous.request_code(phone)
    deadline = time.monotonic() + 20
    while True:
        lines = Path(outbox).read_text().splitlines() if Path(outbox).exists() else []
        texts = [json.loads(line)["text"] for line in lines]
        if texts:
            break
        assert time.monotonic() < deadline, "no code"
        time.sleep(0.05)
    code = texts[-1].split("code is ")[1][:6]
    with Client(url) as client:
        session = client.sign_in(phone, code, name="Li Lei")
        client.create_book("Class of 2026")
        print(json.dumps({"name": client.me().name, "books": [b.title for b in client.books()]}))
    """
)


@pytest.mark.slow
def test_the_client_alone_signs_in_to_a_real_server(
    client_venv: ClientVenv, tmp_path: Path
) -> None:
    with live_server(tmp_path) as server:
        said = client_venv.run(
            str(client_venv.python), "-c", SIGN_IN, server.url, str(server.outbox), "+8613800138000"
        )

    assert json.loads(said.stdout) == {"name": "Li Lei", "books": ["Class of 2026"]}
