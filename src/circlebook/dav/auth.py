"""HTTP Basic sign-in with an app password (RFC 7617), and the throttle on wrong guesses.

The throttle counts failures in memory, per user name and per client address:
keeping them in the database would turn every wrong guess into a write, which
is itself a way to load a server. Each server process counts on its own, so N
instances allow at most N times the limit, which stays far from guessing a
120-bit password.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
from collections import OrderedDict, deque

_MAX_CREDENTIALS = 512  # bytes of a Basic header's payload; real ones are well under 100
_MAX_KEYS = 100_000  # failure counters kept at once; the oldest are forgotten first


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user name, password) from an `Authorization: Basic` header; None if absent or unreadable."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or len(encoded) > _MAX_CREDENTIALS:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or not user or not password:
        return None
    return user, password


class FailureThrottle:
    """After `limit` failures for one key within `window` seconds, that key waits.

    A limit of 0 turns the throttle off.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, keys: list[str], now: float) -> int | None:
        """Seconds until the first of `keys` over its limit may try again; None if none is."""
        if not self.limit:
            return None
        waits = []
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.limit:
                    waits.append(times[-self.limit] + self.window - now)
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, keys: list[str], now: float) -> None:
        if not self.limit:
            return
        with self._lock:
            for key in keys:
                times = self._recent(key, now) or deque(maxlen=self.limit)
                times.append(now)
                self._failures[key] = times
                self._failures.move_to_end(key)
            while len(self._failures) > _MAX_KEYS:
                self._failures.popitem(last=False)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
