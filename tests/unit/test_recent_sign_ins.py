"""What a process remembers of a sign-in: at most a second, and nothing past a write of its own."""

from __future__ import annotations

import pytest

from circlebook.services.recent_sign_ins import RecentSignIns


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value


class Stopwatch:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_sign_in_is_remembered_for_its_lifetime_and_not_a_moment_longer() -> None:
    writes, watch = Counter(), Stopwatch()
    seen: RecentSignIns[str] = RecentSignIns(1.0, writes, watch)
    seen.put("token", "ann", seen.mark())
    watch.now += 0.999
    assert seen.get("token") == "ann"
    watch.now += 0.001
    assert seen.get("token") is None
    assert seen.get("never put") is None


def test_a_write_of_this_process_makes_every_remembered_sign_in_worthless() -> None:
    writes, watch = Counter(), Stopwatch()
    seen: RecentSignIns[str] = RecentSignIns(1.0, writes, watch)
    seen.put("token", "ann", seen.mark())
    writes.value += 1
    assert seen.get("token") is None


def test_a_value_read_before_a_write_is_not_remembered_past_it() -> None:
    writes, watch = Counter(), Stopwatch()
    seen: RecentSignIns[str] = RecentSignIns(1.0, writes, watch)
    mark = seen.mark()  # the read begins
    writes.value += 1  # a sign-out commits meanwhile
    seen.put("token", "ann", mark)
    assert seen.get("token") is None


def test_a_lifetime_of_zero_remembers_nothing() -> None:
    seen: RecentSignIns[str] = RecentSignIns(0.0, Counter(), Stopwatch())
    seen.put("token", "ann", seen.mark())
    assert seen.get("token") is None


@pytest.mark.parametrize("seconds", [-0.1, 1.01, 60.0])
def test_no_sign_in_may_be_remembered_for_more_than_a_second(seconds: float) -> None:
    with pytest.raises(ValueError, match="at most 1 s"):
        RecentSignIns(seconds, Counter())


def test_an_entry_in_use_is_due_to_be_read_again_once_past_half_its_lifetime() -> None:
    writes, watch = Counter(), Stopwatch()
    seen: RecentSignIns[str] = RecentSignIns(1.0, writes, watch)
    seen.put("token", "ann", seen.mark())
    watch.now += 0.4
    assert not seen.due("token")
    watch.now += 0.1
    assert seen.due("token")
    assert not seen.due("token")  # one read for the entry, whoever asks next
    assert seen.get("token") == "ann"  # answered meanwhile
    assert not seen.due("never put")


def test_an_entry_due_to_be_read_again_still_ends_with_its_lifetime() -> None:
    writes, watch = Counter(), Stopwatch()
    seen: RecentSignIns[str] = RecentSignIns(1.0, writes, watch)
    seen.put("token", "ann", seen.mark())
    watch.now += 0.6
    assert seen.due("token")
    watch.now += 0.4
    assert seen.get("token") is None  # the read ahead never landed: gone at the second


def test_a_value_read_ahead_is_remembered_from_its_own_read() -> None:
    writes, watch = Counter(), Stopwatch()
    seen: RecentSignIns[str] = RecentSignIns(1.0, writes, watch)
    seen.put("token", "ann", seen.mark())
    watch.now += 0.6
    assert seen.due("token")
    seen.put("token", "ann again", seen.mark())
    watch.now += 0.9
    assert seen.get("token") == "ann again"
    assert seen.due("token")


def test_a_write_of_this_process_drops_an_entry_being_read_again() -> None:
    writes, watch = Counter(), Stopwatch()
    seen: RecentSignIns[str] = RecentSignIns(1.0, writes, watch)
    seen.put("token", "ann", seen.mark())
    watch.now += 0.6
    mark = seen.mark()
    assert seen.due("token")  # the read ahead begins
    writes.value += 1  # a sign-out commits here meanwhile
    assert seen.get("token") is None
    seen.put("token", "ann", mark)  # the read ahead lands, read before the write
    assert seen.get("token") is None
