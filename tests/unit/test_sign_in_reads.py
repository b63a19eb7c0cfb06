"""Requests that carry the same token while it is being read share that one read."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from circlebook.domain.errors import NotAuthenticatedError
from circlebook.domain.model import Account
from circlebook.edge import deps
from circlebook.edge.deps import SignInReads

ANN = Account("a_ann000000", "+8613500135021", "Ann", "2026-03-01T09:00:00.000000Z")


class BlockedRead:
    """Stands in for auth.authenticate: counts its calls, and answers once released."""

    def __init__(self, answer: Account | Exception) -> None:
        self.answer = answer
        self.calls = 0
        self.release = threading.Event()

    def __call__(self, _rt: Any, _token: str) -> Account:
        self.calls += 1
        assert self.release.wait(timeout=30)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def _ask_ten(read: BlockedRead) -> list[Account | BaseException]:
    reads = SignInReads()
    asking = [asyncio.ensure_future(reads.account(None, "token")) for _ in range(10)]  # type: ignore[arg-type]
    await asyncio.sleep(0)  # every request has asked before the read answers
    read.release.set()
    return await asyncio.gather(*asking, return_exceptions=True)


def test_ten_requests_with_one_token_make_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    read = BlockedRead(ANN)
    monkeypatch.setattr(deps.auth, "authenticate", read)
    assert asyncio.run(_ask_ten(read)) == [ANN] * 10
    assert read.calls == 1


def test_a_refused_token_is_refused_to_every_request_that_waited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = BlockedRead(NotAuthenticatedError("signed out"))
    monkeypatch.setattr(deps.auth, "authenticate", read)
    answers = asyncio.run(_ask_ten(read))
    assert all(isinstance(a, NotAuthenticatedError) for a in answers)
    assert read.calls == 1


def test_the_next_request_after_a_read_reads_again(monkeypatch: pytest.MonkeyPatch) -> None:
    read = BlockedRead(ANN)
    read.release.set()
    monkeypatch.setattr(deps.auth, "authenticate", read)

    async def twice() -> None:
        reads = SignInReads()
        await reads.account(None, "token")  # type: ignore[arg-type]
        await reads.account(None, "token")  # type: ignore[arg-type]

    asyncio.run(twice())
    assert read.calls == 2
