"""A book's history on each backend: departures, the event log, and erasure's aliases."""

from __future__ import annotations

from sqlalchemy import Engine, select

from circlebook.domain.events import BookChanged, InvitationReceived
from circlebook.domain.model import Departure
from circlebook.storage.aliases import replace_per_book
from circlebook.storage.departures import SqlDepartures
from circlebook.storage.schema import departures
from tests.storage.conftest import AT, Store, at


def alias(book_id: str) -> str:
    return f"alias-of-{book_id}"


def test_departures_are_read_after_a_version_in_order(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    gone = [Departure(f"e_gone{v}", f"a_left{v}", frozenset({"t"}), v) for v in (4, 2, 3)]
    with store.write() as uow:
        for d in gone:
            uow.departures.add(book.id, d, AT)
    with store.read() as uow:
        assert [d.version for d in uow.departures.since(book.id, 2)] == [3, 4]
        assert uow.departures.since(book.id, 0)[0] == gone[1]
        assert uow.departures.floor(book.id) == 0


def test_pruning_departures_raises_the_books_floor_past_them(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner, 1)
    quiet, _ = store.book(owner, 2)
    with store.write() as uow:
        uow.departures.add(book.id, Departure("e_gone1", "a_left1", frozenset(), 2), at(1))
        uow.departures.add(book.id, Departure("e_gone2", "a_left2", frozenset(), 5), at(2))
        uow.departures.add(book.id, Departure("e_gone3", "a_left3", frozenset(), 7), at(9))
    with store.write() as uow:
        uow.departures.prune_before(at(5))
    with store.read() as uow:
        assert uow.departures.floor(book.id) == 5
        assert uow.departures.floor(quiet.id) == 0
        assert [d.entry_id for d in uow.departures.since(book.id, 0)] == ["e_gone3"]


def test_an_erased_accounts_departures_carry_a_per_book_alias(store: Store) -> None:
    owner = store.account(1)
    first, _ = store.book(owner, 1)
    second, _ = store.book(owner, 2)
    with store.write() as uow:
        for book in (first, second):
            uow.departures.add(book.id, Departure("e_gone", "a_erased", frozenset(), 2), AT)
        uow.departures.add(first.id, Departure("e_kept", "a_stays", frozenset(), 3), AT)
    with store.write() as uow:
        uow.departures.replace_account("a_erased", alias)
    with store.read() as uow:
        assert [d.account_id for d in uow.departures.since(first.id, 0)] == [
            alias(first.id),
            "a_stays",
        ]
        assert [d.account_id for d in uow.departures.since(second.id, 0)] == [alias(second.id)]


def test_replacing_per_book_leaves_other_accounts_rows(store: Store, engine: Engine) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    with engine.begin() as conn:
        SqlDepartures(conn).add(book.id, Departure("e_gone", "a_erased", frozenset(), 2), AT)
        SqlDepartures(conn).add(book.id, Departure("e_kept", "a_stays", frozenset(), 3), AT)
        replace_per_book(conn, departures.c.account_id, "a_erased", alias)
        rows = conn.execute(select(departures.c.account_id).order_by(departures.c.version))
        assert list(rows.scalars()) == [alias(book.id), "a_stays"]


def book_event(book_id: str, subject: str | None = None, created: str = AT) -> BookChanged:
    return BookChanged(
        book_id=book_id,
        sync_token="2.token",
        subject_id=subject,
        old_tags=frozenset({"a"}),
        new_tags=frozenset(),
        created_at=created,
        version=2,
    )


def told(account_id: str, created: str = AT, invitation_id: str = "i_0") -> InvitationReceived:
    return InvitationReceived(
        account_id=account_id, invitation_id=invitation_id, book_id="b_0", created_at=created
    )


def test_events_are_numbered_in_order_and_read_back_whole(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    with store.write() as uow:
        assert uow.events.last_id() == 0
        first = uow.events.add(book_event(book.id, owner.id))
        second = uow.events.add(told(owner.id, invitation_id="i_1"))
    assert 0 < first.id < second.id
    with store.read() as uow:
        assert uow.events.after(0, owner.id, [book.id]) == [first, second]
        assert (uow.events.first_id(), uow.events.last_id()) == (first.id, second.id)


def test_an_account_reads_its_own_events_and_its_books(store: Store) -> None:
    owner, other = store.account(1), store.account(2)
    book, _ = store.book(owner, 1)
    elsewhere, _ = store.book(other, 2)
    with store.write() as uow:
        in_book = uow.events.add(book_event(book.id))
        uow.events.add(book_event(elsewhere.id))
        mine = uow.events.add(told(owner.id))
        uow.events.add(told(other.id))
    with store.read() as uow:
        assert uow.events.after(0, owner.id, [book.id]) == [in_book, mine]
        assert uow.events.after(0, owner.id, []) == [mine]
        assert uow.events.after(in_book.id, owner.id, [book.id]) == [mine]


def test_old_events_are_pruned(store: Store) -> None:
    owner = store.account(1)
    with store.write() as uow:
        uow.events.add(told(owner.id, at(1)))
        young = uow.events.add(told(owner.id, at(5)))
    with store.write() as uow:
        uow.events.prune_before(at(3))
    with store.read() as uow:
        assert uow.events.after(0, owner.id, []) == [young]
        assert uow.events.first_id() == young.id


def test_notices_of_deleted_invitations_and_of_an_erased_account_are_forgotten(
    store: Store,
) -> None:
    owner, other = store.account(1), store.account(2)
    with store.write() as uow:
        uow.events.add(told(owner.id, invitation_id="i_gone"))
        kept = uow.events.add(told(owner.id, invitation_id="i_kept"))
        uow.events.add(told(other.id, invitation_id="i_other"))
    with store.write() as uow:
        uow.events.forget_invitations(["i_gone"])
        uow.events.forget_account(other.id)
    with store.read() as uow:
        assert uow.events.after(0, owner.id, []) == [kept]
        assert uow.events.after(0, other.id, []) == []


def test_an_erased_subject_of_a_books_events_becomes_its_alias(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    with store.write() as uow:
        uow.events.add(book_event(book.id, "a_erased"))
        uow.events.add(book_event(book.id, "a_stays"))
    with store.write() as uow:
        uow.events.replace_subject("a_erased", alias)
    with store.read() as uow:
        subjects = [e.subject_id for e in uow.events.after(0, owner.id, [book.id])]
    assert subjects == [alias(book.id), "a_stays"]
