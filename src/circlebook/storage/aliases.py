"""Erasure's aliases: a per-book alias put where a deleted account's id was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection


def replace_per_book(
    conn: Connection, column: Any, account_id: str, alias: Callable[[str], str]
) -> None:
    """Where `column` holds the account's id, put `alias(book_id)` of that row's book."""
    table = column.table
    where = column == account_id
    found = conn.execute(select(table.c.book_id).where(where).distinct()).scalars().all()
    for book_id in found:
        conn.execute(
            update(table).where(where, table.c.book_id == book_id).values({column: alias(book_id)})
        )
