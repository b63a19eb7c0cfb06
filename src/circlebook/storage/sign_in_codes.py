"""One-time sign-in codes: sent by text, guessed a few times at most, used once."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from circlebook.storage.schema import auth_codes


class SqlCodes:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, phone_hash: str, code_hash: str, created_at: str, expires_at: str) -> None:
        self.conn.execute(
            insert(auth_codes).values(
                phone_hash=phone_hash,
                code_hash=code_hash,
                created_at=created_at,
                expires_at=expires_at,
                attempts=0,
                used=False,
            )
        )

    def live(self, phone_hash: str, now: str) -> tuple[int, str] | None:
        """The newest code for this phone that is unused and unexpired."""
        row = self.conn.execute(
            select(auth_codes.c.id, auth_codes.c.code_hash)
            .where(
                auth_codes.c.phone_hash == phone_hash,
                auth_codes.c.used.is_(False),
                auth_codes.c.expires_at > now,
            )
            .order_by(auth_codes.c.id.desc())
            .limit(1)
        ).first()
        return (row.id, row.code_hash) if row else None

    def claim_attempt(self, code_id: int, max_attempts: int) -> bool:
        """Take one of the code's attempts; False when they are all taken (or it was used).

        One conditional UPDATE: on PostgreSQL concurrent guesses queue on the row's
        lock and each re-reads the count, so no more than `max_attempts` ever pass.
        """
        claimed = self.conn.execute(
            update(auth_codes)
            .where(
                auth_codes.c.id == code_id,
                auth_codes.c.used.is_(False),
                auth_codes.c.attempts < max_attempts,
            )
            .values(attempts=auth_codes.c.attempts + 1)
            .returning(auth_codes.c.id)
        ).first()
        return claimed is not None

    def use(self, code_id: int) -> bool:
        """Mark a code used; False when another request used it first."""
        result = self.conn.execute(
            update(auth_codes)
            .where(auth_codes.c.id == code_id, auth_codes.c.used.is_(False))
            .values(used=True)
        )
        return result.rowcount == 1

    def purge_created_before(self, cutoff: str) -> None:
        self.conn.execute(delete(auth_codes).where(auth_codes.c.created_at < cutoff))

    def forget(self, phone_hash: str) -> None:
        self.conn.execute(delete(auth_codes).where(auth_codes.c.phone_hash == phone_hash))
