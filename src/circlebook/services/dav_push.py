"""WebDAV-Push (draft-bitfire-webdav-push): contacts apps register a push resource per collection.

A registration belongs to the account whose app password signed the request in,
and to one collection as that member sees it: a book, or the address-book home.
Its push resource is checked exactly as a Web Push endpoint is (https, public
addresses only, bounded), and the keys, when given, as a browser's are.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from circlebook.domain.dav_push import Registration
from circlebook.domain.errors import InvalidInputError, NotFoundError
from circlebook.domain.model import Account
from circlebook.services import auth
from circlebook.services.clock import stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.ports import Runtime
from circlebook.services.push_endpoints import check_endpoint, check_keys

# A registration lives at least this long, whatever the client asked for: the
# draft's clients renew well before three days pass.
MIN_LIFE = timedelta(days=3)
# And at most this long: a phone that stopped renewing is forgotten within a month.
MAX_LIFE = timedelta(days=30)
# RFC 8030 section 5.4: a Topic is at most 32 base64url characters; 24 bytes make 32.
_TOPIC_BYTES = 24


def topic(secret: bytes, account_id: str, collection: str) -> str:
    """The opaque, stable topic of one member's view of a collection.

    A keyed hash: it tells a push service nothing of the book, the member or of
    who else is in it (two members of one book have different topics).
    """
    digest = bytes.fromhex(auth.keyed(secret, "webdav-push topic", account_id, collection))
    return base64.urlsafe_b64encode(digest[:_TOPIC_BYTES]).decode()


def lifetime(now: datetime, asked: datetime | None) -> datetime:
    """When a registration ends: what the client asked for, within [3 days, 30 days]."""
    if asked is None:
        return now + MAX_LIFE
    return min(max(asked, now + MIN_LIFE), now + MAX_LIFE)


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
    expires_at = stamp(lifetime(now_moment, asked_expiry))
    with rt.uow(write=True) as uow:
        known = uow.dav_push_registrations.find(account.id, collection, push_resource)
        if known is None:
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


def unregister(rt: Runtime, account: Account, registration_id: str) -> None:
    """Remove one of the account's registrations; another account's is not found."""
    with rt.uow(write=True) as uow:
        if not is_wellformed(registration_id) or not uow.dav_push_registrations.remove(
            account.id, registration_id
        ):
            raise NotFoundError("no such push registration")
        uow.commit()
