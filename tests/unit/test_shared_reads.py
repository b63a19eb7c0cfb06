"""Requests asking the same at once share one read, never one begun before a write of ours."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from circlebook.services.shared_reads import SharedReads

# Only a guard against a hung test: nothing here asserts how long anything takes.
HANG = 30.0


class Reads:
    """Read functions that can be held open, and a count of this process's writes."""

    def __init__(self) -> None:
        self.writes = 0
        self.calls: list[str] = []
        self.release = threading.Event()

    def held(self, value: str) -> str:
        self.calls.append(value)
        if not self.release.wait(HANG):
            raise TimeoutError("the test never released the read")
        return value

    def quick(self, value: str) -> str:
        self.calls.append(value)
        return value


def _wait_for(condition: object) -> None:
    deadline = time.monotonic() + HANG
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the other thread never got there")
        time.sleep(0.005)


def _waiting_on(shared: SharedReads, key: str) -> bool:
    """Whether some caller waits for the read of `key` under way."""
    futures: list[Future[object]] = [f for (k, _), f in shared._reading.items() if k == key]
    return any(f._condition._waiters for f in futures)  # type: ignore[attr-defined]


def test_a_caller_asking_while_the_same_read_is_under_way_gets_its_answer() -> None:
    reads = Reads()
    shared = SharedReads(lambda: reads.writes)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(shared.read, "book", lambda: reads.held("first"))
        _wait_for(lambda: reads.calls)
        second = pool.submit(shared.read, "book", lambda: reads.quick("second"))
        _wait_for(lambda: _waiting_on(shared, "book") or "second" in reads.calls)
        reads.release.set()
        assert (first.result(HANG), second.result(HANG)) == ("first", "first")
    assert reads.calls == ["first"]


def test_a_read_begun_before_a_write_here_is_not_shared_after_it() -> None:
    reads = Reads()
    shared = SharedReads(lambda: reads.writes)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(shared.read, "book", lambda: reads.held("before"))
        _wait_for(lambda: reads.calls)
        reads.writes += 1  # a change commits while the first read is under way
        # Its own read, at once: were it waiting for the first, this would hang.
        assert shared.read("book", lambda: reads.quick("after")) == "after"
        reads.release.set()
        assert first.result(HANG) == "before"
    assert reads.calls == ["before", "after"]


def test_other_keys_are_read_on_their_own_and_nothing_is_kept_once_answered() -> None:
    reads = Reads()
    shared = SharedReads(lambda: reads.writes)
    assert shared.read("a", lambda: reads.quick("a")) == "a"
    assert shared.read("b", lambda: reads.quick("b")) == "b"
    assert shared.read("a", lambda: reads.quick("a again")) == "a again"
    assert reads.calls == ["a", "b", "a again"]


def test_a_failed_read_fails_for_everyone_who_shared_it_and_the_next_reads_again() -> None:
    reads = Reads()
    shared = SharedReads(lambda: reads.writes)

    def failing() -> str:
        reads.held("failing")
        raise LookupError("no such book")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(shared.read, "book", failing)
        _wait_for(lambda: reads.calls)
        second = pool.submit(shared.read, "book", lambda: reads.quick("second"))
        _wait_for(lambda: _waiting_on(shared, "book") or "second" in reads.calls)
        reads.release.set()
        for caller in (first, second):
            with pytest.raises(LookupError):
                caller.result(HANG)
    assert shared.read("book", lambda: reads.quick("later")) == "later"
    assert reads.calls == ["failing", "later"]


def test_a_read_ahead_runs_in_the_background_and_a_caller_meanwhile_shares_it() -> None:
    reads = Reads()
    shared = SharedReads(lambda: reads.writes)
    failed = threading.Event()
    shared.ahead("book", lambda: reads.held("ahead"), failed.set)  # returns at once
    _wait_for(lambda: reads.calls)
    with ThreadPoolExecutor(1) as pool:
        asking = pool.submit(shared.read, "book", lambda: reads.quick("asked"))
        _wait_for(lambda: _waiting_on(shared, "book") or "asked" in reads.calls)
        reads.release.set()
        assert asking.result(HANG) == "ahead"
    shared.close()
    assert reads.calls == ["ahead"]
    assert not failed.is_set()


def test_a_failed_read_ahead_is_reported_so_that_the_value_is_forgotten() -> None:
    shared = SharedReads(lambda: 0)
    failed = threading.Event()

    def signed_out() -> str:
        raise LookupError("no such session")

    shared.ahead("token", signed_out, failed.set)
    assert failed.wait(HANG)
    shared.close()


def test_nothing_is_read_ahead_once_closed() -> None:
    reads = Reads()
    shared = SharedReads(lambda: reads.writes)
    shared.close()
    shared.ahead("book", lambda: reads.quick("ahead"), lambda: None)
    assert shared.read("book", lambda: reads.quick("asked")) == "asked"
    assert reads.calls == ["asked"]
