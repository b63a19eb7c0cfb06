"""Web Push: which events reach a person's phone, and what a subscription and a message are."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from circlebook.domain.events import Event, EventType

# What a person hears of on a phone with no page open: what asks for their answer
# or changes their place. A change to a book's entries is left to the next sync.
PUSHED = frozenset(
    {
        EventType.INVITATION_RECEIVED,
        EventType.INVITATION_ACCEPTED,
        EventType.INVITATION_DECLINED,
        EventType.BOOK_LEFT,
    }
)


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """Where one signed-in session's browser takes messages (RFC 8030, RFC 8291 keys)."""

    id: str
    account_id: str
    session_id: str
    endpoint: str
    p256dh: str
    auth: str
    language: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Message:
    """What a phone shows: the JSON the service worker receives, decrypted."""

    type: str
    title: str
    body: str
    url: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message claimed from the outbox for one subscription."""

    id: int
    subscription: PushSubscription
    event: Event
    attempts: int
    expires_at: str


class Delivery(StrEnum):
    """What the push service made of a message (RFC 8030, 5)."""

    ACCEPTED = "accepted"
    # 404 or 410: the subscription is gone for good (RFC 8030, 7.3).
    GONE = "gone"
    # Anything else, or no answer: try again later.
    FAILED = "failed"
