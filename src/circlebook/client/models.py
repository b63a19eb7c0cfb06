"""Typed results of the SDK, read from the server's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    phone: str
    name: str
    created_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Account:
        return cls(data["id"], data["phone"], data["name"], data["created_at"])


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    account: Account


@dataclass(frozen=True, slots=True)
class Book:
    id: str
    title: str
    role: str
    tags: tuple[str, ...]
    entry_count: int
    sync_token: str
    owner_id: str
    created_at: str
    updated_at: str

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Book:
        return cls(
            data["id"],
            data["title"],
            data["role"],
            tuple(data["tags"]),
            data["entry_count"],
            data["sync_token"],
            data["owner_id"],
            data["created_at"],
            data["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class Invitee:
    """Someone to invite: a number as typed, and optionally a name and tags for them."""

    phone: str
    name: str | None = None
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"phone": self.phone, "tags": list(self.tags)}
        if self.name:
            body["name"] = self.name
        return body


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one invitee: invited, already_member, already_invited, opted_out, invalid.

    An invitee made has `invite_url`, its personal link, and `invite_text`, a
    message to send it with from your own phone; `text_sent` says whether the
    server texted it already (only where the deployment turned that on).
    """

    input: str
    status: str
    phone: str | None = None
    invitation_id: str | None = None
    reason: str | None = None
    field: str | None = None
    invite_url: str | None = None
    invite_text: str | None = None
    text_sent: bool | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            data["input"],
            data["status"],
            data.get("phone"),
            data.get("invitation_id"),
            data.get("reason"),
            data.get("field"),
            data.get("invite_url"),
            data.get("invite_text"),
            data.get("text_sent"),
        )


@dataclass(frozen=True, slots=True)
class CreatedBook:
    book: Book
    outcomes: list[Outcome]


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """An invitation the owner sent that nobody has answered yet."""

    id: str
    phone: str
    name: str | None
    tags: tuple[str, ...]
    created_at: str
    expires_at: str
    invite_url: str | None = None
    invite_text: str | None = None
    reminded_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingInvitation:
        return cls(
            data["id"],
            data["phone"],
            data.get("name"),
            tuple(data["tags"]),
            data["created_at"],
            data["expires_at"],
            data.get("invite_url"),
            data.get("invite_text"),
            data.get("reminded_at"),
        )


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation in the caller's inbox."""

    id: str
    book_id: str
    book_title: str
    inviter_phone: str
    inviter_name: str
    name: str | None
    created_at: str
    expires_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Invitation:
        return cls(
            data["id"],
            data["book_id"],
            data["book_title"],
            data["invited_by"]["phone"],
            data["invited_by"]["name"],
            data.get("name"),
            data["created_at"],
            data["expires_at"],
        )


@dataclass(frozen=True, slots=True)
class Accepted:
    book_id: str
    entry_id: str


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    phone: str
    name: str
    tags: tuple[str, ...]
    role: str
    created_at: str
    updated_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(
            data["id"],
            data["phone"],
            data["name"],
            tuple(data["tags"]),
            data["role"],
            data["created_at"],
            data["updated_at"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phone": self.phone,
            "name": self.name,
            "tags": list(self.tags),
            "role": self.role,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class EntriesPage:
    """A full view of a book, or a delta: entries to upsert, ids to drop, the next token."""

    entries: list[Entry]
    removed: list[str] = field(default_factory=list)
    sync_token: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EntriesPage:
        return cls(
            [Entry.from_json(e) for e in data["entries"]],
            list(data["removed"]),
            data["sync_token"],
        )


@dataclass(frozen=True, slots=True)
class AppPassword:
    """A password for one device that signs in with HTTP Basic, such as a contacts app."""

    id: str
    label: str
    created_at: str
    last_used_at: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppPassword:
        return cls(data["id"], data["label"], data["created_at"], data.get("last_used_at"))


@dataclass(frozen=True, slots=True)
class SignedInDevice:
    """One session of the account: a device signed in with a code. `current` is this client."""

    id: str
    device: str
    created_at: str
    last_used_at: str
    current: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedInDevice:
        return cls(
            data["id"], data["device"], data["created_at"], data["last_used_at"], data["current"]
        )


@dataclass(frozen=True, slots=True)
class BookAudience:
    """Who sees my entry in one book: `seen_by` holds (name, role) of each of them."""

    book_id: str
    title: str
    role: str
    seen_by: list[tuple[str, str]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BookAudience:
        seers = [(s["name"], s["role"]) for s in data["seen_by"]]
        return cls(data["book_id"], data["title"], data["role"], seers)


@dataclass(frozen=True, slots=True)
class LedgerPage:
    """One page of my consent ledger, newest first.

    Records are kept as the server sent them: their hash covers every field, so
    `circlebook.hashchain.verify` checks them exactly as they came.
    """

    records: list[dict[str, Any]]
    # The `after` for the next, older, page; None on the last.
    next_after: int | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LedgerPage:
        return cls(list(data["records"]), data["next_after"])


@dataclass(frozen=True, slots=True)
class NewAppPassword:
    """A new app password: `password` is shown this once; the server keeps only a hash."""

    app_password: AppPassword
    password: str
    user_name: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NewAppPassword:
        return cls(AppPassword.from_json(data), data["password"], data["user_name"])


@dataclass(frozen=True, slots=True)
class InviteLink:
    """What an invitation's personal link says, to anyone who holds it."""

    book_title: str
    owner_name: str
    owner_phone: str
    phone_hint: str
    expires_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InviteLink:
        return cls(
            data["book_title"],
            data["owner_name"],
            data["owner_phone"],
            data["phone_hint"],
            data["expires_at"],
        )


@dataclass(frozen=True, slots=True)
class Joined:
    """A link accepted: the session it signed in, and the new entry."""

    session: Session
    entry: Entry
    book_id: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Joined:
        session = Session(data["token"], Account.from_json(data["account"]))
        return cls(session, Entry.from_json(data["entry"]), data["book_id"])


@dataclass(frozen=True, slots=True)
class Reminder:
    invitation_id: str
    invite_url: str
    invite_text: str
    text_sent: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reminder:
        return cls(
            data["invitation_id"], data["invite_url"], data["invite_text"], data["text_sent"]
        )
