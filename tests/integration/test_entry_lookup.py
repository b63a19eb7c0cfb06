"""A multiget's cards are found by their ids, in their book only, without walking the book."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, insert
from sqlalchemy.engine import Connection

from circlebook.storage import migrate
from circlebook.storage.database import make_engine
from circlebook.storage.entries import SqlEntries
from circlebook.storage.schema import accounts, books, entries

T = "2026-01-01T00:00:00.000000Z"


def _fill(conn: Connection, book_id: str, people: int) -> list[str]:
    conn.execute(
        insert(books).values(
            id=book_id, title=book_id, owner_id="a_owner", version=1, created_at=T, updated_at=T
        )
    )
    ids = []
    for n in range(people):
        account = f"a_{book_id}_{n}"
        conn.execute(
            insert(accounts).values(
                id=account, phone=f"+86139{len(book_id)}{n:06d}", name=account, created_at=T
            )
        )
        entry = f"e_{book_id}_{n}"
        conn.execute(
            insert(entries).values(
                id=entry,
                book_id=book_id,
                account_id=account,
                name=f"Person {n}",
                tags="",
                role="member",
                created_at=T,
                updated_at=T,
                version=1,
                tags_version=0,
            )
        )
        ids.append(entry)
    return ids


def test_a_multiget_finds_its_entries_by_id_and_only_in_its_book(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lookup.db'}")
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(accounts).values(
                    id="a_owner", phone="+8613800000000", name="o", created_at=T
                )
            )
            mine = _fill(conn, "b_mine", 30)
            theirs = _fill(conn, "b_theirs", 5)
        statements: list[tuple[str, object]] = []

        def seen(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
            statements.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", seen)
        with engine.connect() as conn:
            rows = SqlEntries(conn).rows_by_id("b_mine", [mine[3], theirs[0], mine[7], "e_none"])
            event.remove(engine, "before_cursor_execute", seen)
            assert sorted(row[0] for row in rows) == sorted([mine[3], mine[7]])
            statement, parameters = statements[-1]  # after the connection's own PRAGMAs
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        searches = " / ".join(str(step[-1]) for step in plan if "entries" in str(step[-1]))
        # The primary key's index (SQLite names it sqlite_autoindex_entries_1), not the book's.
        assert "sqlite_autoindex_entries" in searches, searches
        assert "book_id" not in searches, searches
    finally:
        engine.dispose()
