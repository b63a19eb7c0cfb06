"""The count of a book's entries a member sees, made in SQL, is the count domain.visibility
says it sees; and an entry saved whole reads back as saved."""

from __future__ import annotations

import itertools
from dataclasses import replace

from sqlalchemy import Engine

from circlebook.domain.model import Account, Book, Entry, Role
from circlebook.domain.visibility import Viewer, can_see
from circlebook.storage.accounts import SqlAccounts
from circlebook.storage.books import SqlBooks
from circlebook.storage.entries import SqlEntries
from tests.conftest import an_entry

T = "2026-01-01T00:00:00.000000Z"
# Tags that a careless LIKE or substring test would confuse: a prefix of another,
# '_' (LIKE's any-one-character), '.' and '-', another script.
TAG_SETS = [
    frozenset(),
    frozenset({"a"}),
    frozenset({"ab"}),
    frozenset({"a_b"}),
    frozenset({"axb"}),
    frozenset({"a", "ab"}),
    frozenset({"b.c", "team-2"}),
    frozenset({"team"}),
    frozenset({"合唱"}),
    frozenset({"合唱", "team"}),
]


def _entry(book_id: str, n: int, account: Account, role: Role, tags: frozenset[str]) -> Entry:
    return an_entry(
        id=f"e_{book_id}_{n}",
        book_id=book_id,
        account_id=account.id,
        phone=account.phone,
        name=f"Person {n}",
        tags=tags,
        role=role,
    )


def _fill(engine: Engine) -> dict[str, list[Entry]]:
    """Two books: in each an owner and members holding every tag set, some twice."""
    people = [Account(f"a_{n}", f"+86138000{n:05d}", f"P{n}", T) for n in range(40)]
    books: dict[str, list[Entry]] = {}
    with engine.begin() as conn:
        for account in people:
            SqlAccounts(conn).add(account)
        for b, sets in (("b_one", TAG_SETS * 2), ("b_two", TAG_SETS[::3])):
            SqlBooks(conn).add(Book(b, b, people[0].id, 1, T, T))
            made = [_entry(b, 0, people[0], Role.OWNER, frozenset())]
            made += [
                _entry(b, n, people[n], Role.MEMBER, tags) for n, tags in enumerate(sets, start=1)
            ]
            for entry in made:
                SqlEntries(conn).add(entry)
            books[b] = made
    return books


def _by_rule(viewer: Viewer, entries: list[Entry]) -> int:
    return sum(can_see(viewer, e.account_id, e.role, e.tags) for e in entries)


def test_the_count_in_sql_is_the_count_the_visibility_rule_gives(engine: Engine) -> None:
    books = _fill(engine)
    with engine.connect() as conn:
        repo = SqlEntries(conn)
        for entries in books.values():
            for me in entries:
                viewer = Viewer.of(me)
                assert repo.count_visible(me.book_id, viewer) == _by_rule(viewer, entries), me
        # Kinds of member that hold no entry yet, with every pair of tag sets: the rule
        # and the SQL agree for tags nobody in the book holds too.
        for tags in {a | b for a, b in itertools.product(TAG_SETS, repeat=2)}:
            viewer = Viewer.kind(tags)
            assert repo.count_visible("b_one", viewer) == _by_rule(viewer, books["b_one"]), tags
        # The counts are not all alike: the rule has something to decide here.
        assert len({_by_rule(Viewer.of(me), books["b_one"]) for me in books["b_one"]}) > 3


def test_many_books_are_counted_in_one_statement_each_by_its_own_viewer(engine: Engine) -> None:
    books = _fill(engine)
    viewers = {b: Viewer.of(entries[3]) for b, entries in books.items()}
    with engine.connect() as conn:
        counts = SqlEntries(conn).count_visible_each(viewers)
        assert counts == {b: _by_rule(viewers[b], books[b]) for b in books}
        assert SqlEntries(conn).count_visible_each({}) == {}
        assert SqlEntries(conn).count_visible("b_none", viewers["b_one"]) == 0


def test_an_entry_saved_whole_reads_back_as_saved(engine: Engine) -> None:
    books = _fill(engine)
    before = books["b_one"][2]
    after = replace(
        before,
        name="Renamed",
        tags=frozenset({"x", "y"}),
        role=Role.OWNER,
        updated_at="2026-02-01T00:00:00.000000Z",
        version=7,
        tags_version=6,
    )
    with engine.begin() as conn:
        SqlEntries(conn).save(after)
    with engine.connect() as conn:
        assert SqlEntries(conn).get("b_one", before.id) == after
        # Only that entry changed.
        assert SqlEntries(conn).get("b_one", books["b_one"][3].id) == books["b_one"][3]
