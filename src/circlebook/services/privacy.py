"""A person's own data: take a copy of it (GDPR art. 20), or erase it and leave (art. 17)."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

from circlebook.domain.errors import InvalidInputError
from circlebook.domain.model import Account, Role
from circlebook.domain.visibility import Viewer
from circlebook.phonebook.numbers import region_of
from circlebook.services import auth, signing
from circlebook.services.books import dissolve
from circlebook.services.clock import stamp
from circlebook.services.entries import leave, visible_entries
from circlebook.services.invitations import tell_invitee_revoked, tell_owner_declined
from circlebook.services.phones import normalize_phone
from circlebook.services.runtime import Runtime
from circlebook.services.signing import Purpose

Document = dict[str, Any]


def export_filename(document: Document) -> str:
    return f"circlebook-export-{document['exported_at'][:10]}.json"


def export_account(rt: Runtime, account: Account, token: str | None) -> Document:
    """Everything circlebook holds about the caller, and every entry it may see, as one document.

    Secrets are left out: no session token or hash, no app password hash, no push keys.
    """
    now = stamp(rt.clock.now())
    mine = auth.token_hash(token) if token else None
    with rt.uow() as uow:
        sessions = uow.sessions.of_account(account.id)
        passwords = uow.app_passwords.of_account(account.id)
        pushes = uow.push_subscriptions.of_account(account.id)
        registrations = uow.dav_push_registrations.of_account(account.id)
        books = [
            {
                "book_id": book.id,
                "title": book.title,
                "role": me.role.value,
                "tags": sorted(me.tags),
                "entries": [
                    asdict(e) for e in visible_entries(Viewer.of(me), uow.entries.rows(book.id))
                ],
            }
            for book, me in uow.books.memberships(account.id)
        ]
        sent = [(i, uow.books.get(i.book_id)) for i in uow.invitations.sent_by(account.id, now)]
        chain = uow.ledger.all(account.id)
    return {
        "exported_at": now,
        "account": {
            "id": account.id,
            "phone": account.phone,
            "name": account.name,
            "created_at": account.created_at,
        },
        "sessions": [
            {
                "id": s.id,
                "device": s.device,
                "created_at": s.created_at,
                "last_used_at": s.last_used_at,
                "current": hashed == mine,
            }
            for s, hashed in sessions
        ],
        "app_passwords": [
            {
                "id": p.id,
                "label": p.label,
                "created_at": p.created_at,
                "last_used_at": p.last_used_at,
            }
            for p in passwords
        ],
        "push_subscriptions": [
            {
                "id": p.id,
                "session_id": p.session_id,
                "endpoint": p.endpoint,
                "language": p.language,
                "created_at": p.created_at,
                "updated_at": p.updated_at,
            }
            for p in pushes
        ],
        "dav_push_registrations": [
            {
                "id": r.id,
                "book_id": r.collection or None,
                "push_resource": r.push_resource,
                "expires_at": r.expires_at,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in registrations
        ],
        "books": books,
        "invitations_sent": [
            {
                "book_id": i.book_id,
                "book_title": book.title if book else None,
                "phone": i.phone,
                "name": i.name,
                "tags": sorted(i.tags),
                "created_at": i.created_at,
                "expires_at": i.expires_at,
            }
            for i, book in sent
        ],
        "ledger": chain,
    }


def pseudonym(secret: bytes, account_id: str, book_id: str) -> str:
    """What stands for an erased account in one book's history: never an account id, and
    different in each book, so that two books' histories cannot be joined on it."""
    return signing.sign_hex(secret, Purpose.PSEUDONYM, book_id, account_id)[:32]


def check_confirmation(rt: Runtime, account: Account, confirm: str) -> None:
    """The person types their own number (in any spelling of it) to say they mean it."""
    region = region_of(account.phone) or rt.policy.region
    if normalize_phone(confirm, region, field="confirm") != account.phone:
        raise InvalidInputError("type your own phone number to confirm", field="confirm")


def delete_account(rt: Runtime, account: Account, confirm: str) -> None:
    """Erase the account and leave circlebook, in one transaction.

    Books it owns are dissolved and its entries leave the others, as if done by
    hand. What stays is keyed only by a keyed hash of the number (sign-in codes,
    rate counters, the do-not-invite list, the count of invitation texts): it
    cannot be read back, and it keeps limits and an opt-out standing. A book's
    history (departures, events about an entry) keeps a per-book pseudonym in
    place of the account id, so that delta sync still tells members the entry left.
    """
    check_confirmation(rt, account, confirm)
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        for book, me in uow.books.memberships(account.id):
            if me.role is Role.OWNER:
                dissolve(uow, book.id, now)
            else:
                leave(rt, uow, me, now)
        for invitation in uow.invitations.take_all_for_phone(account.phone):
            tell_owner_declined(uow, invitation, now)
        withdrawn = uow.invitations.take_sent_by(account.id)
        for invitation in withdrawn:
            tell_invitee_revoked(uow, invitation, now)
        uow.push_subscriptions.remove_all(account.id)
        uow.dav_push_registrations.remove_all(account.id)
        uow.sessions.remove_all(account.id)
        uow.app_passwords.remove_all(account.id)
        uow.invite_quota.forget(account.id)
        uow.events.forget_account(account.id)
        alias = partial(pseudonym, rt.secret_key, account.id)
        uow.departures.replace_account(account.id, alias)
        uow.events.replace_subject(account.id, alias)
        # Last: dissolving and leaving above wrote to this ledger too. (The foreign key
        # would cascade; erasure should not rest on a constraint nobody sees.)
        uow.ledger.forget(account.id)
        uow.accounts.remove(account.id)
        uow.commit()
    rt.tally.invitations_ended("withdrawn", len(withdrawn))
