"""A page is read in one unit of work, and shows what the separate reads would; leaving
a book is one use case, which the owner cannot use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from circlebook.domain.errors import ConflictError, ForbiddenError, NotFoundError
from circlebook.domain.model import Account
from circlebook.services import answers, auth, books, entries, invitations, pages
from circlebook.services.invitations import Invitee
from circlebook.services.reach import Reach
from circlebook.services.runtime import Runtime

VIA = Reach("http://127.0.0.1")
OWNER, ANN, BOB, CAT, OUT = (f"+86138001386{n:02d}" for n in range(5))


class Counted:
    """The runtime's units of work, counted."""

    def __init__(self, rt: Runtime) -> None:
        self.opened = 0
        self.rt = replace(rt, uow=self._uow)
        self._inner = rt.uow

    @contextmanager
    def _uow(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.opened += 1
        with self._inner(*args, **kwargs) as uow:
            yield uow


@pytest.fixture
def book(client: TestClient, people: Any) -> tuple[Runtime, dict[str, Account], str]:
    """A book whose owner tagged Ann and Bob "team" and left Cat untagged; Dan still invited."""
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    who = {
        name: auth.authenticate(rt, people(phone, name).token)
        for name, phone in (
            ("owner", OWNER),
            ("ann", ANN),
            ("bob", BOB),
            ("cat", CAT),
            ("out", OUT),
        )
    }
    invitees = [Invitee(ANN, tags=["team"]), Invitee(BOB, tags=["team"]), Invitee(CAT)]
    summary, _ = books.create_book(rt, who["owner"], "Choir", invitees, VIA)
    book_id = summary.book.id
    for name in ("ann", "bob", "cat"):
        (item,) = answers.inbox(rt, who[name])
        answers.accept(rt, who[name], item.invitation.id)
    invitations.invite(rt, who["owner"], book_id, [Invitee("+8613800138699")], VIA)
    return rt, who, book_id


def test_the_book_page_is_one_read_showing_the_header_and_the_entries_the_member_sees(
    book: tuple[Runtime, dict[str, Account], str],
) -> None:
    rt, who, book_id = book
    for name in ("owner", "ann", "cat"):
        counted = Counted(rt)
        page = pages.book_page(counted.rt, who[name], book_id)
        assert counted.opened == 1
        assert page.summary == books.get_book(rt, who[name], book_id)
        assert page.entries == entries.fetch_entries(rt, who[name], book_id).entries
    assert len(pages.book_page(rt, who["ann"], book_id).entries) == 3  # owner, Ann, Bob
    with pytest.raises(NotFoundError):
        pages.book_page(rt, who["out"], book_id)


def test_the_manage_page_is_one_read_and_only_the_owners(
    book: tuple[Runtime, dict[str, Account], str],
) -> None:
    rt, who, book_id = book
    counted = Counted(rt)
    page = pages.manage_page(counted.rt, who["owner"], book_id, VIA)
    assert counted.opened == 1
    assert page.summary == books.get_book(rt, who["owner"], book_id)
    assert page.summary.visible_entries == len(page.members) == 4
    assert page.members == entries.fetch_entries(rt, who["owner"], book_id).entries
    assert page.pending == invitations.pending_for_book(rt, who["owner"], book_id, VIA)
    assert len(page.pending) == 1
    with pytest.raises(ForbiddenError):
        pages.manage_page(rt, who["ann"], book_id, VIA)
    with pytest.raises(NotFoundError):
        pages.manage_page(rt, who["out"], book_id, VIA)


def test_my_books_counts_each_book_as_its_page_does(
    book: tuple[Runtime, dict[str, Account], str],
) -> None:
    rt, who, book_id = book
    other, _ = books.create_book(rt, who["ann"], "Ann's own", [], VIA)
    for name in ("owner", "ann", "cat"):
        listed = books.list_books(rt, who[name])
        assert listed == [books.get_book(rt, who[name], s.book.id) for s in listed]
    counts = {s.book.id: s.visible_entries for s in books.list_books(rt, who["ann"])}
    assert counts == {book_id: 3, other.book.id: 1}


def test_a_member_leaves_in_one_step_and_the_owner_cannot(
    book: tuple[Runtime, dict[str, Account], str],
) -> None:
    rt, who, book_id = book
    counted = Counted(rt)
    entries.leave_book(counted.rt, who["bob"], book_id)
    assert counted.opened == 1
    with pytest.raises(NotFoundError):
        books.get_book(rt, who["bob"], book_id)
    assert {e.name for e in entries.fetch_entries(rt, who["ann"], book_id).entries} == {
        "owner",
        "ann",
    }
    with pytest.raises(ConflictError):
        entries.leave_book(rt, who["owner"], book_id)
    with pytest.raises(NotFoundError):
        entries.leave_book(rt, who["out"], book_id)
    assert books.get_book(rt, who["owner"], book_id).visible_entries == 3
