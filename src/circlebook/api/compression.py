"""Compressed answers for clients that ask: zstd or gzip (RFC 9110 sections 8.4 and 12.5.3).

A whole answer of a compressible type, at least `min_bytes` long, is sent with
the coding the client prefers among those it accepts. Anything streamed (the
event stream above all) passes through untouched the moment it starts: nothing
here ever holds back a chunk, and `text/event-stream` is not even looked at.

The levels are chosen by measurement on a 10,000-entry book (about 2 MB of
JSON): zstd level 1 takes about 2 ms and gives about 240 KB, gzip level 3 about
13 ms and 300 KB, where the fetch itself takes about 60 ms. Higher gzip levels
save a few percent for twice the time or more (level 9: 80 ms, 270 KB).
"""

from __future__ import annotations

import gzip
import math

import anyio.to_thread
import zstandard
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GZIP_LEVEL = 3
ZSTD_LEVEL = 1
# The server's preference where the client likes several equally.
CODINGS = ("zstd", "gzip")
COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/problem+json",
        "application/xml",
        "text/xml",
        "text/vcard",
        "text/html",
        "text/plain",
        "text/css",
        "text/javascript",
        "application/javascript",
        "image/svg+xml",
    }
)
# From this size the work leaves the event loop, which serves every open event
# stream and must not stall on a large book for the milliseconds it takes.
IN_THREAD_FROM = 64 * 1024


def chosen_coding(accept_encoding: str | None) -> str | None:
    """The coding to answer with: the one of ours the client ranks highest (q > 0), else None.

    RFC 9110 section 12.5.3: `*` stands for any coding not listed, `q=0` refuses one.
    """
    if not accept_encoding:
        return None
    ranks: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, parameters = part.partition(";")
        ranks[name.strip().lower()] = _quality(parameters)
    best = max(CODINGS, key=lambda c: (ranks.get(c, ranks.get("*", 0.0)), -CODINGS.index(c)))
    return best if ranks.get(best, ranks.get("*", 0.0)) > 0 else None


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if math.isfinite(q) and 0.0 <= q <= 1.0 else 0.0
    return 1.0


def compress(body: bytes, coding: str) -> bytes:
    if coding == "zstd":
        # A compressor per call: one object is not safe across worker threads.
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").partition(";")[0].strip().lower()


class Compression:
    """Compresses whole answers of `COMPRESSIBLE` types from `min_bytes` on."""

    def __init__(self, app: ASGIApp, *, min_bytes: int) -> None:
        self.app = app
        self.min_bytes = min_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        coding = chosen_coding(Headers(scope=scope).get("accept-encoding"))
        held: Message | None = None
        passing = False

        async def send_compressed(message: Message) -> None:
            nonlocal held, passing
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if message["status"] == 304:
                    # RFC 9110 section 15.4.5: the Vary the full answer would have carried.
                    headers.add_vary_header("Accept-Encoding")
                if (
                    message["status"] == 304
                    or _media_type(headers) not in COMPRESSIBLE
                    or "content-encoding" in headers
                ):
                    passing = True
                    await send(message)
                else:
                    held = message  # until the body shows whether it is whole and large
            elif held is not None:
                start, held, passing = held, None, True
                await self._send_body(start, message, coding, send)
            else:  # pragma: no cover - no app sends a body before its start
                await send(message)

        await self.app(scope, receive, send_compressed)

    async def _send_body(
        self, start: Message, first: Message, coding: str | None, send: Send
    ) -> None:
        body: bytes = first.get("body", b"")
        if first.get("more_body", False) or len(body) < self.min_bytes:
            await send(start)
            await send(first)
            return
        headers = MutableHeaders(scope=start)
        headers.add_vary_header("Accept-Encoding")
        if coding is not None:
            if len(body) >= IN_THREAD_FROM:
                body = await anyio.to_thread.run_sync(compress, body, coding)
            else:
                body = compress(body, coding)
            headers["Content-Encoding"] = coding
            headers["Content-Length"] = str(len(body))
            etag = headers.get("etag")
            if etag is not None and not etag.startswith("W/"):
                # RFC 9110 section 8.8.3: a strong tag names the bytes, which now differ.
                headers["ETag"] = "W/" + etag
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})
