"""The wire format: request bodies and documented responses of the JSON API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from circlebook.phonebook.numbers import MAX_PHONE_LENGTH

Phone = Annotated[
    str, Field(min_length=1, max_length=MAX_PHONE_LENGTH, examples=["+8613812345678"])
]
Region = Annotated[str, Field(min_length=2, max_length=2, examples=["CN"])]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Tag = Annotated[str, Field(min_length=1, max_length=32)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeRequest(Body):
    phone: Phone
    region: Region | None = None


class CodeSent(BaseModel):
    status: str = "sent"
    expires_in: int


class SessionRequest(Body):
    phone: Phone
    code: Annotated[str, Field(min_length=1, max_length=12)]
    device: Name = "unnamed device"
    region: Region | None = None
    name: Name | None = None


class AccountOut(BaseModel):
    id: str
    phone: str
    name: str
    created_at: str


class SessionOut(BaseModel):
    token: str
    account: AccountOut


class MePatch(Body):
    name: Name


class InviteeIn(Body):
    phone: Phone
    name: Name | None = None
    tags: Annotated[list[Tag], Field(max_length=16)] = []


class BookCreate(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    name: Name | None = None
    invitees: list[InviteeIn] = []
    region: Region | None = None


class InvitationsCreate(Body):
    invitees: list[InviteeIn]
    region: Region | None = None


class BookPatch(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)]


class OwnerIn(Body):
    entry_id: Annotated[
        str, Field(min_length=1, max_length=64, description="the new owner's entry")
    ]


class OutcomeOut(BaseModel):
    input: str
    status: str = Field(
        description="invited, already_member, already_invited, opted_out or invalid"
    )
    phone: str | None = None
    invitation_id: str | None = None
    reason: str | None = None
    field: str | None = None
    invite_url: str | None = Field(
        default=None, description="invited: the invitee's personal link, to send from your phone"
    )
    invite_text: str | None = Field(default=None, description="invited: a ready message")
    text_sent: bool | None = Field(
        default=None, description="invited: whether the server texted the invitee itself"
    )


class BookOut(BaseModel):
    id: str
    title: str
    role: str
    tags: list[str]
    entry_count: int
    sync_token: str
    owner_id: str
    created_at: str
    updated_at: str


class BookCreated(BookOut):
    outcomes: list[OutcomeOut]


class OutcomesOut(BaseModel):
    outcomes: list[OutcomeOut]


class BooksOut(BaseModel):
    books: list[BookOut]


class PendingInvitationOut(BaseModel):
    id: str
    phone: str
    name: str | None
    tags: list[str]
    created_at: str
    expires_at: str
    invite_url: str
    invite_text: str
    reminded_at: str | None = None


class PendingInvitationsOut(BaseModel):
    invitations: list[PendingInvitationOut]


class Inviter(BaseModel):
    phone: str
    name: str


class InboxInvitationOut(BaseModel):
    id: str
    book_id: str
    book_title: str
    invited_by: Inviter
    name: str | None = Field(description="the name the owner has for you")
    created_at: str
    expires_at: str


class InboxOut(BaseModel):
    invitations: list[InboxInvitationOut]


class AcceptIn(Body):
    name: Name | None = None


class AcceptedOut(BaseModel):
    book_id: str
    entry_id: str


class EntryOut(BaseModel):
    id: str
    phone: str
    name: str
    tags: list[str]
    role: str
    created_at: str
    updated_at: str


class EntriesOut(BaseModel):
    entries: list[EntryOut]
    removed: list[str]
    sync_token: str


class EntryPatch(Body):
    name: Name | None = None
    tags: Annotated[list[Tag], Field(max_length=16)] | None = None


class AppPasswordCreate(Body):
    label: Annotated[Name, Field(examples=["iPhone contacts"])]


class AppPasswordOut(BaseModel):
    id: str
    label: str
    created_at: str
    last_used_at: str | None = Field(description="when a device last signed in with it (±15 min)")


class AppPasswordCreated(AppPasswordOut):
    password: str = Field(description="shown this once: the server keeps only a hash of it")
    user_name: str = Field(description="the user name to give a CardDAV client: your phone")


class AppPasswordsOut(BaseModel):
    app_passwords: list[AppPasswordOut]


Code = Annotated[str, Field(min_length=1, max_length=12)]


class InviteOut(BaseModel):
    book_title: str
    owner_name: str
    owner_phone: str
    phone_hint: str = Field(description="the invited number, masked")
    expires_at: str


class InviteAcceptIn(Body):
    code: Code
    name: Name | None = None
    device: Name = "invitation link"


class InviteAnswerIn(Body):
    code: Code


class JoinedOut(BaseModel):
    token: str
    account: AccountOut
    entry: EntryOut
    book_id: str


class ReminderOut(BaseModel):
    invitation_id: str
    invite_url: str
    invite_text: str
    text_sent: bool


class DeviceSessionOut(BaseModel):
    id: str
    device: str
    created_at: str
    last_used_at: str = Field(description="when it last signed a request in (within the hour)")
    current: bool = Field(description="the session this request came with")


class SessionsOut(BaseModel):
    sessions: list[DeviceSessionOut]


class DoNotInviteOut(BaseModel):
    do_not_invite: bool


class InboundSms(Body):
    model_config = ConfigDict(extra="ignore", frozen=True)
    from_: Annotated[str, Field(alias="from", min_length=1, max_length=40)]
    text: Annotated[str, Field(max_length=2000)]


class SeerOut(BaseModel):
    name: str
    role: str


class BookAudienceOut(BaseModel):
    book_id: str
    title: str
    role: str = Field(description="my role in the book")
    seen_by: list[SeerOut] = Field(description="everyone whose view of the book shows my entry")
    count: int


class AudienceOut(BaseModel):
    books: list[BookAudienceOut]


class AccountDelete(Body):
    confirm: Annotated[
        str,
        Field(min_length=1, max_length=40, description="my own phone number, to say I mean it"),
    ]


class LedgerRecordOut(BaseModel):
    """One record of my consent ledger; each kind adds its own fields (book, by, tags...)."""

    model_config = ConfigDict(extra="allow")

    seq: int
    kind: str
    at: str
    prev: str = Field(description="the previous record's hash; empty for seq 1")
    hash: str = Field(
        description="hex SHA-256 of the record's canonical JSON (sorted keys, no spaces, "
        "UTF-8) without `hash`"
    )


class LedgerOut(BaseModel):
    records: list[LedgerRecordOut] = Field(description="newest first")
    next_after: int | None = Field(
        description="pass as `after` for the next, older, page; null on the last page"
    )


class PushKeyOut(BaseModel):
    public_key: str = Field(
        description="the server's VAPID public key: the uncompressed P-256 point, base64url "
        "without padding, as PushManager.subscribe() takes for applicationServerKey"
    )


class PushKeys(Body):
    p256dh: Annotated[str, Field(min_length=1, max_length=100)]
    auth: Annotated[str, Field(min_length=1, max_length=40)]


class PushSubscriptionIn(Body):
    """A browser's PushSubscription.toJSON()."""

    endpoint: Annotated[str, Field(min_length=1, max_length=4096)]
    keys: PushKeys
    # The browser's own field name, which the body must match.
    expirationTime: int | None = Field(default=None, description="ignored")  # noqa: N815


class PushSubscriptionOut(BaseModel):
    id: str
    endpoint: str
    language: str = Field(description="the language its messages are written in")
    created_at: str
    updated_at: str


class PushSubscriptionsOut(BaseModel):
    push_subscriptions: list[PushSubscriptionOut]
