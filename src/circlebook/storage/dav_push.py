"""WebDAV-Push registrations: one row per (account, collection, push resource)."""

from __future__ import annotations

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.dav_push import Registration
from circlebook.storage.schema import dav_push_registrations

_R = dav_push_registrations.c


def _registration(row: Row[tuple[object, ...]]) -> Registration:
    return Registration(
        id=row.id,
        account_id=row.account_id,
        collection=row.collection,
        push_resource=row.push_resource,
        p256dh=row.p256dh,
        auth=row.auth,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlDavPushRegistrations:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find(self, account_id: str, collection: str, push_resource: str) -> Registration | None:
        row = self.conn.execute(
            select(dav_push_registrations).where(
                _R.account_id == account_id,
                _R.collection == collection,
                _R.push_resource == push_resource,
            )
        ).one_or_none()
        return _registration(row) if row else None

    def add(self, registration: Registration) -> None:
        self.conn.execute(
            insert(dav_push_registrations).values(
                id=registration.id,
                account_id=registration.account_id,
                collection=registration.collection,
                push_resource=registration.push_resource,
                p256dh=registration.p256dh,
                auth=registration.auth,
                expires_at=registration.expires_at,
                created_at=registration.created_at,
                updated_at=registration.updated_at,
            )
        )

    def update(self, registration: Registration) -> None:
        self.conn.execute(
            update(dav_push_registrations)
            .where(_R.id == registration.id)
            .values(
                p256dh=registration.p256dh,
                auth=registration.auth,
                expires_at=registration.expires_at,
                updated_at=registration.updated_at,
            )
        )

    def of_account(self, account_id: str) -> list[Registration]:
        rows = self.conn.execute(
            select(dav_push_registrations)
            .where(_R.account_id == account_id)
            .order_by(_R.created_at, _R.id)
        )
        return [_registration(r) for r in rows]

    def remove(self, account_id: str, registration_id: str) -> bool:
        gone = self.conn.execute(
            delete(dav_push_registrations).where(
                _R.account_id == account_id, _R.id == registration_id
            )
        )
        return gone.rowcount > 0

    def remove_all(self, account_id: str) -> None:
        self.conn.execute(delete(dav_push_registrations).where(_R.account_id == account_id))
