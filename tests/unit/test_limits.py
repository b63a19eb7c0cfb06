"""Per-process bounds: the event streams one account may hold open."""

from __future__ import annotations

import pytest

from circlebook.api.limits import StreamSlots
from circlebook.domain.errors import RateLimitedError


def test_a_released_stream_frees_its_slot_once_however_often_it_is_released() -> None:
    slots = StreamSlots(2)
    first = slots.take("a_1")
    slots.take("a_1")
    with pytest.raises(RateLimitedError) as refused:
        slots.take("a_1")
    assert refused.value.retry_after > 0
    slots.take("a_2")  # another account counts on its own
    first()
    first()
    assert slots.open_for("a_1") == 1
    slots.take("a_1")
    with pytest.raises(RateLimitedError):
        slots.take("a_1")


def test_zero_streams_per_account_means_no_limit() -> None:
    slots = StreamSlots(0)
    for _ in range(100):
        slots.take("a_1")
    assert slots.open_for("a_1") == 100
