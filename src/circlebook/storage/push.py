"""Web Push subscriptions and the outbox of messages, claimed row by row by the senders
(storage.claims: each message has one sender among all instances)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, String, and_, bindparam, delete, insert, literal, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.push import Outgoing, PushSubscription
from circlebook.storage import claims
from circlebook.storage.events import event_columns, event_from_row
from circlebook.storage.schema import events, push_outbox, push_subscriptions

_S = push_subscriptions.c
_O = push_outbox.c

_NOW = bindparam("now", type_=String)
# Built once: every transaction that records a pushed event runs it (see storage.accounts).
# An INSERT's row count is kept only when asked for, and the sender is told of it.
_ENQUEUE = (
    insert(push_outbox)
    .from_select(
        ["subscription_id", "event_id", "created_at", "expires_at", "attempts", "next_at"],
        select(_S.id, events.c.id, _NOW, bindparam("expires_at", type_=String), literal(0), _NOW)
        .select_from(events.join(push_subscriptions, _S.account_id == events.c.account_id))
        .where(events.c.id.in_(bindparam("event_ids", expanding=True))),
    )
    .execution_options(preserve_rowcount=True)
)


def _subscription(row: Row[*tuple[Any, ...]]) -> PushSubscription:
    return PushSubscription(
        id=row.id,
        account_id=row.account_id,
        session_id=row.session_id,
        endpoint=row.endpoint,
        p256dh=row.p256dh,
        auth=row.auth,
        language=row.language,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlPushSubscriptions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def by_endpoint(self, endpoint: str) -> PushSubscription | None:
        row = self.conn.execute(
            select(push_subscriptions).where(_S.endpoint == endpoint)
        ).one_or_none()
        return _subscription(row) if row else None

    def add(self, subscription: PushSubscription) -> None:
        self.conn.execute(
            insert(push_subscriptions).values(
                id=subscription.id,
                account_id=subscription.account_id,
                session_id=subscription.session_id,
                endpoint=subscription.endpoint,
                p256dh=subscription.p256dh,
                auth=subscription.auth,
                language=subscription.language,
                created_at=subscription.created_at,
                updated_at=subscription.updated_at,
            )
        )

    def update(self, subscription: PushSubscription) -> None:
        self.conn.execute(
            update(push_subscriptions)
            .where(_S.id == subscription.id)
            .values(
                account_id=subscription.account_id,
                session_id=subscription.session_id,
                p256dh=subscription.p256dh,
                auth=subscription.auth,
                language=subscription.language,
                updated_at=subscription.updated_at,
            )
        )

    def of_session(self, session_id: str) -> list[PushSubscription]:
        rows = self.conn.execute(
            select(push_subscriptions).where(_S.session_id == session_id).order_by(_S.created_at)
        )
        return [_subscription(r) for r in rows]

    def of_account(self, account_id: str) -> list[PushSubscription]:
        rows = self.conn.execute(
            select(push_subscriptions).where(_S.account_id == account_id).order_by(_S.created_at)
        )
        return [_subscription(r) for r in rows]

    def remove(self, account_id: str, subscription_id: str) -> bool:
        gone = self.conn.execute(
            delete(push_subscriptions).where(_S.account_id == account_id, _S.id == subscription_id)
        )
        return gone.rowcount > 0

    def drop(self, subscription_id: str) -> None:
        """The push service said the subscription is gone (404/410): forget it."""
        self.conn.execute(delete(push_subscriptions).where(_S.id == subscription_id))

    def remove_all(self, account_id: str) -> None:
        self.conn.execute(delete(push_subscriptions).where(_S.account_id == account_id))


class SqlPushOutbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def enqueue(self, event_ids: Sequence[int], now: str, expires_at: str) -> int:
        """One row per (event, subscription of the account it is addressed to), in one INSERT;
        how many rows that made.

        An account without subscriptions adds no row.
        """
        queued = self.conn.execute(
            _ENQUEUE, {"event_ids": list(event_ids), "now": now, "expires_at": expires_at}
        )
        return queued.rowcount

    def claim(self, worker: str, now: str, until: str, limit: int) -> list[Outgoing]:
        """Take up to `limit` due rows nobody holds (or whose holder's claim ran out)."""
        due = and_(_O.next_at <= now, _O.expires_at > now)
        claimed = claims.claim(self.conn, push_outbox, due, _O.id, worker, now, until, limit)
        if not claimed:
            return []
        rows = self.conn.execute(
            select(
                _O.id.label("outgoing_id"),
                _O.attempts,
                _O.expires_at,
                *event_columns("event_"),
                push_subscriptions,
            )
            .select_from(
                push_outbox.join(events, events.c.id == _O.event_id).join(
                    push_subscriptions, _S.id == _O.subscription_id
                )
            )
            .where(_O.id.in_(claimed))
            .order_by(_O.id)
        )
        return [
            Outgoing(
                id=r.outgoing_id,
                subscription=_subscription(r),
                event=event_from_row(r, "event_"),
                attempts=r.attempts,
                expires_at=r.expires_at,
            )
            for r in rows
        ]

    def remove(self, outgoing_id: int) -> None:
        self.conn.execute(delete(push_outbox).where(_O.id == outgoing_id))

    def retry(self, outgoing_id: int, attempts: int, next_at: str) -> None:
        self.conn.execute(
            update(push_outbox)
            .where(_O.id == outgoing_id)
            .values(attempts=attempts, next_at=next_at, claimed_by=None, claimed_until=None)
        )

    def prune_expired(self, now: str) -> None:
        self.conn.execute(delete(push_outbox).where(_O.expires_at <= now))

    def pending(self) -> int:
        """How many messages wait (for tests and benchmarks that wait for the outbox to drain)."""
        return len(self.conn.execute(select(_O.id)).all())
