"""The things circlebook keeps: accounts, books, their entries, invitations and app passwords."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    phone: str
    name: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Book:
    id: str
    title: str
    owner_id: str
    version: int
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One person in a book: the patent's (phone, name) pair, with its tags."""

    id: str
    book_id: str
    account_id: str
    phone: str
    name: str
    tags: frozenset[str]
    role: Role
    created_at: str
    updated_at: str
    # The book version of the entry's last change, and of its last change of tags
    # (or its creation): a sync token older than the latter no longer describes
    # what this member could see.
    version: int
    tags_version: int


@dataclass(frozen=True, slots=True)
class Invitation:
    """A pending question to a phone; it is deleted once answered, revoked or expired."""

    id: str
    book_id: str
    phone: str
    name: str | None
    tags: frozenset[str]
    invited_by: str
    created_at: str
    expires_at: str
    # When the owner sent the one reminder an invitation allows (None: not yet).
    reminded_at: str | None = None


@dataclass(frozen=True, slots=True)
class Departure:
    """An entry that left some members' view: removed, or retagged away from `old_tags`."""

    entry_id: str
    account_id: str
    old_tags: frozenset[str]
    version: int


@dataclass(frozen=True, slots=True)
class AppPassword:
    """A password one device uses instead of a session token (CardDAV speaks HTTP Basic).

    The secret itself is shown once when made and kept only as a keyed hash.
    """

    id: str
    account_id: str
    label: str
    created_at: str
    last_used_at: str | None


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in device: a bearer token, known here by its id, never by the token."""

    id: str
    account_id: str
    device: str
    created_at: str
    last_used_at: str
