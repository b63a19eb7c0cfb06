"""Web Push messages queued by the unit of work, and the sender told of them, on each backend."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from circlebook.domain.events import InvitationReceived
from circlebook.domain.model import Account, Session
from circlebook.domain.push import PushSubscription
from circlebook.storage.schema import push_outbox
from circlebook.storage.unit_of_work import SqlUnitOfWorkFactory
from tests.storage.conftest import AT, Store


def subscribed(store: Store, account: Account) -> None:
    with store.write() as uow:
        uow.sessions.add(Session("s_phone0001", account.id, "phone", AT, AT), "hash-1")
        uow.push_subscriptions.add(
            PushSubscription(
                id="p_phone0001",
                account_id=account.id,
                session_id="s_phone0001",
                endpoint="https://push.example/send/1",
                p256dh="key",
                auth="secret",
                language="en",
                created_at=AT,
                updated_at=AT,
            )
        )


def invited(account: Account) -> InvitationReceived:
    return InvitationReceived(
        account_id=account.id, invitation_id="i_0001", book_id="b_0001", created_at=AT
    )


class Sender:
    """Counts the rings, and how many messages were committed when each came."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.saw: list[int] = []

    def ring(self) -> None:
        with self._engine.connect() as conn:
            self.saw.append(
                conn.execute(select(func.count()).select_from(push_outbox)).scalar_one()
            )


def ringing(engine: Engine) -> tuple[SqlUnitOfWorkFactory, Sender]:
    """Units of work that ring a recording sender when their commit queued messages."""
    sender = Sender(engine)
    uow = SqlUnitOfWorkFactory(engine, push_ttl=timedelta(hours=1))
    uow.pushes_queued = sender.ring
    return uow, sender


def test_a_commit_that_queues_messages_tells_the_sender_once_after_it(
    engine: Engine, store: Store
) -> None:
    phone_owner, other = store.account(1), store.account(2)
    subscribed(store, phone_owner)
    uow, sender = ringing(engine)
    with uow(write=True) as unit:
        unit.events.add(invited(phone_owner))
        unit.events.add(invited(other))
        unit.commit()
    # Told once, and only after the commit: the message is there for it to send.
    assert sender.saw == [1]


def test_a_commit_that_queues_nothing_tells_the_sender_nothing(
    engine: Engine, store: Store
) -> None:
    phone_owner, nobody_subscribed = store.account(1), store.account(2)
    subscribed(store, phone_owner)
    uow, sender = ringing(engine)
    with uow(write=True) as unit:
        unit.events.add(invited(nobody_subscribed))
        unit.commit()
    with uow(write=True) as unit:
        unit.events.add(invited(phone_owner))  # rolled back: nothing is sent
    assert sender.saw == []
