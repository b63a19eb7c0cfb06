"""Where each kind of member's view of a book stands: the rows behind sync tokens and CTags."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from circlebook.domain.sync import ViewMark
from circlebook.domain.tags import join_tags, split_tags
from circlebook.storage.schema import book_views, entries

_V = book_views.c
# Built once, as every small request asks it (see the statements in storage.accounts).
_MARK = select(_V.version, _V.updated_at).where(
    _V.book_id == bindparam("book_id"), _V.tags == bindparam("tags")
)
_KINDS = select(_V.tags).where(_V.book_id == bindparam("book_id"))


def _advance(dialect: ModuleType) -> Any:
    """One view moved to a version, or kept from there on: sent once per view, in one call."""
    statement = dialect.insert(book_views)
    return statement.on_conflict_do_update(
        index_elements=[_V.book_id, _V.tags],
        set_={"version": statement.excluded.version, "updated_at": statement.excluded.updated_at},
    )


# Every change runs this, as many rows as the kinds it moves: a statement built
# for each change and row count was compiled anew each time (the most costly
# part of an accept, by the profile).
_ADVANCE = {"postgresql": _advance(postgresql), "sqlite": _advance(sqlite)}


class SqlBookViews:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def kinds(self, book_id: str) -> list[frozenset[str]]:
        rows = self.conn.execute(_KINDS, {"book_id": book_id})
        return [split_tags(tags) for (tags,) in rows]

    def advance(self, book_id: str, kinds: Sequence[frozenset[str]], version: int, at: str) -> None:
        """Move these kinds' views to `version` (a kind not kept yet starts there)."""
        if not kinds:
            return
        rows = [
            {"book_id": book_id, "tags": text, "version": version, "updated_at": at}
            for text in sorted({join_tags(k) for k in kinds})
        ]
        self.conn.execute(_ADVANCE[self.conn.dialect.name], rows)

    def of(self, book_id: str, tags: frozenset[str]) -> ViewMark | None:
        row = self.conn.execute(_MARK, {"book_id": book_id, "tags": join_tags(tags)}).first()
        return ViewMark(row[0], row[1]) if row else None

    def of_account(self, account_id: str) -> dict[str, ViewMark]:
        """The mark of this account's kind in each book it is in, in one query."""
        rows = self.conn.execute(
            select(_V.book_id, _V.version, _V.updated_at)
            .join(
                entries,
                and_(entries.c.book_id == _V.book_id, entries.c.tags == _V.tags),
            )
            .where(entries.c.account_id == account_id)
        )
        return {book_id: ViewMark(version, updated_at) for book_id, version, updated_at in rows}
