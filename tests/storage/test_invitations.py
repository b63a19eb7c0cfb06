"""Invitations and the daily invitation count, on each backend."""

from __future__ import annotations

from circlebook.domain.model import Account, Book, Invitation
from tests.storage.conftest import Store, at

FRIEND, OTHER = "+8613800300001", "+8613800300002"


def invitation(
    n: int, book: Book, owner: Account, phone: str = FRIEND, expires: str = at(30)
) -> Invitation:
    return Invitation(
        f"i_invite{n:04d}",
        book.id,
        phone,
        f"Guest {n}",
        frozenset({"t"}),
        owner.id,
        at(1),
        expires,
    )


def test_an_invitation_is_found_by_id_and_by_its_link_while_live(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    kept = invitation(1, book, owner, expires=at(10))
    with store.write() as uow:
        uow.invitations.add(kept, link_hash="link-1")
    with store.read() as uow:
        assert uow.invitations.get(kept.id) == kept
        assert uow.invitations.by_link("link-1", at(9)) == kept
        assert uow.invitations.by_link("link-1", at(10)) is None
        assert uow.invitations.by_link("link-2", at(9)) is None


def test_an_invitation_is_taken_once_by_its_own_number_while_live(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    kept = invitation(1, book, owner, expires=at(10))
    with store.write() as uow:
        uow.invitations.add(kept)
    with store.write() as uow:
        assert uow.invitations.take(kept.id, OTHER, at(2)) is None
        assert uow.invitations.take(kept.id, FRIEND, at(10)) is None
        assert uow.invitations.take(kept.id, FRIEND, at(2)) == kept
        assert uow.invitations.take(kept.id, FRIEND, at(2)) is None
    with store.read() as uow:
        assert uow.invitations.get(kept.id) is None


def test_pending_invitations_are_listed_by_book_and_by_phone_without_expired_ones(
    store: Store,
) -> None:
    owner = store.account(1)
    book, _ = store.book(owner, 1)
    other, _ = store.book(owner, 2)
    live = invitation(1, book, owner, expires=at(20))
    expired = invitation(2, book, owner, OTHER, expires=at(5))
    elsewhere = invitation(3, other, owner, expires=at(20))
    with store.write() as uow:
        for i in (live, expired, elsewhere):
            uow.invitations.add(i)
    with store.read() as uow:
        assert uow.invitations.pending_for_book(book.id, at(10)) == [live]
        assert uow.invitations.pending_for_phone(FRIEND, at(10)) == [live, elsewhere]
        assert uow.invitations.phones(book.id, at(1)) == {FRIEND, OTHER}
        assert uow.invitations.phones(book.id, at(10)) == {FRIEND}
        assert uow.invitations.sent_by(owner.id, at(10)) == [live, elsewhere]


def test_expired_invitations_are_purged_and_named(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    with store.write() as uow:
        uow.invitations.add(invitation(1, book, owner, expires=at(5)))
        uow.invitations.add(invitation(2, book, owner, OTHER, expires=at(20)))
    with store.write() as uow:
        assert uow.invitations.purge_expired(at(5)) == ["i_invite0001"]
    with store.read() as uow:
        assert [i.id for i in uow.invitations.pending_for_book(book.id, at(1))] == ["i_invite0002"]


def test_invitations_are_taken_by_phone_or_by_sender_live_or_not(store: Store) -> None:
    owner, other_owner = store.account(1), store.account(2)
    book, _ = store.book(owner, 1)
    other, _ = store.book(other_owner, 2)
    with store.write() as uow:
        uow.invitations.add(invitation(1, book, owner, expires=at(2)))
        uow.invitations.add(invitation(2, other, other_owner))
        uow.invitations.add(invitation(3, book, owner, OTHER))
    with store.write() as uow:
        assert sorted(i.id for i in uow.invitations.take_all_for_phone(FRIEND)) == [
            "i_invite0001",
            "i_invite0002",
        ]
        assert [i.id for i in uow.invitations.take_sent_by(owner.id)] == ["i_invite0003"]
    with store.read() as uow:
        assert uow.invitations.pending_for_book(book.id, at(1)) == []
        assert uow.invitations.pending_for_book(other.id, at(1)) == []


def test_an_invitation_is_removed_only_from_its_own_book(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner, 1)
    other, _ = store.book(owner, 2)
    with store.write() as uow:
        uow.invitations.add(invitation(1, book, owner))
    with store.write() as uow:
        assert not uow.invitations.remove(other.id, "i_invite0001")
        assert uow.invitations.remove(book.id, "i_invite0001")
        assert not uow.invitations.remove(book.id, "i_invite0001")


def test_an_invitation_is_reminded_once(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner)
    with store.write() as uow:
        uow.invitations.add(invitation(1, book, owner))
    with store.write() as uow:
        assert uow.invitations.mark_reminded("i_invite0001", at(3))
        assert not uow.invitations.mark_reminded("i_invite0001", at(4))
    with store.read() as uow:
        found = uow.invitations.get("i_invite0001")
        assert found is not None
        assert found.reminded_at == at(3)


def test_the_daily_count_is_claimed_up_to_its_cap_and_starts_again_each_day(
    store: Store,
) -> None:
    owner = store.account(1)
    day, next_day = "2026-03-01", "2026-03-02"
    with store.write() as uow:
        assert not uow.invite_quota.claim(owner.id, day, 4, 3)
        assert uow.invite_quota.claim(owner.id, day, 2, 3)
        assert not uow.invite_quota.claim(owner.id, day, 2, 3)
        assert uow.invite_quota.claim(owner.id, day, 1, 3)
        assert uow.invite_quota.used(owner.id, day) == 3
    with store.write() as uow:
        assert uow.invite_quota.claim(owner.id, next_day, 3, 3)
        assert uow.invite_quota.used(owner.id, day) == 0
        uow.invite_quota.forget(owner.id)
        assert uow.invite_quota.used(owner.id, next_day) == 0


def test_old_daily_counts_are_purged(store: Store) -> None:
    owner = store.account(1)
    with store.write() as uow:
        uow.invite_quota.claim(owner.id, "2026-03-01", 2, 5)
    with store.write() as uow:
        uow.invite_quota.purge_before("2026-03-02")
        assert uow.invite_quota.used(owner.id, "2026-03-01") == 0
