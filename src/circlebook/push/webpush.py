"""Sends one message to a push service: RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID.

The cryptography is the maintained libraries' (http_ece for aes128gcm, py_vapid
for the signed JWT); this module only puts their output on the wire.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from urllib.parse import urlsplit

import http_ece
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from circlebook.domain.push import Delivery, PushSubscription

log = logging.getLogger("circlebook.push")

# RFC 8292, 2: the JWT may live up to 24 hours; a shorter life limits a leaked one.
TOKEN_LIFE = 12 * 3600
TIMEOUT = 10.0


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The application server key as browsers take it: the uncompressed point, base64url."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


class WebPushSender:
    """Encrypts to the subscription's keys and POSTs to its endpoint; tells what came of it."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self._vapid = Vapid02(private_key=key)
        self._subject = subject
        # Made on the first send: building its TLS context costs a noticeable
        # fraction of a second, and most servers (and every app a test builds) never push.
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        # One signed token per push service origin, reused until near its expiry.
        self._tokens: dict[str, tuple[float, str]] = {}

    def _authorization(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        cached = self._tokens.get(audience)
        if cached is not None and cached[0] > now + 600:
            return cached[1]
        expires = int(now) + TOKEN_LIFE
        claims = {"aud": audience, "exp": expires, "sub": self._subject}
        header: str = self._vapid.sign(claims)["Authorization"]
        self._tokens[audience] = (expires, header)
        return header

    def send(
        self, subscription: PushSubscription, payload: bytes, ttl: int, topic: str | None = None
    ) -> Delivery:
        # RFC 8291, 3.4: a fresh sender key pair and salt for every message.
        body = http_ece.encrypt(
            payload,
            salt=os.urandom(16),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=_unb64url(subscription.p256dh),
            auth_secret=_unb64url(subscription.auth),
            version="aes128gcm",
        )
        headers = {
            "Authorization": self._authorization(subscription.endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": "normal",
        }
        if topic is not None:
            # RFC 8030, 5.4: a newer message with the same Topic replaces one not yet delivered.
            headers["Topic"] = topic
        try:
            answer = self._http().post(subscription.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("a push service did not answer: %s", type(exc).__name__)
            return Delivery.FAILED
        if answer.status_code in (404, 410):
            return Delivery.GONE
        if 200 <= answer.status_code < 300:
            return Delivery.ACCEPTED
        log.warning("a push service answered %s", answer.status_code)
        return Delivery.FAILED

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
