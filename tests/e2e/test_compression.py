"""Answers are compressed for clients that ask (zstd or gzip), from a minimum size on;
never the event stream, which must reach the client chunk by chunk."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import zstandard
from fastapi.testclient import TestClient

from tests.conftest import Person, sign_in
from tests.e2e.dav import DECLARE, book_with, dav_user
from tests.e2e.live import live_server

OWNER, RED, MATE, BLUE = (f"+86137001500{n:02d}" for n in range(1, 5))
QUERY = (
    f"<c:addressbook-query {DECLARE}><d:prop><d:getetag/><c:address-data/></d:prop>"
    "</c:addressbook-query>"
)
DECODE: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "zstd": zstandard.ZstdDecompressor().decompress,
}


@pytest.fixture
def small_min(make_client: Callable[..., TestClient], outbox: Path) -> Any:
    """An app compressing from 256 bytes, and a book of four whose answers pass that."""
    client = make_client(compress_min_bytes=256)
    owner, red, mate, blue = (
        sign_in(client, outbox, phone, name)
        for phone, name in ((OWNER, "Olga"), (RED, "Rex"), (MATE, "Ria"), (BLUE, "Bo"))
    )
    book_id, _ = book_with(owner, "Club", [(red, ["red"]), (mate, ["red"]), (blue, ["blue"])])
    return client, owner, book_id


def raw(
    client: TestClient, method: str, url: str, encoding: str, **kw: Any
) -> tuple[httpx.Response, bytes]:
    """The answer and its bytes as they came over the wire, not decoded."""
    headers = {**kw.pop("headers", {}), "Accept-Encoding": encoding}
    with client.stream(method, url, headers=headers, **kw) as response:
        return response, b"".join(response.iter_raw())


def fetches(owner: Person, book_id: str) -> dict[str, dict[str, Any]]:
    dav = dav_user(owner)
    return {
        "entries": {
            "method": "GET",
            "url": f"/v1/books/{book_id}/entries",
            "headers": owner.headers,
        },
        "vcf": {
            "method": "GET",
            "url": f"/v1/books/{book_id}/export.vcf",
            "headers": owner.headers,
        },
        "dav query": {
            "method": "REPORT",
            "url": dav.book(book_id),
            "content": QUERY.encode(),
            "auth": dav.auth,
            "headers": {"Content-Type": "application/xml"},
        },
    }


@pytest.mark.parametrize("coding", sorted(DECODE))
def test_a_large_answer_decompresses_to_exactly_the_uncompressed_body(
    small_min: Any, coding: str
) -> None:
    client, owner, book_id = small_min
    for name, request in fetches(owner, book_id).items():
        plain, plain_bytes = raw(client, **request, encoding="identity")
        packed, packed_bytes = raw(client, **request, encoding=coding)

        assert "content-encoding" not in plain.headers, name
        assert packed.headers["content-encoding"] == coding, name
        assert len(packed_bytes) < len(plain_bytes), name
        assert DECODE[coding](packed_bytes) == plain_bytes, name
        assert int(packed.headers["content-length"]) == len(packed_bytes), name
        assert packed.headers["etag"] == plain.headers["etag"], name
        for answer in (plain, packed):
            assert answer.headers["vary"] == "Accept-Encoding", name


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip", "gzip"),
        ("gzip;q=1, zstd;q=0.5", "gzip"),
        ("zstd;q=0, *", "gzip"),
        ("*", "zstd"),
        ("br, deflate", None),
        ("gzip;q=0", None),
        ("identity", None),
        ("gzip;q=nonsense", None),
    ],
)
def test_the_coding_is_the_one_the_client_ranks_highest(
    small_min: Any, accept: str, coding: str | None
) -> None:
    client, owner, book_id = small_min
    response, _ = raw(client, "GET", f"/v1/books/{book_id}/entries", accept, headers=owner.headers)

    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding


def test_a_304_says_it_varies_by_accept_encoding(small_min: Any) -> None:
    client, owner, book_id = small_min
    url = f"/v1/books/{book_id}/entries"
    etag = client.get(url, headers=owner.headers).headers["etag"]

    again = client.get(url, headers={**owner.headers, "If-None-Match": etag})

    assert again.status_code == 304
    assert again.headers["vary"] == "Accept-Encoding"


def test_a_tiny_answer_is_not_compressed(client: TestClient, people: Any) -> None:
    me = people(OWNER, "Olga")

    response, body = raw(client, "GET", "/v1/me", "gzip, zstd", headers=me.headers)

    assert response.status_code == 200
    assert len(body) < 1024
    assert "content-encoding" not in response.headers
    assert b'"phone":"' + OWNER.encode() in body.replace(b" ", b"")


def test_min_bytes_0_turns_compression_off(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    client = make_client(compress_min_bytes=0)
    owner = sign_in(client, outbox, OWNER, "Olga")
    for n in range(12):
        book_with(owner, f"Club {n} " + "x" * 180, [])

    response, body = raw(client, "GET", "/v1/books", "gzip, zstd", headers=owner.headers)

    assert response.status_code == 200
    assert len(body) > 2000
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_the_event_stream_is_never_compressed_nor_held_back(tmp_path: Path) -> None:
    with live_server(tmp_path, events_heartbeat_seconds="1", compress_min_bytes="1") as server:
        code = server.send_code(OWNER)
        session = server.http.post(
            "/v1/auth/sessions", json={"phone": OWNER, "code": code, "device": "test"}
        )
        assert session.status_code == 201, session.text
        headers = {
            "Authorization": f"Bearer {session.json()['token']}",
            "Accept-Encoding": "gzip, zstd",
        }
        # The same server does compress a whole answer, however small: the middleware is there.
        me = server.http.get("/v1/me", headers=headers)
        assert me.headers["content-encoding"] == "zstd"
        with server.http.stream("GET", "/v1/events", headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.headers
            # The first chunk arrives by itself, as plain text: nothing waits for more.
            first = next(stream.iter_raw())
            assert first.startswith((b"retry:", b"event:", b":")), first
