"""The consent ledger repository: the storage side of `services.ports.Ledger`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Connection

from circlebook.hashchain import GENESIS, Record, canonical, chain
from circlebook.storage.events import OrderLock
from circlebook.storage.schema import ledger

# Built once: every accept and every other consent change appends (see storage.accounts).
_NEWEST = (
    select(ledger.c.seq, ledger.c.hash)
    .where(ledger.c.account_id == bindparam("account_id"))
    .order_by(ledger.c.seq.desc())
    .limit(1)
)
_APPEND = insert(ledger)


def _record(body: str, hash_: str) -> Record:
    record: Record = orjson.loads(body)
    record["hash"] = hash_
    return record


class SqlLedger:
    def __init__(self, conn: Connection, order: OrderLock | None = None) -> None:
        self.conn = conn
        self.order = order or OrderLock(conn)

    def append(
        self, record_id: str, account_id: str, kind: str, at: str, fields: Mapping[str, Any]
    ) -> Record:
        """Chain a record after the account's newest; must run in a write transaction.

        SQLite's writers already take turns (BEGIN IMMEDIATE). On PostgreSQL two
        transactions could both read the same newest record; the lock, held to
        commit, makes the second read the first's record instead of colliding
        with it on (account_id, seq).
        """
        self.order.take()
        last = self.conn.execute(_NEWEST, {"account_id": account_id}).first()
        seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
        record = chain(prev, seq, kind, at, fields)
        self.conn.execute(
            _APPEND,
            {
                "id": record_id,
                "account_id": account_id,
                "seq": seq,
                "created_at": at,
                "body": canonical(record).decode(),
                "hash": record["hash"],
            },
        )
        return record

    def page(self, account_id: str, after: int | None, limit: int) -> list[Record]:
        """Up to `limit` records older than seq `after` (or the newest), newest first."""
        query = select(ledger.c.body, ledger.c.hash).where(ledger.c.account_id == account_id)
        if after is not None:
            query = query.where(ledger.c.seq < after)
        rows = self.conn.execute(query.order_by(ledger.c.seq.desc()).limit(limit))
        return [_record(r.body, r.hash) for r in rows]

    def all(self, account_id: str) -> list[Record]:
        """The whole chain, oldest first."""
        rows = self.conn.execute(
            select(ledger.c.body, ledger.c.hash)
            .where(ledger.c.account_id == account_id)
            .order_by(ledger.c.seq)
        )
        return [_record(r.body, r.hash) for r in rows]

    def forget(self, account_id: str) -> None:
        self.conn.execute(delete(ledger).where(ledger.c.account_id == account_id))
