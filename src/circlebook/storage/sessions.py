"""Signed-in sessions, found by the hash of their token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.model import Account, Session
from circlebook.storage.accounts import account_from_row
from circlebook.storage.schema import accounts, sessions

# Built once, as every request signed in by token runs it (see storage.accounts).
_SESSION_ACCOUNT = (
    select(accounts, sessions)
    .join(sessions, sessions.c.account_id == accounts.c.id)
    .where(sessions.c.token_hash == bindparam("token_hash"))
)


def _session_from_row(row: Row[Any]) -> Session:
    """The one mapping of a `sessions` row, keyed by column: it holds in a join too."""
    m = row._mapping
    return Session(
        m[sessions.c.id],
        m[sessions.c.account_id],
        m[sessions.c.device],
        m[sessions.c.created_at],
        m[sessions.c.last_used_at],
    )


class SqlSessions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, session: Session, token_hash: str) -> None:
        self.conn.execute(
            insert(sessions).values(
                token_hash=token_hash,
                id=session.id,
                account_id=session.account_id,
                device=session.device,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
            )
        )

    def account(self, token_hash: str) -> tuple[Account, Session] | None:
        row = self.conn.execute(_SESSION_ACCOUNT, {"token_hash": token_hash}).first()
        if row is None:
            return None
        return account_from_row(row), _session_from_row(row)

    def of_account(self, account_id: str) -> list[tuple[Session, str]]:
        """The account's sessions, newest first, each with its token's hash."""
        rows = self.conn.execute(
            select(sessions)
            .where(sessions.c.account_id == account_id)
            .order_by(sessions.c.created_at.desc(), sessions.c.id)
        )
        return [(_session_from_row(r), r.token_hash) for r in rows]

    def touch(self, token_hash: str, now: str) -> None:
        self.conn.execute(
            update(sessions).where(sessions.c.token_hash == token_hash).values(last_used_at=now)
        )

    def remove(self, token_hash: str) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def remove_by_id(self, account_id: str, session_id: str) -> bool:
        result = self.conn.execute(
            delete(sessions).where(sessions.c.account_id == account_id, sessions.c.id == session_id)
        )
        return result.rowcount == 1

    def remove_others(self, account_id: str, keep_token_hash: str) -> int:
        result = self.conn.execute(
            delete(sessions).where(
                sessions.c.account_id == account_id, sessions.c.token_hash != keep_token_hash
            )
        )
        return int(result.rowcount)

    def remove_all(self, account_id: str) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.account_id == account_id))

    def remove_expired(self, idle_before: str | None, created_before: str | None) -> int:
        """Sessions unused since `idle_before` or begun before `created_before` (None: no bound)."""
        stale = [sessions.c.last_used_at < idle_before] if idle_before else []
        stale += [sessions.c.created_at < created_before] if created_before else []
        if not stale:
            return 0
        return int(self.conn.execute(delete(sessions).where(or_(*stale))).rowcount)
