"""A person's own data: take a copy of it (GDPR art. 20), or erase it and leave (art. 17)."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

from circlebook.domain.dav_push import Registration as DavPushRegistration
from circlebook.domain.errors import InvalidInputError
from circlebook.domain.model import Account, Book, Entry, Invitation, Role
from circlebook.domain.visibility import Viewer
from circlebook.phonebook.numbers import region_of
from circlebook.services import auth, signing
from circlebook.services.answers import tell_owner_declined
from circlebook.services.books import dissolve
from circlebook.services.clock import stamp
from circlebook.services.entries import forget_removed, leave, visible_entries
from circlebook.services.invitations import tell_invitee_revoked
from circlebook.services.phones import normalize_phone
from circlebook.services.ports import UnitOfWork
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
        books = [_book(uow, book, me) for book, me in uow.books.memberships(account.id)]
        sent = [(i, uow.books.get(i.book_id)) for i in uow.invitations.sent_by(account.id, now)]
        chain = uow.ledger.all(account.id)
    return {
        "exported_at": now,
        "account": _pick(account, "id", "phone", "name", "created_at"),
        "sessions": [
            {**_pick(s, "id", "device", "created_at", "last_used_at"), "current": hashed == mine}
            for s, hashed in sessions
        ],
        "app_passwords": [_pick(p, "id", "label", "created_at", "last_used_at") for p in passwords],
        "push_subscriptions": [
            _pick(p, "id", "session_id", "endpoint", "language", "created_at", "updated_at")
            for p in pushes
        ],
        "dav_push_registrations": [_dav_push_registration(r) for r in registrations],
        "books": books,
        "invitations_sent": [_invitation_sent(i, book) for i, book in sent],
        "ledger": chain,
    }


def _pick(record: object, *names: str) -> Document:
    """The named fields of a record. An export names what it shows rather than dumping
    records whole, so that a secret a record gains later does not leak into it."""
    return {name: getattr(record, name) for name in names}


def _book(uow: UnitOfWork, book: Book, me: Entry) -> Document:
    return {
        "book_id": book.id,
        "title": book.title,
        "role": me.role.value,
        "tags": sorted(me.tags),
        "entries": [asdict(e) for e in visible_entries(Viewer.of(me), uow.entries.rows(book.id))],
    }


def _dav_push_registration(r: DavPushRegistration) -> Document:
    # The collection is a book's id, or empty for the account's home.
    return {
        **_pick(r, "id"),
        "book_id": r.collection or None,
        **_pick(r, "push_resource", "expires_at", "created_at", "updated_at"),
    }


def _invitation_sent(i: Invitation, book: Book | None) -> Document:
    return {
        "book_id": i.book_id,
        "book_title": book.title if book else None,
        "phone": i.phone,
        "name": i.name,
        "tags": sorted(i.tags),
        "created_at": i.created_at,
        "expires_at": i.expires_at,
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
        held = uow.books.memberships(account.id)
        for book, me in held:
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
    # What this process keeps of the books (services.book_rows) and of the person's
    # cards holds the erased number and name.
    for book, me in held:
        forget_removed(rt, book.id, [me.id])
    rt.tally.invitations_ended("withdrawn", len(withdrawn))
