"""A real `circlebook serve` process on loopback, for the end-to-end terminal and SDK tests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server_process import clean_env, free_port

CIRCLEBOOK = [sys.executable, "-m", "circlebook"]


@dataclass(frozen=True)
class Server:
    url: str
    outbox: Path
    http: httpx.Client

    def texts_to(self, phone: str) -> list[str]:
        lines = self.outbox.read_text().splitlines() if self.outbox.exists() else []
        return [m["text"] for m in map(json.loads, lines) if m["to"] == phone]

    def code_for(self, phone: str, *, after: int = 0) -> str:
        """The code in the newest text to `phone`, waiting until more than `after` went to it."""
        deadline = time.monotonic() + 20
        while len(texts := self.texts_to(phone)) <= after:
            assert time.monotonic() < deadline, f"no code was texted to {phone}"
            time.sleep(0.05)
        return texts[-1].split("code is ")[1][:6]

    def send_code(self, phone: str) -> str:
        """Ask for a code over HTTP, as another device of the same person would."""
        before = len(self.texts_to(phone))
        response = self.http.post("/v1/auth/codes", json={"phone": phone})
        assert response.status_code == 202, response.text
        return self.code_for(phone, after=before)


@contextmanager
def live_server(
    workdir: Path, name: str = "server", *, workers: int = 1, **settings: str
) -> Iterator[Server]:
    """`circlebook serve` (SQLite in `workdir` unless told otherwise), texting codes to a file.

    Several servers given the same `workdir` share the outbox, as instances
    behind one load balancer share one SMS gateway.
    """
    port, outbox = free_port(), workdir / "outbox.jsonl"
    chosen = {"database_url": f"sqlite:///{workdir / 'circlebook.db'}", "sms": f"file:{outbox}"}
    chosen.update(settings)
    env = clean_env(**{f"CIRCLEBOOK_{key.upper()}": value for key, value in chosen.items()})
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CIRCLEBOOK, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            deadline = time.monotonic() + 90  # several workers on a busy machine start slowly
            while True:
                try:
                    if http.get("/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield Server(url, outbox, http)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
