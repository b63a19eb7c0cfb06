"""The app passwords repository: the storage side of `services.ports.AppPasswords`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.model import AppPassword
from circlebook.storage.schema import app_passwords

# Built once: every CardDAV sign-in that is not remembered asks it.
_HASHES = (
    select(app_passwords)
    .where(app_passwords.c.account_id == bindparam("account_id"))
    .order_by(app_passwords.c.created_at, app_passwords.c.id)
)


def _app_password(row: Row[Any]) -> AppPassword:
    return AppPassword(row.id, row.account_id, row.label, row.created_at, row.last_used_at)


class SqlAppPasswords:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, app_password: AppPassword, password_hash: str) -> None:
        self.conn.execute(
            insert(app_passwords).values(
                id=app_password.id,
                account_id=app_password.account_id,
                label=app_password.label,
                password_hash=password_hash,
                created_at=app_password.created_at,
                last_used_at=app_password.last_used_at,
            )
        )

    def of_account(self, account_id: str) -> list[AppPassword]:
        return [app_password for app_password, _ in self.hashes(account_id)]

    def hashes(self, account_id: str) -> list[tuple[AppPassword, str]]:
        """The account's app passwords with their stored hashes, oldest first."""
        rows = self.conn.execute(_HASHES, {"account_id": account_id})
        return [(_app_password(r), r.password_hash) for r in rows]

    def remove(self, account_id: str, app_password_id: str) -> bool:
        result = self.conn.execute(
            delete(app_passwords).where(
                app_passwords.c.account_id == account_id, app_passwords.c.id == app_password_id
            )
        )
        return result.rowcount == 1

    def touch(self, app_password_id: str, now: str) -> None:
        self.conn.execute(
            update(app_passwords)
            .where(app_passwords.c.id == app_password_id)
            .values(last_used_at=now)
        )

    def remove_all(self, account_id: str) -> None:
        self.conn.execute(delete(app_passwords).where(app_passwords.c.account_id == account_id))
