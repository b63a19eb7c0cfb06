"""Books and their entries, on each backend (entries through add, get, list and remove)."""

from __future__ import annotations

from circlebook.domain.events import BookChanged, BookLeft
from circlebook.domain.model import Book, Invitation, Role
from circlebook.domain.visibility import Viewer, can_see
from tests.storage.conftest import AT, Store, at, make_entry


def test_a_book_is_kept_and_found(store: Store) -> None:
    owner = store.account(1)
    book, _ = store.book(owner, version=4)
    with store.read() as uow:
        assert uow.books.get(book.id) == book
        assert uow.books.version(book.id) == 4
        assert uow.books.get("b_nosuchbook000") is None
        assert uow.books.version("b_nosuchbook000") is None


def test_a_bump_moves_the_version_and_time_and_may_retitle(store: Store) -> None:
    book, _ = store.book(store.account(1))
    with store.write() as uow:
        assert uow.books.bump(book.id, at(2)) == 2
        assert uow.books.bump(book.id, at(3), title="Renamed") == 3
        assert uow.books.advance(book.id, at(4)) == Book(
            book.id, "Renamed", book.owner_id, 4, AT, at(4)
        )
    with store.read() as uow:
        assert uow.books.get(book.id) == Book(book.id, "Renamed", book.owner_id, 4, AT, at(4))


def test_a_book_changes_hands(store: Store) -> None:
    owner, heir = store.account(1), store.account(2)
    book, _ = store.book(owner)
    with store.write() as uow:
        uow.books.set_owner(book.id, heir.id)
    with store.read() as uow:
        found = uow.books.get(book.id)
        assert found is not None
        assert found.owner_id == heir.id


def test_an_accounts_memberships_are_its_books_with_its_own_entries(store: Store) -> None:
    owner, member = store.account(1), store.account(2)
    first, owners_first = store.book(owner, 1)
    second, owners_second = store.book(owner, 2)
    mine = make_entry(second, member, n=1, tags=frozenset({"team"}))
    with store.write() as uow:
        uow.entries.add(mine)
    with store.read() as uow:
        assert sorted(uow.books.memberships(owner.id), key=lambda m: m[0].id) == [
            (first, owners_first),
            (second, owners_second),
        ]
        assert uow.books.memberships(member.id) == [(second, mine)]


def test_removing_a_book_takes_its_entries_invitations_and_history(store: Store) -> None:
    owner, member = store.account(1), store.account(2)
    book, _ = store.book(owner)
    kept, kept_owner_entry = store.book(owner, 2)
    with store.write() as uow:
        uow.entries.add(make_entry(book, member, n=1))
        uow.invitations.add(
            Invitation(
                "i_invite0001", book.id, "+8613899990000", None, frozenset(), owner.id, AT, at(9)
            )
        )
        uow.events.add(BookChanged(book_id=book.id, sync_token="1.token", created_at=AT))
        told = uow.events.add(BookLeft(book_id=book.id, account_id=member.id, created_at=AT))
    with store.write() as uow:
        uow.books.remove(book.id)
    with store.read() as uow:
        assert uow.books.get(book.id) is None
        assert uow.entries.account_ids(book.id) == []
        assert uow.invitations.get("i_invite0001") is None
        # What was told to an account stays; the book's own history goes.
        assert [e.id for e in uow.events.after(0, member.id, [book.id])] == [told.id]
        assert uow.books.memberships(owner.id) == [(kept, kept_owner_entry)]


def test_an_entry_is_found_by_id_by_account_and_by_invitation(store: Store) -> None:
    owner, member = store.account(1), store.account(2)
    book, _ = store.book(owner)
    entry = make_entry(book, member, n=1, tags=frozenset({"b", "a"}), version=3)
    with store.write() as uow:
        uow.entries.add(entry, invitation_id="i_invite0001")
    with store.read() as uow:
        assert uow.entries.get(book.id, entry.id) == entry
        assert uow.entries.of_account(book.id, member.id) == entry
        assert uow.entries.by_invitation("i_invite0001") == entry
        assert uow.entries.get("b_otherbook000", entry.id) is None
        assert uow.entries.by_invitation("i_invite0002") is None


def test_a_books_entries_are_listed_in_order_and_since_a_version(store: Store) -> None:
    owner, ann, bob = store.account(1), store.account(2, "Ann"), store.account(3, "Bob")
    book, owners = store.book(owner)
    with store.write() as uow:
        uow.entries.add(make_entry(book, bob, n=2, version=3, created_at=at(3)))
        uow.entries.add(
            make_entry(book, ann, n=1, tags=frozenset({"x"}), version=2, created_at=at(2))
        )
    with store.read() as uow:
        rows = uow.entries.rows(book.id)
        assert [tuple(r) for r in rows] == [
            (owners.id, owner.id, owner.phone, owner.name, "", "owner", AT, AT),
            ("e_entry00001", ann.id, ann.phone, "Ann", "x", "member", at(2), at(2)),
            ("e_entry00002", bob.id, bob.phone, "Bob", "", "member", at(3), at(3)),
        ]
        assert [r[0] for r in uow.entries.rows(book.id, since=2)] == ["e_entry00002"]
        assert uow.entries.phones(book.id) == {owner.phone, ann.phone, bob.phone}
        assert sorted(uow.entries.account_ids(book.id)) == sorted([owner.id, ann.id, bob.id])


def test_entries_asked_by_id_are_only_the_books_own(store: Store) -> None:
    owner, member = store.account(1), store.account(2)
    book, owners = store.book(owner, 1)
    other, others = store.book(owner, 2)
    with store.write() as uow:
        uow.entries.add(make_entry(book, member, n=1))
    with store.read() as uow:
        found = uow.entries.rows_by_id(book.id, ["e_entry00001", others.id, "e_nosuchentry"])
        assert [r[0] for r in found] == ["e_entry00001"]
        assert uow.entries.rows_by_id(other.id, [owners.id]) == []


def test_counting_visible_entries_follows_the_visibility_rule(store: Store) -> None:
    owner = store.account(1)
    book, owners = store.book(owner)
    # "a_b" holds an underscore, a LIKE wildcard: it must not match "axb".
    tag_sets = [
        frozenset(),
        frozenset({"a"}),
        frozenset({"ab"}),
        frozenset({"a_b"}),
        frozenset({"axb"}),
        frozenset({"a", "c"}),
    ]
    members = [store.account(10 + n) for n in range(len(tag_sets))]
    entries = [
        make_entry(book, m, n=n, tags=t)
        for n, (m, t) in enumerate(zip(members, tag_sets, strict=True))
    ]
    with store.write() as uow:
        for entry in entries:
            uow.entries.add(entry)
    viewers = [Viewer.of(owners), *(Viewer.of(e) for e in entries)]
    with store.read() as uow:
        for viewer in viewers:
            expected = sum(
                can_see(viewer, e.account_id, e.role, e.tags) for e in [owners, *entries]
            )
            assert uow.entries.count_visible(book.id, viewer) == expected, viewer.tags


def test_an_entry_is_removed(store: Store) -> None:
    owner, member = store.account(1), store.account(2)
    book, _ = store.book(owner)
    entry = make_entry(book, member, n=1)
    with store.write() as uow:
        uow.entries.add(entry)
    with store.write() as uow:
        uow.entries.remove(entry.id)
    with store.read() as uow:
        assert uow.entries.get(book.id, entry.id) is None
        assert uow.books.memberships(member.id) == []


def test_refusing_older_tokens_moves_every_entrys_tags_version(store: Store) -> None:
    owner, member = store.account(1), store.account(2)
    book, owners = store.book(owner)
    with store.write() as uow:
        uow.entries.add(make_entry(book, member, n=1))
        uow.entries.refuse_tokens_before(book.id, 7)
    with store.read() as uow:
        found = [uow.entries.get(book.id, i) for i in (owners.id, "e_entry00001")]
    assert [(e.tags_version, e.version) for e in found if e] == [(7, 1), (7, 1)]
    assert [e.role for e in found if e] == [Role.OWNER, Role.MEMBER]
