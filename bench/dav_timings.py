"""What a contacts app sends a CardDAV server, timed the same way against any server.

Nothing here knows which server answers: circlebook, Radicale and Xandikos are
asked the same REPORTs and PROPFINDs with the same bodies, and each answer is
read with patterns that accept any namespace prefix (Radicale writes `DAV:` as
the default namespace, Xandikos as `ns0:`, circlebook as `d:`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.stats import Sample, measure

XML = {"Content-Type": "application/xml; charset=utf-8"}
# A client asks for cards in batches, as DAVx5 and iOS do; circlebook also
# bounds a request body (1 MiB), which 10,000 hrefs in one multiget would pass.
MULTIGET_BATCH = 1000

SYNC = (
    '<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token>'
    "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
)
POLL = (
    '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><cs:getctag/><d:sync-token/></d:prop></d:propfind>"
)
MULTIGET = (
    '<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
    "<d:prop><d:getetag/><c:address-data/></d:prop>{hrefs}</c:addressbook-multiget>"
)
QUERY_ALL = (
    '<c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
    "<d:prop><d:getetag/><c:address-data/></d:prop></c:addressbook-query>"
)
_TOKEN = re.compile(r"<(?:[\w-]+:)?sync-token>([^<]+)</(?:[\w-]+:)?sync-token>")
_HREF = re.compile(r"<(?:[\w-]+:)?href>([^<]+)</(?:[\w-]+:)?href>")


@dataclass(frozen=True)
class AddressBook:
    """One address book as a client reaches it: the server, the collection, the credentials."""

    server: str
    base_url: str
    path: str
    auth: tuple[str, str] | None = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=self.auth, timeout=600)


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in statuses:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    return response


def report(dav: httpx.Client, path: str, body: str, depth: str = "0") -> str:
    headers = {**XML, "Depth": depth}
    return expect(dav.request("REPORT", path, content=body, headers=headers), 207).text


def sync(dav: httpx.Client, path: str, token: str = "") -> tuple[list[str], str]:
    """The member hrefs a sync-collection (RFC 6578) names, and its new token."""
    text = report(dav, path, SYNC.format(token=token))
    found = _TOKEN.search(text)
    if found is None:
        raise RuntimeError(f"no sync token in the answer: {text[:300]}")
    hrefs = [href for href in _HREF.findall(text) if href.rstrip("/") != path.rstrip("/")]
    return hrefs, found.group(1)


def multiget(dav: httpx.Client, path: str, hrefs: list[str]) -> int:
    """Fetch the cards at `hrefs` in batches; the number of cards that came back."""
    cards = 0
    for start in range(0, len(hrefs), MULTIGET_BATCH):
        batch = hrefs[start : start + MULTIGET_BATCH]
        body = MULTIGET.format(hrefs="".join(f'<d:href xmlns:d="DAV:">{h}</d:href>' for h in batch))
        cards += report(dav, path, body).count("BEGIN:VCARD")
    return cards


def initial_sync(dav: httpx.Client, path: str) -> tuple[int, str]:
    """What a phone does the first time: sync-collection with no token, then multiget it all."""
    hrefs, token = sync(dav, path)
    return multiget(dav, path, hrefs), token


def query_all(dav: httpx.Client, path: str) -> int:
    """Every card in one addressbook-query REPORT with no filter (RFC 6352 section 8.6).

    Depth 1 asks about the collection's members; at Depth 0 (the default) only
    the collection itself is tested, and Xandikos answers with no card.
    """
    return report(dav, path, QUERY_ALL, depth="1").count("BEGIN:VCARD")


def ctag_poll(dav: httpx.Client, path: str) -> None:
    headers = {**XML, "Depth": "0"}
    expect(dav.request("PROPFIND", path, content=POLL, headers=headers), 207)


def timed(action: Callable[[], object], *, runs: int, budget_s: float, warmup: int = 1) -> Sample:
    """Call `action` up to `runs` times one by one, stopping early once `budget_s` is spent
    (a slow server still gets three timed runs)."""
    return measure(action, warmup=warmup, runs=runs, budget_s=budget_s)


@dataclass(frozen=True)
class Request:
    """One small request to send again and again for a rate."""

    method: str
    url: str
    expected: int
    content: str | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Rate:
    """Requests per second under concurrent load, with the latency each request saw."""

    runs: int
    wall: float
    p50_ms: float
    p95_ms: float
    # Requests the server dropped (a closed connection, a timeout): they count for nothing.
    dropped: int
    client: str

    @property
    def per_second(self) -> float:
        return self.runs / self.wall if self.wall else 0.0


def rate_client() -> str:
    """wrk where it is installed (a C client leaves the cores to the server), else httpx."""
    return "wrk" if shutil.which("wrk") else "httpx"


def rate(
    base_url: str,
    request: Request,
    *,
    total: int,
    seconds: float,
    connections: int,
    auth: tuple[str, str] | None = None,
) -> Rate:
    """Send `request` over `connections` kept-alive connections at once, for a rate.

    With wrk, for `seconds`; with the httpx fallback, `total` times. The client
    shares the machine's cores with the server, so on a small machine the figure
    is a floor for fast servers; every server gets the same client. A connection
    the server closes on the client is counted as dropped, not fatal: a server
    that cannot take the load shows it in the figure.
    """
    if rate_client() == "wrk":
        return _wrk(base_url, request, seconds, connections, auth)
    return asyncio.run(_rate(base_url, request, total, connections, auth))


_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95)))
end
"""


def _wrk(
    base_url: str,
    request: Request,
    seconds: float,
    connections: int,
    auth: tuple[str, str] | None,
) -> Rate:
    headers = dict(request.headers or {})
    if auth:
        pair = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    script = _WRK_SCRIPT.format(
        method=json.dumps(request.method),
        body=json.dumps(request.content) if request.content else "nil",
        headers="\n".join(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
        ),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        threads = max(1, min(connections, os.cpu_count() or 1))
        done = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                lua.name,
                base_url + request.url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(lua.name)
    found = re.search(r"^WRK (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", done.stdout, re.M)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    answered, micros, dropped, wrong, p50, p95 = (int(g) for g in found.groups())
    if wrong:
        raise RuntimeError(f"{request.method} {request.url}: {wrong} answers were not 2xx/3xx")
    return Rate(answered, micros / 1e6, p50 / 1000, p95 / 1000, dropped, "wrk")


async def _rate(
    base_url: str,
    request: Request,
    total: int,
    connections: int,
    auth: tuple[str, str] | None,
) -> Rate:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    sample = Sample()
    dropped = 0
    left = total
    async with httpx.AsyncClient(
        base_url=base_url, auth=auth, limits=limits, timeout=120
    ) as client:

        async def send() -> float:
            t0 = time.perf_counter()
            response = await client.request(
                request.method, request.url, content=request.content, headers=request.headers
            )
            if response.status_code != request.expected:
                raise RuntimeError(
                    f"{request.method} {request.url} answered {response.status_code}: "
                    f"{response.text[:200]}"
                )
            return time.perf_counter() - t0

        async def worker() -> None:
            nonlocal left, dropped
            while left > 0:
                left -= 1
                try:
                    sample.seconds.append(await send())
                except httpx.TransportError:
                    dropped += 1

        # Warm every connection up before the clock starts.
        await asyncio.gather(*(send() for _ in range(connections)))
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        sample.wall = time.perf_counter() - started
    return Rate(sample.runs, sample.wall, sample.p50_ms, sample.p95_ms, dropped, "httpx")


def resident_mib(pid: int) -> float:
    """The process's resident memory (VmRSS in /proc/<pid>/status), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for row in status:
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
