"""Invitations: pending, by link or by phone, and the daily cap on sending them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from circlebook.domain.model import Invitation
from circlebook.domain.tags import join_tags, split_tags
from circlebook.storage.outreach import insert_new
from circlebook.storage.schema import invitations, invite_quota


def _pending_at(now: str | BindParameter[str]) -> ColumnElement[bool]:
    """An invitation is pending until it expires; an expired one waits only for the sweep."""
    return invitations.c.expires_at > now


# Built once, as every accept runs them (see storage.accounts).
_TAKE = (
    delete(invitations)
    .where(
        invitations.c.id == bindparam("invitation_id"),
        invitations.c.phone == bindparam("phone"),
        _pending_at(bindparam("now")),
    )
    .returning(*invitations.c)
)


_INVITATION = select(invitations).where(invitations.c.id == bindparam("invitation_id"))


def _invitation_from_row(row: Row[Any]) -> Invitation:
    return Invitation(
        row.id,
        row.book_id,
        row.phone,
        row.name,
        split_tags(row.tags),
        row.invited_by,
        row.created_at,
        row.expires_at,
        row.reminded_at,
    )


class SqlInvitations:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, invitation: Invitation, link_hash: str | None = None) -> None:
        self.conn.execute(
            insert(invitations).values(
                link_hash=link_hash,
                id=invitation.id,
                book_id=invitation.book_id,
                phone=invitation.phone,
                name=invitation.name,
                tags=join_tags(invitation.tags),
                invited_by=invitation.invited_by,
                created_at=invitation.created_at,
                expires_at=invitation.expires_at,
            )
        )

    def get(self, invitation_id: str) -> Invitation | None:
        row = self.conn.execute(_INVITATION, {"invitation_id": invitation_id}).first()
        return _invitation_from_row(row) if row else None

    def by_link(self, link_hash: str, now: str) -> Invitation | None:
        row = self.conn.execute(
            select(invitations).where(invitations.c.link_hash == link_hash, _pending_at(now))
        ).first()
        return _invitation_from_row(row) if row else None

    def mark_reminded(self, invitation_id: str, now: str) -> bool:
        """Claim the invitation's one reminder; False if it was already sent (atomic)."""
        return (
            self.conn.execute(
                update(invitations)
                .where(invitations.c.id == invitation_id, invitations.c.reminded_at.is_(None))
                .values(reminded_at=now)
            ).rowcount
            == 1
        )

    def take_all_for_phone(self, phone: str) -> list[Invitation]:
        """Delete and return every invitation to `phone`, live or not."""
        rows = self.conn.execute(
            delete(invitations).where(invitations.c.phone == phone).returning(*invitations.c)
        )
        return [_invitation_from_row(r) for r in rows]

    def pending_for_book(self, book_id: str, now: str) -> list[Invitation]:
        return self._pending(invitations.c.book_id == book_id, now, invitations.c.phone)

    def pending_for_phone(self, phone: str, now: str) -> list[Invitation]:
        return self._pending(invitations.c.phone == phone, now, invitations.c.id)

    def _pending(
        self, which: ColumnElement[bool], now: str, then_by: ColumnElement[Any]
    ) -> list[Invitation]:
        """The pending invitations among `which`, oldest first, ties broken by `then_by`."""
        rows = self.conn.execute(
            select(invitations)
            .where(which, _pending_at(now))
            .order_by(invitations.c.created_at, then_by)
        )
        return [_invitation_from_row(r) for r in rows]

    def phones(self, book_id: str, now: str) -> set[str]:
        rows = self.conn.execute(
            select(invitations.c.phone).where(invitations.c.book_id == book_id, _pending_at(now))
        )
        return {r.phone for r in rows}

    def take(self, invitation_id: str, phone: str, now: str) -> Invitation | None:
        """Delete and return a live invitation to `phone`; None if it is not there (any more)."""
        row = self.conn.execute(
            _TAKE, {"invitation_id": invitation_id, "phone": phone, "now": now}
        ).first()
        return _invitation_from_row(row) if row else None

    def remove(self, book_id: str, invitation_id: str) -> bool:
        result = self.conn.execute(
            delete(invitations).where(
                invitations.c.book_id == book_id, invitations.c.id == invitation_id
            )
        )
        return result.rowcount == 1

    def purge_expired(self, now: str) -> list[str]:
        """Delete expired invitations, returning their ids.

        They hold phones and names nobody agreed to share.
        """
        expired = delete(invitations).where(invitations.c.expires_at <= now)
        rows = self.conn.execute(expired.returning(invitations.c.id))
        return list(rows.scalars())

    def sent_by(self, account_id: str, now: str) -> list[Invitation]:
        return self._pending(invitations.c.invited_by == account_id, now, invitations.c.id)

    def take_sent_by(self, account_id: str) -> list[Invitation]:
        """Delete and return every invitation the account sent, live or not."""
        rows = self.conn.execute(
            delete(invitations)
            .where(invitations.c.invited_by == account_id)
            .returning(*invitations.c)
        )
        return [_invitation_from_row(r) for r in rows]


class SqlInviteQuota:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def used(self, account_id: str, day: str) -> int:
        value = self.conn.execute(
            select(func.coalesce(func.sum(invite_quota.c.count), 0)).where(
                invite_quota.c.account_id == account_id, invite_quota.c.day == day
            )
        ).scalar_one()
        return int(value)

    def claim(self, account_id: str, day: str, count: int, cap: int) -> bool:
        """Spend `count` of the day's `cap` in one conditional UPDATE; False if it has no room.

        Earlier days' rows go: only today's count is ever read.
        """
        if count > cap:
            return False
        self.conn.execute(
            delete(invite_quota).where(
                invite_quota.c.account_id == account_id, invite_quota.c.day < day
            )
        )
        if insert_new(self.conn, invite_quota, account_id=account_id, day=day, count=count):
            return True
        claimed = self.conn.execute(
            update(invite_quota)
            .where(
                invite_quota.c.account_id == account_id,
                invite_quota.c.day == day,
                invite_quota.c.count + count <= cap,
            )
            .values(count=invite_quota.c.count + count)
            .returning(invite_quota.c.account_id)
        ).first()
        return claimed is not None

    def forget(self, account_id: str) -> None:
        self.conn.execute(delete(invite_quota).where(invite_quota.c.account_id == account_id))

    def purge_before(self, day: str) -> None:
        self.conn.execute(delete(invite_quota).where(invite_quota.c.day < day))
