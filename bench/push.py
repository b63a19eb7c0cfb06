"""`make bench-push`: from an accept's answer to the owner's push service receiving the message.

    python -m bench.push [--accepts 300] [--warmup 20] [--backends sqlite,postgres]

For each backend this seeds, straight into a fresh database, one owner per
accept (an account, a session and a book each) and one signed-in joiner per
accept, and starts one `circlebook serve` process (with
CIRCLEBOOK_PUSH_ALLOW_LOOPBACK=1). A push service of its own runs in this
process on 127.0.0.1 (http.server, one thread per request): every owner
subscribes to it through the API with a fresh P-256 key pair and auth secret,
and every joiner is invited into a different owner's book. The joiners then
accept one at a time; for each the benchmark takes the moment the accept's
answer arrives and the moment the owner's endpoint receives the encrypted
message (time.perf_counter, one process), then decrypts the message with the
owner's keys (http_ece) and checks it says `invitation.accepted`. The accept's
own round trip is printed beside it as a reference measured in the same run.
The target is printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import secrets
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench import seed
from bench.databases import on_each_backend
from bench.events import Job, Owner, insert_owners, invite_joiners
from bench.run import BACKENDS, _backends, _load, _stop_on_sigterm, check, say
from bench.server import server_process
from bench.stats import Sample
from circlebook.storage.database import make_engine

TARGET_P99_MS = 1000.0  # accept answered -> the owner's push service has the message
PUSH_TIMEOUT = 10.0  # a message later than this counts as never arrived


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class Endpoint:
    path: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    bodies: list[tuple[float, bytes]] = field(default_factory=list)
    came: threading.Event = field(default_factory=threading.Event)

    def subscription(self, origin: str) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": origin + self.path,
            "keys": {"p256dh": _b64url(point), "auth": _b64url(self.auth)},
        }

    def decrypted(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        message: dict[str, Any] = json.loads(plain)
        return message


class PushService:
    """Takes every POST to a known endpoint: notes the moment it came, answers 201."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                came = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint = service.endpoints.get(self.path)
                self.send_response(201 if endpoint else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if endpoint is not None:
                    endpoint.bodies.append((came, body))
                    endpoint.came.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def endpoint(self) -> Endpoint:
        made = Endpoint("/push/" + secrets.token_urlsafe(12))
        self.endpoints[made.path] = made
        return made

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@dataclass
class Outcome:
    backend: str
    delays: list[float]
    round_trips: list[float]
    missing: int
    wrong: int


def subscribe_owners(
    base_url: str, owners: list[Owner], service: PushService
) -> dict[str, Endpoint]:
    """Each owner's browser subscribes through the API; endpoints by owner book."""
    found: dict[str, Endpoint] = {}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for owner in owners:
            endpoint = service.endpoint()
            check(
                client.post(
                    "/v1/push/subscriptions",
                    headers=owner.person.headers,
                    json=endpoint.subscription(service.origin),
                ),
                201,
            )
            found[owner.book_id] = endpoint
    return found


def accept_all(
    base_url: str, jobs: list[Job], endpoints: dict[str, Endpoint], warmup: int
) -> tuple[list[float], list[float], int, int]:
    delays, round_trips, missing, wrong = [], [], 0, 0
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for n, job in enumerate(jobs):
            endpoint = endpoints[job.book_id]
            sent = time.perf_counter()
            check(
                client.post(
                    f"/v1/invitations/{job.invitation_id}/accept", headers=job.joiner.headers
                )
            )
            answered = time.perf_counter()
            if not endpoint.came.wait(PUSH_TIMEOUT):
                missing += n >= warmup
                continue
            came, body = endpoint.bodies[0]
            if endpoint.decrypted(body).get("type") != "invitation.accepted":
                wrong += 1
            if n >= warmup:
                delays.append(came - answered)
                round_trips.append(answered - sent)
    return delays, round_trips, missing, wrong


def bench_backend(
    backend: str, database_url: str, workdir: Path, args: argparse.Namespace
) -> Outcome:
    outbox, log = workdir / f"{backend}-push-outbox.jsonl", workdir / f"{backend}-push.log"
    total = args.warmup + args.accepts
    engine = make_engine(database_url)
    try:
        owners = insert_owners(engine, total)
        joiners = seed.insert_signed_in(engine, total)
        seed.analyze(engine)
    finally:
        engine.dispose()
    say(f"[{backend}] seeded {total} owners (account, session, book) and {total} joiners")
    service = PushService()
    env = {"CIRCLEBOOK_PUSH_ALLOW_LOOPBACK": "1"}
    try:
        with server_process(database_url, secrets.token_urlsafe(32), outbox, log, env) as server:
            say(f"[{backend}] server up at {server.base_url}, pid {server.pid}")
            endpoints = subscribe_owners(server.base_url, owners, service)
            jobs = invite_joiners(server.base_url, owners, joiners)
            say(f"[{backend}] {len(endpoints)} owners subscribed, {len(jobs)} invitations sent")
            delays, round_trips, missing, wrong = accept_all(
                server.base_url, jobs, endpoints, args.warmup
            )
            say(f"[{backend}] {len(jobs)} accepts one at a time done")
    finally:
        service.stop()
    return Outcome(backend, delays, round_trips, missing, wrong)


def report(o: Outcome) -> list[str]:
    lines = [f"== {o.backend}: {len(o.delays) + o.missing} timed accepts, one at a time =="]
    if o.delays:
        delay = Sample(seconds=o.delays)
        p99 = delay.p99_ms
        lines.append(
            f"accept answered -> owner's push service has the message: "
            f"p50 {delay.p50_ms:.1f} ms, p95 {delay.p95_ms:.1f} ms, p99 {p99:.1f} ms, "
            f"max {delay.max_ms:.1f} ms  [target p99 < {TARGET_P99_MS:g} ms: "
            f"{'met' if p99 < TARGET_P99_MS and not o.missing else 'MISSED'}]"
        )
        early = sum(1 for d in o.delays if d < 0)
        lines.append(
            f"  ({early} of {len(o.delays)} messages came before the accept's answer, "
            "counted as negative delays)"
        )
        rtt = Sample(seconds=o.round_trips)
        lines.append(
            f"reference, the accept's own round trip: p50 {rtt.p50_ms:.1f} ms, "
            f"p99 {rtt.p99_ms:.1f} ms"
        )
    lines.append(
        f"messages never arrived (within {PUSH_TIMEOUT:g} s): {o.missing}; "
        f"decrypted to something other than invitation.accepted: {o.wrong}"
    )
    return lines


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.push", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--accepts", type=_positive, default=300, help="timed accepts (300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed accepts first (20)")
    parser.add_argument(
        "--backends", type=_backends, default=list(BACKENDS), help="sqlite,postgres (both)"
    )
    args = parser.parse_args(argv)
    _stop_on_sigterm()
    total = args.warmup + args.accepts
    seed.check_phones(
        seed.member_phone(0),
        seed.member_phone(total),
        seed.joiner_phone(0),
        seed.joiner_phone(total),
    )
    say(
        f"circlebook push benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {_load()}"
    )
    say(
        "server: one `circlebook serve` process; push service and client: this process "
        f"(a thread per push request, sync httpx for the accepts), on the same "
        f"{os.cpu_count()} CPUs"
    )
    outcomes: list[Outcome] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="circlebook-bench-push-") as tmp:
        workdir = Path(tmp)
        skipped += on_each_backend(
            args.backends,
            workdir,
            say,
            lambda backend, url: outcomes.append(bench_backend(backend, url, workdir, args)),
        )
    say(f"load average at the end: {_load()} (other work on the machine skews the figures)")
    for outcome in outcomes:
        say("")
        for text in report(outcome):
            say(text)
    say("")
    for note in skipped:
        say(note)
    say(
        f"target (on a 2-core machine, not asserted): p99 from an accept's answer to the "
        f"owner's push service receiving the encrypted message < {TARGET_P99_MS:g} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
