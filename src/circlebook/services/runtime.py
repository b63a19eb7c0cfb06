"""What every use case runs with: its adapters, clock and limits, chosen once at start-up."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from circlebook.domain.model import Account, Book, Entry
from circlebook.services.book_rows import BookRows
from circlebook.services.ports import (
    Clock,
    GroupCommit,
    NoTally,
    SmsSender,
    Tally,
    UnitOfWorkFactory,
)
from circlebook.services.recent_sign_ins import RecentSignIns
from circlebook.services.shared_reads import SharedReads


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits the server enforces, each from the setting of the same name.

    No field has a default: the settings hold them, and the app builds this from them
    in one place, so the two cannot drift apart.
    """

    region: str
    code_ttl_seconds: int
    code_max_attempts: int
    codes_per_window: int
    code_window_seconds: int
    # Per client address (IPv4, or the IPv6 /64) in the same window; 0 turns each off.
    code_requests_per_client: int
    signin_failures_per_client: int
    # Wrong codes to one number, across its codes, before a lockout that doubles.
    signin_failures_per_phone: int
    # Texts (codes) the whole deployment may send in an hour; 0: no budget.
    sms_per_hour: int
    # A session ends unused this long, or this long after sign-in; 0: never.
    session_idle_days: int
    session_max_days: int
    invites_per_day: int
    invitation_ttl_days: int
    # How long a sync token stays answerable as a delta; 0: forever.
    sync_token_days: int
    max_invitees_per_request: int
    # The base of invitation links; None: the address the request came to.
    public_url: str | None
    invite_sms: bool
    invite_texts_per_number: int
    # How long a Web Push message is worth delivering (its TTL, and how long it is retried).
    push_ttl_seconds: int
    # Whether push endpoints may be plain http:// on this machine (tests and benchmarks).
    push_allow_loopback: bool
    # The VAPID public key (base64url) WebDAV-Push advertises; None when push is off.
    push_public_key: str | None
    # At most one WebDAV-Push message per registration in this many seconds; 0: no merging.
    dav_push_merge_seconds: int
    # WebDAV-Push registrations one account may hold; 0: no limit.
    dav_push_max_registrations: int
    # The longest a WebDAV-Push registration lives unrenewed, in days (at least 3).
    dav_push_max_days: int


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a use case may touch, chosen once by the app at start-up."""

    uow: UnitOfWorkFactory
    sms: SmsSender
    clock: Clock
    secret_key: bytes
    policy: Policy
    # Texts that must not hold up a request (invitations): sent after it, off its path.
    background_sms: SmsSender
    group_commit: GroupCommit
    # Bearer tokens and app passwords checked in the last second (see recent_sign_ins),
    # each with its account and the moment it must be looked at again whatever the
    # cache says; by default none are remembered.
    sessions_seen: RecentSignIns[tuple[Account, datetime]] = field(
        default_factory=lambda: RecentSignIns(0.0, lambda: 0)
    )
    app_passwords_seen: RecentSignIns[tuple[Account, datetime]] = field(
        default_factory=lambda: RecentSignIns(0.0, lambda: 0)
    )
    # Invitations withdrawn and expired (accepted and declined ones are counted from
    # the events their answers publish); by default nothing is counted.
    tally: Tally = field(default_factory=NoTally)
    # Book headers read in the last second, by account and book (see services.books):
    # the book as that member sees it, its entry, and how many entries it sees if counted.
    books_seen: RecentSignIns[tuple[Book, Entry, int | None]] = field(
        default_factory=lambda: RecentSignIns(0.0, lambda: 0)
    )
    # Reads under way (a book, an app password), shared by requests asking the same at once.
    shared_reads: SharedReads = field(default_factory=lambda: SharedReads(lambda: 0))
    # Books' entry rows as last read whole, by version (see services.book_rows); by
    # default none are kept.
    book_rows: BookRows = field(default_factory=lambda: BookRows(0))
    # Told the ids of entries removed by this process, once committed, so that what an
    # edge keeps of them goes too (the CardDAV card cache); none by default.
    entries_removed: list[Callable[[Sequence[str]], None]] = field(default_factory=list)
