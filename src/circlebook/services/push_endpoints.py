"""Which push endpoints the server will send to: a public https:// URL, never its own network.

An endpoint is a URL a client chose, and the server later makes requests to it;
one pointing at 127.0.0.1, 10.0.0.0/8 or a cloud's metadata address would turn
the server into a way in (server-side request forgery). So every address the
host resolves to must be a public one, checked when the subscription is made
and again before each message is sent (a name may resolve elsewhere later).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from circlebook.domain.errors import InvalidInputError

MAX_ENDPOINT = 1024
# RFC 8291, 3.2: an uncompressed P-256 point, and a 16-byte authentication secret.
P256DH_BYTES = 65
AUTH_BYTES = 16

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system's resolver)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return []
    return [str(info[4][0]) for info in found]


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_endpoint(endpoint: str, *, allow_loopback: bool, resolver: Resolver = resolve) -> str:
    """The endpoint, if the server may send to it; InvalidInputError (field `endpoint`) if not."""
    if len(endpoint.encode()) > MAX_ENDPOINT:
        raise InvalidInputError(f"endpoint: at most {MAX_ENDPOINT} bytes", field="endpoint")
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InvalidInputError("endpoint: not a URL", field="endpoint") from None
    if not host or parts.username is not None or parts.password is not None:
        raise InvalidInputError("endpoint: an https:// URL with a host", field="endpoint")
    loopback_http = allow_loopback and parts.scheme == "http"
    if parts.scheme != "https" and not loopback_http:
        raise InvalidInputError("endpoint: must be an https:// URL", field="endpoint")
    addresses = resolver(host, port or (443 if parts.scheme == "https" else 80))
    if not addresses:
        raise InvalidInputError("endpoint: its host does not resolve", field="endpoint")
    if loopback_http:
        if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
            raise InvalidInputError("endpoint: http:// only to this machine", field="endpoint")
        return endpoint
    for address in addresses:
        if not is_public(address):
            raise InvalidInputError(
                "endpoint: must be a public address, not a private, loopback or link-local one",
                field="endpoint",
            )
    return endpoint


def decode_key(value: str, size: int, field: str) -> bytes:
    """A base64url key (padded or not) of exactly `size` bytes."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"{field}: not base64url", field=field) from None
    if len(raw) != size:
        raise InvalidInputError(f"{field}: must be {size} bytes", field=field)
    return raw


def check_keys(p256dh: str, auth: str) -> None:
    """The browser's keys (RFC 8291, 3.2): a point on P-256, and a 16-byte secret."""
    point = decode_key(p256dh, P256DH_BYTES, "keys.p256dh")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise InvalidInputError("keys.p256dh: not a point on P-256", field="keys.p256dh") from None
    decode_key(auth, AUTH_BYTES, "keys.auth")
