"""A real `circlebook serve` process on a free local port, always stopped at the end."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _die_with_parent() -> None:
    """In the child: Linux sends the server SIGTERM if the benchmark dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait_until_up(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited with status {proc.returncode}:\n{_tail(log)}"
                )
            try:
                # Any answer (401 without a token) means the app is serving.
                client.get("/v1/me")
                return
            except httpx.TransportError:
                time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {STARTUP_TIMEOUT:.0f} s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


@contextmanager
def server_process(
    database_url: str,
    secret_key: str,
    outbox: Path,
    log: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Start `circlebook serve` on a free port; yield its URL and pid; stop it whatever happens.

    `extra_env` adds or overrides settings (CIRCLEBOOK_* variables) for this server.
    """
    port = free_port()
    env = {
        **os.environ,
        "CIRCLEBOOK_DATABASE_URL": database_url,
        "CIRCLEBOOK_SECRET_KEY": secret_key,
        "CIRCLEBOOK_SMS": f"file:{outbox}",
        "CIRCLEBOOK_HOST": "127.0.0.1",
        "CIRCLEBOOK_INVITES_PER_DAY": "1000000",
        # Every simulated person signs in from this one address.
        "CIRCLEBOOK_CODE_REQUESTS_PER_CLIENT": "0",
        "CIRCLEBOOK_SIGNIN_FAILURES_PER_CLIENT": "0",
        "CIRCLEBOOK_SIGNIN_FAILURES_PER_PHONE": "0",
        "CIRCLEBOOK_SMS_PER_HOUR": "0",
        **(extra_env or {}),
    }
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [str(BIN / "circlebook"), "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        try:
            _wait_until_up(proc, base_url, log)
            yield Server(base_url, proc.pid)
        finally:
            _stop(proc)


@contextmanager
def running_server(database_url: str, secret_key: str, outbox: Path, log: Path) -> Iterator[str]:
    """Start `circlebook serve` on a free port; yield its base URL; stop it whatever happens."""
    with server_process(database_url, secret_key, outbox, log) as server:
        yield server.base_url
