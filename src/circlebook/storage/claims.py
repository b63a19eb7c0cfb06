"""Rows taken by one sender among several instances: the claim both push outboxes use.

A sender claims rows with one UPDATE whose WHERE names only rows nobody holds;
on PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so two instances
claiming at once take different rows instead of queueing on each other, and
SQLite serialises writers anyway. Either way each row has one sender.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, update
from sqlalchemy.engine import Connection


def claim(
    conn: Connection,
    table: Table,
    due: ColumnElement[bool],
    order_by: Any,
    worker: str,
    now: str,
    until: str,
    limit: int,
) -> list[Any]:
    """Claim up to `limit` rows that are `due` and free (never claimed, or the claim ran
    out at `now`) for `worker` until `until`; the ids of the rows taken."""
    c = table.c
    free = and_(due, or_(c.claimed_until.is_(None), c.claimed_until < now))
    picked = select(c.id).where(free).order_by(order_by).limit(limit)
    if conn.dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    taken = conn.execute(
        update(table)
        .where(c.id.in_(picked.scalar_subquery()), free)
        .values(claimed_by=worker, claimed_until=until)
        .returning(c.id)
    )
    return [r.id for r in taken]
