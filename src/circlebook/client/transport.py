"""How an API call goes over HTTP and its answer is read, for both clients."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from circlebook.client.calls import Call
from circlebook.client.errors import TransportError, error_for

T = TypeVar("T")
# A stream may stay quiet for long; the server's keep-alives arrive every 15 s.
STREAM_TIMEOUT = httpx.Timeout(10.0, read=60.0)
EVENTS_PATH = "/v1/events"
DEFAULT_DEVICE = "circlebook SDK"


def headers(token: str | None, last_event_id: str | None = None) -> dict[str, str]:
    sent = {"Authorization": f"Bearer {token}"} if token else {}
    if last_event_id is not None:
        sent["Last-Event-ID"] = last_event_id
    return sent


def request_args(call: Call[Any], token: str | None) -> dict[str, Any]:
    """What httpx's request() takes besides method and path."""
    kwargs: dict[str, Any] = {"headers": headers(token), "params": call.params or None}
    if call.json is not None:
        kwargs["json"] = call.json
    return kwargs


def read(call: Call[T], response: httpx.Response) -> T:
    """The call's typed result, or the typed error the problem body names."""
    check(response)
    if call.raw:
        return call.read(response.text)
    if response.status_code == 204 or not response.content:
        return call.read(None)
    return call.read(response.json())


def check(response: httpx.Response) -> None:
    """Raise the typed error of a 4xx or 5xx answer (its body already read)."""
    if response.status_code < 400:
        return
    try:
        problem: dict[str, Any] = response.json()
        if not isinstance(problem, dict):
            raise ValueError
    except ValueError:
        problem = {"title": response.reason_phrase, "detail": response.text[:200]}
    raise error_for(response.status_code, problem, response.headers.get("Retry-After"))


def unreachable(base_url: httpx.URL, exc: httpx.HTTPError) -> TransportError:
    return TransportError(f"cannot reach {base_url}: {exc}")


def stream_ended(base_url: httpx.URL, exc: httpx.HTTPError) -> TransportError:
    return TransportError(f"event stream from {base_url} ended: {exc}")
