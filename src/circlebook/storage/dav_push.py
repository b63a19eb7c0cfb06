"""WebDAV-Push registrations: one row per (account, collection, push resource)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, String, and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.dav_push import HOME, Registration
from circlebook.domain.model import Role
from circlebook.domain.tags import split_tags
from circlebook.domain.visibility import Viewer
from circlebook.storage import claims
from circlebook.storage.schema import dav_push_registrations, entries

_R = dav_push_registrations.c

# Built once: every change to a book or to who is in it runs these, most often finding
# no registration at all (see storage.accounts).
_ON_HOMES = select(_R.id).where(
    _R.collection == HOME, _R.account_id.in_(bindparam("account_ids", expanding=True))
)
_CONCERNED = (
    select(
        _R.id,
        entries.c.account_id,
        entries.c.id.label("entry_id"),
        entries.c.role,
        entries.c.tags,
        entries.c.tags_version,
    )
    .select_from(
        dav_push_registrations.join(
            entries,
            and_(entries.c.book_id == _R.collection, entries.c.account_id == _R.account_id),
        )
    )
    .where(_R.collection == bindparam("book_id"))
)
_MARK = (
    update(dav_push_registrations)
    .where(_R.id.in_(bindparam("registration_ids", expanding=True)))
    .values(
        pending_at=func.coalesce(_R.pending_at, bindparam("now", type_=String)),
        changes=_R.changes + 1,
    )
)


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

    def remove_on(self, collection: str, account_ids: Sequence[str] | None = None) -> None:
        """Forget the registrations on a collection: all of them, or these accounts' only."""
        gone = delete(dav_push_registrations).where(_R.collection == collection)
        if account_ids is not None:
            gone = gone.where(_R.account_id.in_(account_ids))
        self.conn.execute(gone)

    def count_live(self, account_id: str, now: str) -> int:
        """The account's registrations not yet expired (the sweep drops the others later)."""
        counted = self.conn.execute(
            select(func.count())
            .select_from(dav_push_registrations)
            .where(_R.account_id == account_id, _R.expires_at > now)
        ).scalar_one()
        return int(counted)

    def on_homes(self, account_ids: Sequence[str]) -> list[str]:
        """The ids of the registrations on these accounts' address-book homes."""
        if not account_ids:
            return []
        rows = self.conn.execute(_ON_HOMES, {"account_ids": list(account_ids)})
        return [r.id for r in rows]

    def concerned(self, book_id: str) -> list[tuple[str, Viewer]]:
        """Every registration on this book, with its member as a viewer of the book."""
        rows = self.conn.execute(_CONCERNED, {"book_id": book_id})
        return [
            (
                r.id,
                Viewer(r.account_id, r.entry_id, Role(r.role), split_tags(r.tags), r.tags_version),
            )
            for r in rows
        ]

    def mark(self, registration_ids: Sequence[str], now: str) -> None:
        """These registrations' views changed: a message is due (one, however many marks)."""
        if not registration_ids:
            return
        self.conn.execute(_MARK, {"registration_ids": list(registration_ids), "now": now})

    def claim(
        self, worker: str, now: str, until: str, merged_before: str, limit: int
    ) -> list[tuple[Registration, int]]:
        """Take up to `limit` registrations with a message due, none sent since `merged_before`."""
        due = and_(
            _R.pending_at.is_not(None),
            _R.pending_at <= now,
            _R.expires_at > now,
            or_(_R.sent_at.is_(None), _R.sent_at <= merged_before),
        )
        claimed = claims.claim(
            self.conn, dav_push_registrations, due, _R.pending_at, worker, now, until, limit
        )
        if not claimed:
            return []
        rows = self.conn.execute(select(dav_push_registrations).where(_R.id.in_(claimed)))
        return [(_registration(r), r.changes) for r in rows]

    def settle(self, registration_id: str, changes: int, now: str, sent: bool) -> None:
        """After a try: a message sent clears the mark, unless another came meanwhile."""
        values: dict[str, object] = {"claimed_by": None, "claimed_until": None, "sent_at": now}
        if sent:
            values["pending_at"] = case((_R.changes == changes, None), else_=_R.pending_at)
        self.conn.execute(
            update(dav_push_registrations).where(_R.id == registration_id).values(**values)
        )

    def drop(self, registration_id: str) -> None:
        """The push service said the push resource is gone (404/410): forget it."""
        self.conn.execute(delete(dav_push_registrations).where(_R.id == registration_id))

    def prune_expired(self, now: str) -> None:
        self.conn.execute(delete(dav_push_registrations).where(_R.expires_at <= now))
