"""Web Push: a signed-in browser subscribes, and the server tells it what concerns its person.

Messages are queued by the unit of work in the transaction that recorded their
events (one row per event and subscription); `deliver_due` is what every server
instance's sender runs: claim due rows, send them, settle each outcome.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta

import orjson

from circlebook.domain.errors import InvalidInputError, NotFoundError
from circlebook.domain.model import Account
from circlebook.domain.push import Delivery, Message, Outgoing, PushSubscription
from circlebook.services import auth
from circlebook.services.clock import parse_stamp, stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.ports import PushSender
from circlebook.services.push_endpoints import check_endpoint, check_keys
from circlebook.services.push_messages import message_for
from circlebook.services.runtime import Policy, Runtime

# How long a sender holds what it claimed: well past one request's timeout, so
# only a sender that died leaves rows for another to take.
CLAIM = timedelta(seconds=60)
# The first retry waits this long; each failure doubles it, up to the cap.
FIRST_RETRY = timedelta(seconds=2)
MAX_RETRY = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Subscribed:
    subscription: PushSubscription
    created: bool


def subscribe(
    rt: Runtime, account: Account, token: str, endpoint: str, p256dh: str, key: str, language: str
) -> Subscribed:
    """This session's browser takes messages at `endpoint`; the same endpoint again updates it.

    An endpoint another session held moves to this one: a browser has one
    subscription, and it belongs to whoever is signed in there now.
    """
    check_endpoint(endpoint, allow_loopback=rt.policy.push_allow_loopback)
    check_keys(p256dh, key)
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        found = uow.sessions.account(auth.token_hash(token))
        if found is None:
            raise NotFoundError("this session has ended: sign in again")
        session = found[1]
        known = uow.push_subscriptions.by_endpoint(endpoint)
        fields = {
            "account_id": account.id,
            "session_id": session.id,
            "p256dh": p256dh,
            "auth": key,
            "language": language,
            "updated_at": now,
        }
        if known is None:
            subscription = PushSubscription(
                id=new_id("p"), endpoint=endpoint, created_at=now, **fields
            )
            uow.push_subscriptions.add(subscription)
        else:
            subscription = replace(known, **fields)
            uow.push_subscriptions.update(subscription)
        uow.commit()
    return Subscribed(subscription, created=known is None)


def subscriptions(rt: Runtime, account: Account, token: str) -> list[PushSubscription]:
    """The subscriptions of the session asking."""
    with rt.uow() as uow:
        found = uow.sessions.account(auth.token_hash(token))
        if found is None or found[0].id != account.id:
            return []
        return uow.push_subscriptions.of_session(found[1].id)


def unsubscribe(rt: Runtime, account: Account, subscription_id: str) -> None:
    """Stop pushing to one of the account's subscriptions; another account's is not found."""
    with rt.uow(write=True) as uow:
        if not is_wellformed(subscription_id) or not uow.push_subscriptions.remove(
            account.id, subscription_id
        ):
            raise NotFoundError("no such push subscription")
        uow.commit()


def new_worker() -> str:
    """A name for one sender, unique across instances, that its claims are marked with."""
    return "w_" + secrets.token_hex(8)


def deliver_due(rt: Runtime, sender: PushSender, worker: str, batch: int) -> int:
    """Claim up to `batch` due messages, send them (`batch` at a time), settle each; how many.

    A message is sent by whichever sender claimed it; 404 or 410 drops the
    subscription; other failures wait and are tried again while the TTL lasts.
    """
    now = rt.clock.now()
    with rt.uow(write=True) as uow:
        claimed = uow.push_outbox.claim(worker, stamp(now), stamp(now + CLAIM), batch)
        if not claimed:
            # Nothing to commit: see `dav_push.deliver_due`.
            return 0
        messages = [(o, _payload(message_for(uow, o))) for o in claimed]
        uow.commit()
    if not messages:
        return 0
    policy = rt.policy
    with ThreadPoolExecutor(max_workers=min(batch, len(messages))) as pool:
        outcomes = list(
            pool.map(
                lambda m: _send(sender, m[0], m[1], policy.push_ttl_seconds, policy),
                messages,
            )
        )
    _settle(rt, [m[0] for m in messages], outcomes)
    return len(messages)


def _payload(message: Message | None) -> bytes | None:
    if message is None:
        return None
    return orjson.dumps(
        {"type": message.type, "title": message.title, "body": message.body, "url": message.url}
    )


def _send(
    sender: PushSender, outgoing: Outgoing, payload: bytes | None, ttl: int, policy: Policy
) -> Delivery:
    if payload is None:
        return Delivery.ACCEPTED  # nothing left worth saying: done with it
    # Checked again at the moment of sending: the name may point elsewhere by now.
    try:
        check_endpoint(outgoing.subscription.endpoint, allow_loopback=policy.push_allow_loopback)
    except InvalidInputError:
        return Delivery.GONE
    return sender.send(outgoing.subscription, payload, ttl)


def _settle(rt: Runtime, sent: list[Outgoing], outcomes: list[Delivery]) -> None:
    now = rt.clock.now()
    with rt.uow(write=True) as uow:
        for outgoing, outcome in zip(sent, outcomes, strict=True):
            if outcome is Delivery.ACCEPTED:
                uow.push_outbox.remove(outgoing.id)
            elif outcome is Delivery.GONE:
                uow.push_subscriptions.drop(outgoing.subscription.id)
            else:
                wait = min(FIRST_RETRY * 2**outgoing.attempts, MAX_RETRY)
                if now + wait > parse_stamp(outgoing.expires_at):
                    uow.push_outbox.remove(outgoing.id)  # past its TTL: no longer worth sending
                else:
                    uow.push_outbox.retry(outgoing.id, outgoing.attempts + 1, stamp(now + wait))
        uow.commit()


def prune(rt: Runtime) -> None:
    """The sweep's share: messages past their TTL that no sender got to (all were down)."""
    with rt.uow(write=True) as uow:
        uow.push_outbox.prune_expired(stamp(rt.clock.now()))
        uow.commit()
