"""WebDAV-Push (draft-bitfire-webdav-push): contacts apps register a push resource per collection.

A registration belongs to the account whose app password signed the request in,
and to one collection as that member sees it: a book, or the address-book home.
Its push resource is checked exactly as a Web Push endpoint is (https, public
addresses only, bounded), and the keys, when given, as a browser's are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from circlebook.domain.dav_push import DONT_NOTIFY, EVERYONE, HOME, Registration
from circlebook.domain.errors import InvalidInputError, LimitReachedError, NotFoundError
from circlebook.domain.model import Account, Role
from circlebook.domain.push import Delivery, PushSubscription
from circlebook.domain.sync import as_seen
from circlebook.services import signing, sync_tokens
from circlebook.services.clock import stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.ports import PushSender, UnitOfWork
from circlebook.services.push import CLAIM
from circlebook.services.push_endpoints import check_endpoint, check_keys
from circlebook.services.runtime import Runtime
from circlebook.services.signing import Purpose

# A registration lives at least this long, whatever the client asked for: the
# draft's clients renew well before three days pass. At most it lives
# `policy.dav_push_max_days`: a phone that stopped renewing is forgotten then.
MIN_LIFE = timedelta(days=3)
# RFC 8030 section 5.4: a Topic is at most 32 base64url characters; 24 bytes make 32.
_TOPIC_BYTES = 24


def topic(secret: bytes, account_id: str, collection: str) -> str:
    """The opaque, stable topic of one member's view of a collection.

    A keyed hash: it tells a push service nothing of the book, the member or of
    who else is in it (two members of one book have different topics).
    """
    return signing.sign_text(
        secret, Purpose.DAV_PUSH_TOPIC, account_id, collection, size=_TOPIC_BYTES
    )


def lifetime(now: datetime, asked: datetime | None, max_days: int) -> datetime:
    """When a registration ends: what the client asked for, within [3 days, `max_days`]."""
    longest = now + max(timedelta(days=max_days), MIN_LIFE)
    if asked is None:
        return longest
    return min(max(asked, now + MIN_LIFE), longest)


@dataclass(frozen=True, slots=True)
class Registered:
    registration: Registration
    created: bool


def register(
    rt: Runtime,
    account: Account,
    collection: str,
    push_resource: str,
    keys: tuple[str, str] | None,
    asked_expiry: datetime | None,
) -> Registered:
    """Register (or renew) `push_resource` for the account's view of `collection`."""
    try:
        check_endpoint(push_resource, allow_loopback=rt.policy.push_allow_loopback)
    except InvalidInputError as exc:
        raise InvalidInputError(str(exc).replace("endpoint", "push-resource", 1)) from None
    if keys is not None:
        try:
            check_keys(*keys)
        except InvalidInputError as exc:
            message = str(exc).replace("keys.p256dh", "subscription-public-key")
            raise InvalidInputError(message.replace("keys.auth", "auth-secret")) from None
    now_moment = rt.clock.now()
    now = stamp(now_moment)
    p256dh, secret = keys if keys else (None, None)
    expires_at = stamp(lifetime(now_moment, asked_expiry, rt.policy.dav_push_max_days))
    with rt.uow(write=True) as uow:
        known = uow.dav_push_registrations.find(account.id, collection, push_resource)
        if known is None:
            _check_room(rt, uow, account, now)
            registration = Registration(
                id=new_id("w"),
                account_id=account.id,
                collection=collection,
                push_resource=push_resource,
                p256dh=p256dh,
                auth=secret,
                expires_at=expires_at,
                created_at=now,
                updated_at=now,
            )
            uow.dav_push_registrations.add(registration)
        else:
            registration = replace(
                known, p256dh=p256dh, auth=secret, expires_at=expires_at, updated_at=now
            )
            uow.dav_push_registrations.update(registration)
        uow.commit()
    return Registered(registration, created=known is None)


def _check_room(rt: Runtime, uow: UnitOfWork, account: Account, now: str) -> None:
    """A new registration needs room under the account's cap (a renewal takes none)."""
    cap = rt.policy.dav_push_max_registrations
    if cap and uow.dav_push_registrations.count_live(account.id, now) >= cap:
        raise LimitReachedError(
            f"this account holds {cap} push registrations, as many as it may: "
            "remove one before registering another"
        )


def unregister(rt: Runtime, account: Account, registration_id: str) -> None:
    """Remove one of the account's registrations; another account's is not found."""
    with rt.uow(write=True) as uow:
        if not is_wellformed(registration_id) or not uow.dav_push_registrations.remove(
            account.id, registration_id
        ):
            raise NotFoundError("no such push registration")
        uow.commit()


def homes_changed(uow: UnitOfWork, account_ids: Sequence[str], now: str) -> None:
    """Inside the caller's unit of work: these members' address-book homes list other
    books now (one appeared, went, or has a new title), so a message is due to the
    registrations on them, but for those the request named in `Push-Dont-Notify`.
    """
    quiet = DONT_NOTIFY.get()
    if EVERYONE in quiet:
        return
    found = uow.dav_push_registrations.on_homes(sorted(set(account_ids)))
    uow.dav_push_registrations.mark([r for r in found if r not in quiet], now)


def left(uow: UnitOfWork, account_id: str, book_id: str, now: str) -> None:
    """Inside the caller's unit of work: the member is out of the book. Its
    registrations there could never be sent a message again, so they go with it;
    its home lists one book fewer."""
    uow.dav_push_registrations.remove_on(book_id, [account_id])
    homes_changed(uow, [account_id], now)


def dissolved(uow: UnitOfWork, book_id: str, member_ids: Sequence[str], now: str) -> None:
    """Inside the caller's unit of work: the book is gone, and every registration on it."""
    uow.dav_push_registrations.remove_on(book_id)
    homes_changed(uow, member_ids, now)


# A message ready to go: the registration, the marks it answers, its body, its topic.
Ready = tuple[Registration, int, bytes | None, str]


def deliver_due(
    rt: Runtime,
    sender: PushSender,
    worker: str,
    batch: int,
    message: Callable[[str, str | None], bytes],
) -> int:
    """Claim up to `batch` registrations with a message due, send each one, settle them.

    `message(topic, sync_token)` writes the push-message (the home has no sync
    token: its message has none). Marks made within the merge window of the last
    message wait for it to pass, then go as one. The sync token is read now, so
    it is the one a sync right after would report.
    """
    now = rt.clock.now()
    merge = timedelta(seconds=rt.policy.dav_push_merge_seconds)
    with rt.uow(write=True) as uow:
        claimed = uow.dav_push_registrations.claim(
            worker, stamp(now), stamp(now + CLAIM), stamp(now - merge), batch
        )
        if not claimed:
            # Nothing to commit: a commit would count as a write of this process and
            # drop every sign-in and header it remembers (services.recent_sign_ins).
            return 0
        ready: list[Ready] = []
        for registration, changes in claimed:
            named = topic(rt.secret_key, registration.account_id, registration.collection)
            body = None
            if registration.collection == HOME:
                body = message(named, None)
            elif (token := _token_of(rt, uow, registration)) is not None:
                body = message(named, token)
            ready.append((registration, changes, body, named))
        uow.commit()
    if not ready:
        return 0
    outcomes = [_send(rt, sender, r, body, named) for r, _, body, named in ready]
    done = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        for (registration, changes, _, _), outcome in zip(ready, outcomes, strict=True):
            if outcome is Delivery.GONE:
                uow.dav_push_registrations.drop(registration.id)
            else:
                uow.dav_push_registrations.settle(
                    registration.id, changes, done, sent=outcome is Delivery.ACCEPTED
                )
        uow.commit()
    return len(ready)


def _token_of(rt: Runtime, uow: UnitOfWork, registration: Registration) -> str | None:
    """The sync token of the member's view of a book now; None if it is no longer in it."""
    entry = uow.entries.of_account(registration.collection, registration.account_id)
    book = uow.books.get(registration.collection)
    if entry is None or book is None:
        return None
    # As `books.get_membership` reads it, so a sync right after reports this token.
    mark = None if entry.role is Role.OWNER else uow.views.of(book.id, entry.tags)
    seen = as_seen(book, entry, mark)
    return sync_tokens.issue(rt.secret_key, seen.id, seen.version)


def _send(
    rt: Runtime, sender: PushSender, registration: Registration, body: bytes | None, named: str
) -> Delivery:
    if body is None or registration.p256dh is None or registration.auth is None:
        return Delivery.ACCEPTED  # nothing to say to it any more
    try:
        check_endpoint(registration.push_resource, allow_loopback=rt.policy.push_allow_loopback)
    except InvalidInputError:
        return Delivery.GONE
    target = PushSubscription(
        id=registration.id,
        account_id=registration.account_id,
        session_id="",
        endpoint=registration.push_resource,
        p256dh=registration.p256dh,
        auth=registration.auth,
        language="",
        created_at=registration.created_at,
        updated_at=registration.updated_at,
    )
    # The Topic header is the view's topic (opaque, and already the client's): a
    # message the push service still holds for this view says nothing the newer
    # one does not, so the newer replaces it.
    return sender.send(target, body, rt.policy.push_ttl_seconds, topic=named)


def prune(rt: Runtime) -> None:
    """The sweep's share: registrations past their expiry, which their apps stopped renewing."""
    with rt.uow(write=True) as uow:
        uow.dav_push_registrations.prune_expired(stamp(rt.clock.now()))
        uow.commit()
