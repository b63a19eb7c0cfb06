"""`python -m bench.observe`: what the request log and metrics layer adds to a request, in µs.

    python -m bench.observe [--requests 20000] [--repeats 5]

Drives a bare ASGI endpoint (1 KB of JSON) in this process, directly and then
wrapped in observe.requests.RequestLog: with metrics off (the request id and
the route template, paid by every request) and with metrics on. The access
line itself is left out (uvicorn wrote one per request before this layer
took it over); its cost with the JSON fields is measured beside uvicorn's
own line, both written to /dev/null through uvicorn's formatter. Each figure
is the best of `--repeats` runs (contention only ever adds time), printed
beside the bare endpoint measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.logging import AccessFormatter

from circlebook.observe.metrics import Metrics
from circlebook.observe.requests import RequestLog

BODY = orjson.dumps({"items": [{"id": i, "name": f"entry {i:04d}"} for i in range(40)]})
TARGET_OFF_US = 5.0  # what the layer may add with metrics off
TARGET_ON_US = 15.0  # what metrics may add on top
ACCESS_FORMAT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


class _Route:
    path_format = "/v1/books/{book_id}"


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    scope["route"] = _Route  # as the router leaves it
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


async def _drive(app: ASGIApp, requests: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    headers = [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer 0123456789abcdef")]
    started = time.perf_counter()
    for _ in range(requests):
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/v1/books/b_123",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "http_version": "1.1",
        }
        await app(scope, receive, send)
    return time.perf_counter() - started


def best_us(app: ASGIApp, requests: int, repeats: int) -> float:
    return min(asyncio.run(_drive(app, requests)) for _ in range(repeats)) / requests * 1e6


def access_line_us(requests: int, repeats: int, *, fields: bool) -> float:
    """One access line through uvicorn's formatter to /dev/null, with or without JSON fields."""
    logger = logging.getLogger("bench.observe.access")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    with open(os.devnull, "w") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(AccessFormatter(ACCESS_FORMAT))
        logger.addHandler(handler)
        extra = {"route": "/v1/books/{book_id}", "method": "GET", "status": 200}
        extra |= {"duration": 0.000123, "request_id": "0" * 32}
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(requests):
                args = ("127.0.0.1:50000", "GET", "/v1/books/{book_id}", "1.1", 200)
                logger.info('%s - "%s %s HTTP/%s" %d', *args, extra=extra if fields else None)
            best = min(best, time.perf_counter() - started)
        logger.removeHandler(handler)
    return best / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description="what RequestLog and metrics add, in µs")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, k = args.requests, args.repeats
    logging.getLogger("circlebook.access").setLevel(logging.WARNING)  # lines measured apart
    reference = best_us(bare, n, k)
    off = best_us(RequestLog(bare, meter=None), n, k)
    on = best_us(RequestLog(bare, meter=Metrics()), n, k)
    uvicorn_line = access_line_us(n, k, fields=False)
    our_line = access_line_us(n, k, fields=True)
    rows = [
        ("bare endpoint (reference)", reference, None, ""),
        ("RequestLog, metrics off", off, off - reference, f"<= {TARGET_OFF_US:.0f} µs"),
        ("RequestLog, metrics on", on, on - off, f"<= {TARGET_ON_US:.0f} µs over off"),
        ("access line as uvicorn wrote it (reference)", uvicorn_line, None, ""),
        ("access line with the JSON fields", our_line, our_line - uvicorn_line, ""),
    ]
    print(f"{'measurement':<46} {'µs/request':>10} {'added µs':>9}  target")
    for name, us, added, target in rows:
        shown = "" if added is None else f"{added:9.1f}"
        print(f"{name:<46} {us:10.1f} {shown:>9}  {target}")
    print(f"best of {k} runs of {n} requests each; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
