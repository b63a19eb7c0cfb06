"""A push service to register with, and an app whose push sender polls it quickly."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.e2e.dav_push import INTERVAL
from tests.e2e.push_service import PushService, push_service


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as running:
        yield running


@pytest.fixture
def merge() -> int:
    """Seconds the sender merges changes over; a test overrides it to see merging."""
    return 0


@pytest.fixture
def app(make_client: Callable[..., TestClient], merge: int) -> TestClient:
    return make_client(
        push_allow_loopback=True, dav_push_merge_seconds=merge, dav_push_interval_seconds=INTERVAL
    )
