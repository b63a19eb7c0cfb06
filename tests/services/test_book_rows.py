"""A book's rows kept between full fetches: read once per version, never stale, dropped on
removal and erasure (services.book_rows)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from circlebook.services import entries, privacy
from circlebook.services.book_rows import BookRows
from circlebook.storage.entries import SqlEntries
from tests.services.world import World


@pytest.fixture
def kept(world: World) -> World:
    """The world with books' rows kept, as the app keeps them."""
    return replace(world, rt=replace(world.rt, book_rows=BookRows(1000)))


@pytest.fixture
def row_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The books whose rows were read from the database, in order."""
    reads: list[str] = []
    read = SqlEntries.rows

    def counted(self: SqlEntries, book_id: str, since: Any = None) -> Any:
        if since is None:
            reads.append(book_id)
        return read(self, book_id, since)

    monkeypatch.setattr(SqlEntries, "rows", counted)
    return reads


def names(world: World, account: Any, book_id: str) -> list[str]:
    return sorted(e.name for e in entries.fetch_entries(world.rt, account, book_id).entries)


def test_members_fetching_an_unchanged_book_share_one_read(
    kept: World, row_reads: list[str]
) -> None:
    owner = kept.person("Owner")
    summary, _ = kept.book(owner)
    member, _ = kept.member(owner, summary.book.id, "Member")
    assert names(kept, owner, summary.book.id) == ["Member", "Owner"]
    assert names(kept, member, summary.book.id) == ["Member", "Owner"]
    assert names(kept, owner, summary.book.id) == ["Member", "Owner"]
    assert row_reads == [summary.book.id]


def test_a_change_is_in_the_next_full_fetch(kept: World, row_reads: list[str]) -> None:
    owner = kept.person("Owner")
    summary, _ = kept.book(owner)
    member, mine = kept.member(owner, summary.book.id, "Member")
    assert names(kept, owner, summary.book.id) == ["Member", "Owner"]
    entries.update_entry(kept.rt, member, summary.book.id, mine.id, name="Renamed")
    assert names(kept, owner, summary.book.id) == ["Owner", "Renamed"]
    assert row_reads == [summary.book.id] * 2


def test_a_removed_members_row_is_not_kept(kept: World) -> None:
    owner = kept.person("Owner")
    summary, _ = kept.book(owner)
    _, theirs = kept.member(owner, summary.book.id, "Member")
    names(kept, owner, summary.book.id)
    entries.remove_entry(kept.rt, owner, summary.book.id, theirs.id)
    assert len(kept.rt.book_rows) == 0


def test_an_erased_persons_row_is_not_kept(kept: World) -> None:
    owner = kept.person("Owner")
    summary, _ = kept.book(owner)
    member, _ = kept.member(owner, summary.book.id, "Member")
    names(kept, owner, summary.book.id)
    privacy.delete_account(kept.rt, member, member.phone)
    assert len(kept.rt.book_rows) == 0
