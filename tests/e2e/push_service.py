"""A local push service (RFC 8030) that checks what circlebook sends it, as a browser's would.

Each subscription the test makes gets its own endpoint on this server and a
real P-256 key pair and authentication secret (RFC 8291, 3.2). For every
message the service checks the VAPID Authorization header (RFC 8292: an ES256
JWT whose `aud` is this origin, whose `exp` is within 24 hours, with a `sub`,
signed by the key in `k`), the TTL, Urgency and Content-Encoding headers, and the
Topic header when there is one (RFC 8030, 5.4: at most 32 base64url characters),
then decrypts the body with the subscription's private key and auth secret
(http_ece) and keeps it, with the Topic it came with. It answers each message
with the next status the test queued for that endpoint (201 when none is queued).
"""

from __future__ import annotations

import base64
import json
import queue
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

WAIT = 15.0
# RFC 8030, 5.4: a Topic is at most 32 characters of the URL-safe base64 alphabet.
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Endpoint:
    """One browser's subscription at this service: its keys, and what reached it."""

    url: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes
    received: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    def to_json(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives a page."""
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.url,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }

    def next(self) -> dict[str, Any]:
        try:
            return self.received.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no push message reached {self.url} within {WAIT} s")

    def nothing_more(self, within: float = 1.0) -> None:
        try:
            extra = self.received.get(timeout=within)
        except queue.Empty:
            return
        pytest.fail(f"an unexpected push message reached {self.url}: {extra}")


def verify_vapid(header: str, origin: str) -> bytes:
    """The VAPID public key of a valid `vapid t=..., k=...` header; AssertionError if not."""
    scheme, _, params = header.partition(" ")
    assert scheme == "vapid", header
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    token, public = fields["t"], unb64url(fields["k"])
    head, claims_part, signature = token.split(".")
    assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    assert len(raw) == 64, "an ES256 signature is r || s, 64 bytes"
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, f"{head}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID JWT's signature does not verify") from None
    claims = json.loads(unb64url(claims_part))
    assert claims["aud"] == origin, claims
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
    assert claims["sub"].startswith(("mailto:", "https://")), claims
    return public


class PushService:
    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.answers: defaultdict[str, deque[int]] = defaultdict(deque)
        self.errors: list[str] = []
        self.vapid_keys: set[str] = set()
        self.hits: defaultdict[str, int] = defaultdict(int)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def subscribe(self) -> Endpoint:
        path = "/push/" + secrets.token_urlsafe(16)
        made = Endpoint(
            self.origin + path, ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16)
        )
        self.endpoints[path] = made
        return made

    def answer(self, endpoint: Endpoint, *statuses: int) -> None:
        """The statuses the next messages to `endpoint` are answered with, in order."""
        self.answers[endpoint.url.removeprefix(self.origin)].extend(statuses)

    def _receive(self, path: str, headers: Any, body: bytes) -> int:
        endpoint = self.endpoints.get(path)
        if endpoint is None:
            return 404
        self.hits[path] += 1
        try:
            public = verify_vapid(headers.get("Authorization", ""), self.origin)
            assert headers.get("Content-Encoding") == "aes128gcm", headers
            assert int(headers.get("TTL", "-1")) >= 0, headers
            assert headers.get("Urgency") == "normal", headers
            topic = headers.get("Topic")
            assert topic is None or TOPIC.fullmatch(topic), headers
            plain = http_ece.decrypt(
                body, private_key=endpoint.key, auth_secret=endpoint.auth, version="aes128gcm"
            )
        except (AssertionError, KeyError, ValueError) as exc:
            self.errors.append(f"{path}: {exc!r}")
            return 400
        self.vapid_keys.add(b64url(public))
        queued = self.answers[path]
        status = queued.popleft() if queued else 201
        if status == 201:
            # Web Push messages are JSON; WebDAV-Push messages are XML, kept as text.
            xml = plain.lstrip().startswith(b"<")
            endpoint.received.put(
                {"xml": plain.decode(), "topic": topic} if xml else json.loads(plain)
            )
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = service._receive(self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                if status == 201:
                    self.send_header("Location", self.path + "/m/" + secrets.token_hex(4))
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()
    service.start()
    try:
        yield service
    finally:
        service.stop()
    assert service.errors == [], service.errors
