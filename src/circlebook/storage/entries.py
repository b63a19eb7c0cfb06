"""Entries: the members of a book, read whole or as the rows a sync sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection

from circlebook.domain.model import Entry, Role
from circlebook.domain.tags import join_tags, split_tags
from circlebook.domain.visibility import Viewer
from circlebook.services.ports import EntryRow
from circlebook.storage.schema import accounts, entries

# The columns of `EntryRow`, in its order; a whole Entry adds its versions.
VIEW_ROW = (
    entries.c.id,
    entries.c.account_id,
    accounts.c.phone,
    entries.c.name,
    entries.c.tags,
    entries.c.role,
    entries.c.created_at,
    entries.c.updated_at,
)
ENTRY_ROW = (*VIEW_ROW, entries.c.version, entries.c.tags_version)

# Built once, as every small request runs them (see storage.accounts).
_ENTRY = select(entries.c.book_id, *ENTRY_ROW).join(accounts, accounts.c.id == entries.c.account_id)
_ENTRY_BY_ID = _ENTRY.where(
    entries.c.book_id == bindparam("book_id"), entries.c.id == bindparam("entry_id")
)
_ENTRY_OF_ACCOUNT = _ENTRY.where(
    entries.c.book_id == bindparam("book_id"), entries.c.account_id == bindparam("account_id")
)
_ENTRY_BY_INVITATION = _ENTRY.where(entries.c.invitation_id == bindparam("invitation_id"))
_ROWS = (
    select(*VIEW_ROW)
    .join(accounts, accounts.c.id == entries.c.account_id)
    .order_by(entries.c.created_at, entries.c.id)
)
_ROWS_ALL = _ROWS.where(entries.c.book_id == bindparam("book_id"))
_ROWS_SINCE = _ROWS.where(
    entries.c.book_id == bindparam("book_id"), entries.c.version > bindparam("since")
)
# A multiget's cards, found by primary key. SQLite, left to itself, walks the
# book's index and tests every entry against the list (at 10,000 entries a
# batch of 1,000 cost twenty times the lookups); `book_id || ''` is SQLite's
# documented way to keep a term off an index, and costs PostgreSQL nothing.
_ROWS_BY_ID = (
    select(*VIEW_ROW)
    .join(accounts, accounts.c.id == entries.c.account_id)
    .where(
        entries.c.id.in_(bindparam("ids", expanding=True)),
        entries.c.book_id.concat("") == bindparam("book_id"),
    )
)
# An entry written back whole (`save`): every column a change may touch.
_SAVE_ENTRY = (
    update(entries)
    .where(entries.c.id == bindparam("entry_id"))
    .values(
        name=bindparam("name"),
        tags=bindparam("tags"),
        role=bindparam("role"),
        updated_at=bindparam("updated_at"),
        version=bindparam("version"),
        tags_version=bindparam("tags_version"),
    )
)
# Every accept adds an entry (services.answers.join) while holding the book.
_ADD_ENTRY = insert(entries)


def entry_from_row(row: Row[Any], book_id: str) -> Entry:
    """The one mapping of the `ENTRY_ROW` columns, keyed by column: it holds in a join too."""
    m = row._mapping
    return Entry(
        id=m[entries.c.id],
        book_id=book_id,
        account_id=m[entries.c.account_id],
        phone=m[accounts.c.phone],
        name=m[entries.c.name],
        tags=split_tags(m[entries.c.tags]),
        role=Role(m[entries.c.role]),
        created_at=m[entries.c.created_at],
        updated_at=m[entries.c.updated_at],
        version=m[entries.c.version],
        tags_version=m[entries.c.tags_version],
    )


def _changeable(entry: Entry) -> dict[str, Any]:
    """The columns of an entry that a change may touch, as stored."""
    return {
        "name": entry.name,
        "tags": join_tags(entry.tags),
        "role": entry.role.value,
        "updated_at": entry.updated_at,
        "version": entry.version,
        "tags_version": entry.tags_version,
    }


def _counted(book_id: str, viewer: Viewer) -> Select[str, int]:
    """(book id, how many of its entries `viewer` sees): domain.visibility.can_see in SQL.

    tests/integration/test_visible_counts.py holds it equal to can_see over every
    mix of roles and tags.
    """
    where = [entries.c.book_id == book_id]
    if not viewer.is_owner:
        # Tags are stored joined by commas: a tag is held when ",tag," is in ",tags,".
        held = literal(",").concat(entries.c.tags).concat(",")
        shared = (
            [held.contains(f",{tag},", autoescape=True) for tag in sorted(viewer.tags)]
            if viewer.tags
            else [entries.c.tags == ""]
        )
        where.append(
            or_(
                entries.c.role == Role.OWNER.value,
                entries.c.account_id == viewer.account_id,
                *shared,
            )
        )
    return select(literal(book_id), func.count()).select_from(entries).where(*where)


class SqlEntries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entry: Entry, invitation_id: str | None = None) -> None:
        self.conn.execute(
            _ADD_ENTRY,
            {
                "id": entry.id,
                "book_id": entry.book_id,
                "account_id": entry.account_id,
                "name": entry.name,
                "tags": join_tags(entry.tags),
                "role": entry.role.value,
                "invitation_id": invitation_id,
                "created_at": entry.created_at,
                "updated_at": entry.updated_at,
                "version": entry.version,
                "tags_version": entry.tags_version,
            },
        )

    def _one(self, statement: Any, params: dict[str, str]) -> Entry | None:
        row = self.conn.execute(statement, params).first()
        return entry_from_row(row, row.book_id) if row else None

    def get(self, book_id: str, entry_id: str) -> Entry | None:
        return self._one(_ENTRY_BY_ID, {"book_id": book_id, "entry_id": entry_id})

    def of_account(self, book_id: str, account_id: str) -> Entry | None:
        return self._one(_ENTRY_OF_ACCOUNT, {"book_id": book_id, "account_id": account_id})

    def by_invitation(self, invitation_id: str) -> Entry | None:
        return self._one(_ENTRY_BY_INVITATION, {"invitation_id": invitation_id})

    def account_ids(self, book_id: str) -> list[str]:
        query = select(entries.c.account_id).where(entries.c.book_id == book_id)
        return list(self.conn.execute(query).scalars())

    def phones(self, book_id: str) -> set[str]:
        rows = self.conn.execute(
            select(accounts.c.phone)
            .join(entries, entries.c.account_id == accounts.c.id)
            .where(entries.c.book_id == book_id)
        )
        return {r.phone for r in rows}

    def rows(self, book_id: str, since: int | None = None) -> Sequence[EntryRow]:
        """Entry rows of a book (all, or changed after `since`) in the order of `EntryRow`."""
        if since is None:
            result = self.conn.execute(_ROWS_ALL, {"book_id": book_id})
        else:
            result = self.conn.execute(_ROWS_SINCE, {"book_id": book_id, "since": since})
        return result.all()

    def count_visible(self, book_id: str, viewer: Viewer) -> int:
        """How many of the book's entries `viewer` sees (domain.visibility.can_see, in SQL),
        counted without reading them: a book of 10,000 answers as fast as one of 10."""
        return self.count_visible_each({book_id: viewer}).get(book_id, 0)

    def count_visible_each(self, viewers: Mapping[str, Viewer]) -> dict[str, int]:
        """`count_visible` for many books (book id: its viewer) in one statement per 400."""
        counts: dict[str, int] = {}
        books = list(viewers.items())
        # Chunks keep each compound SELECT under SQLite's limit of 500 terms.
        for start in range(0, len(books), 400):
            counted = [_counted(book_id, viewer) for book_id, viewer in books[start : start + 400]]
            statement = counted[0] if len(counted) == 1 else union_all(*counted)
            counts.update((row[0], int(row[1])) for row in self.conn.execute(statement))
        return counts

    def rows_by_id(self, book_id: str, entry_ids: Sequence[str]) -> Sequence[EntryRow]:
        """The rows of the book's entries among `entry_ids` (others are left out), in no order."""
        found: list[EntryRow] = []
        # Chunks keep each IN list well under every backend's limit on bound parameters.
        for start in range(0, len(entry_ids), 500):
            chunk = entry_ids[start : start + 500]
            found += self.conn.execute(_ROWS_BY_ID, {"ids": chunk, "book_id": book_id}).all()
        return found

    def save(self, entry: Entry) -> None:
        """Write back what changes of an entry (its book, account and creation never do)."""
        self.conn.execute(_SAVE_ENTRY, {"entry_id": entry.id, **_changeable(entry)})

    def refuse_tokens_before(self, book_id: str, version: int) -> None:
        """Every member's view changed at `version`: sync tokens from before must resync."""
        self.conn.execute(
            update(entries).where(entries.c.book_id == book_id).values(tags_version=version)
        )

    def remove(self, entry_id: str) -> None:
        self.conn.execute(delete(entries).where(entries.c.id == entry_id))
