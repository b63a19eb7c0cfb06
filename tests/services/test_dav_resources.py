"""The CardDAV tree over the services: a book found again within the second is not read again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from circlebook.dav.resources import Book, Session, resolve
from circlebook.services import books
from circlebook.services.recent_sign_ins import RecentSignIns
from circlebook.services.runtime import Runtime
from tests.services.world import World


class CountedTransactions:
    """The runtime's unit of work, counting the transactions it opens."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.opened = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.opened += 1
        return self.inner(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def remembering(rt: Runtime) -> tuple[Runtime, CountedTransactions]:
    """`rt` remembering books for a second, as the app does, with its transactions counted."""
    counted = CountedTransactions(rt.uow)
    return replace(rt, uow=counted, books_seen=RecentSignIns(1.0, rt.uow.writes)), counted


def test_a_book_resolved_again_within_the_second_is_not_read_again(world: World) -> None:
    """A phone polls the CTag, then sends its sync REPORT: one read of its membership."""
    ann = world.person("Ann")
    summary, _ = world.book(ann, title="Club")
    rt, counted = remembering(world.rt)
    path = f"addressbooks/{ann.id}/{summary.book.id}/"
    first = resolve(Session(rt, ann, "/dav"), path)
    read = counted.opened
    again = resolve(Session(rt, ann, "/dav"), path)
    assert counted.opened == read  # answered from memory
    assert isinstance(first, Book) and isinstance(again, Book)
    assert (again.path, again.displayname(), again.sync_token()) == (
        first.path,
        first.displayname(),
        first.sync_token(),
    )


def test_a_change_made_here_is_seen_by_the_next_resolve(world: World) -> None:
    ann = world.person("Ann")
    summary, _ = world.book(ann, title="Club")
    rt, _ = remembering(world.rt)
    path = f"addressbooks/{ann.id}/{summary.book.id}/"
    before = resolve(Session(rt, ann, "/dav"), path)
    books.rename_book(rt, ann, summary.book.id, "Chess club")
    after = resolve(Session(rt, ann, "/dav"), path)
    assert after.displayname() == "Chess club"
    assert after.sync_token() != before.sync_token()
