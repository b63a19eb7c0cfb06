"""Reaching invitees: the do-not-invite list and the cap on the server's texts to a number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from circlebook.storage.schema import do_not_invite, invite_texts


def insert_new(conn: Connection, table: Table, **values: Any) -> bool:
    """INSERT unless the key is there; True if this call added the row (no race, no error)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = table.primary_key.columns.values()[0]
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
    return conn.execute(statement).first() is not None


class SqlDoNotInvite:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def has(self, phone_hash: str) -> bool:
        row = self.conn.execute(
            select(do_not_invite.c.phone_hash).where(do_not_invite.c.phone_hash == phone_hash)
        ).first()
        return row is not None

    def hashes_among(self, phone_hashes: set[str]) -> set[str]:
        if not phone_hashes:
            return set()
        rows = self.conn.execute(
            select(do_not_invite.c.phone_hash).where(
                do_not_invite.c.phone_hash.in_(sorted(phone_hashes))
            )
        )
        return {r.phone_hash for r in rows}

    def add(self, phone_hash: str, now: str) -> None:
        insert_new(self.conn, do_not_invite, phone_hash=phone_hash, created_at=now)

    def remove(self, phone_hash: str) -> bool:
        result = self.conn.execute(
            delete(do_not_invite).where(do_not_invite.c.phone_hash == phone_hash)
        )
        return result.rowcount == 1


class SqlInviteTexts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, phone_hash: str, now: str, window_cutoff: str, cap: int) -> bool:
        """Count one more text to the number if its window has room; False when it has not.

        An INSERT that ignores a conflict, then one conditional UPDATE, is the claim:
        concurrent invitations from different owners cannot both take the last text.
        """
        if cap < 1:
            return False
        if insert_new(self.conn, invite_texts, phone_hash=phone_hash, window_start=now, count=1):
            return True
        expired = invite_texts.c.window_start <= window_cutoff
        claimed = self.conn.execute(
            update(invite_texts)
            .where(
                invite_texts.c.phone_hash == phone_hash,
                expired | (invite_texts.c.count < cap),
            )
            .values(
                count=case((expired, 1), else_=invite_texts.c.count + 1),
                window_start=case((expired, now), else_=invite_texts.c.window_start),
            )
        ).rowcount
        return claimed == 1

    def purge_before(self, window_cutoff: str) -> None:
        self.conn.execute(delete(invite_texts).where(invite_texts.c.window_start <= window_cutoff))
