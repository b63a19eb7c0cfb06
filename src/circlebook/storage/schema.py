"""The database schema, shared by SQLite and PostgreSQL.

Times are stored as fixed-width UTC ISO-8601 text (`2026-01-02T03:04:05.000006Z`):
they compare correctly as strings on both backends and go to JSON without a
conversion per row, which matters when a book of 10,000 entries is fetched.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)
TIME = String(32)
PHONE = String(20)
NAME = String(200)
EVENT_ID = BigInteger().with_variant(Integer, "sqlite")

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("phone", PHONE, nullable=False, unique=True),
    Column("name", NAME, nullable=False),
    Column("created_at", TIME, nullable=False),
)

# One-time codes are keyed by a keyed hash of the phone: a number that asks for a
# code but never signs up leaves no readable phone behind.
auth_codes = Table(
    "auth_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("phone_hash", String(64), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("used", Boolean, nullable=False, default=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("device", NAME, nullable=False),
    Column("created_at", TIME, nullable=False),
    # What the person sees and ends a session by; the token's hash never leaves the server.
    Column("id", ID, nullable=False, unique=True),
    # Coarse (written at most hourly), so that authenticating stays a read.
    Column("last_used_at", TIME, nullable=False),
    Index("ix_sessions_account_id", "account_id"),
)

# Passwords for clients that speak HTTP Basic (CardDAV): a salted hash keyed by
# the server's secret, never the password itself.
app_passwords = Table(
    "app_passwords",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("label", NAME, nullable=False),
    Column("password_hash", String(128), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("last_used_at", TIME, nullable=True),
    Index("ix_app_passwords_account_id", "account_id"),
)

books = Table(
    "books",
    metadata,
    Column("id", ID, primary_key=True),
    Column("title", NAME, nullable=False),
    Column("owner_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # Bumped by every change to the book; entries and departures carry the
    # version that made them, which is what sync tokens count in.
    Column("version", BigInteger, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    # The newest version whose departures the sweep has deleted: a sync token for
    # an older version could need them, and is answered "fetch in full" instead.
    Column("sync_floor", BigInteger, nullable=False, server_default="0"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("book_id", ID, ForeignKey("books.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", NAME, nullable=False),
    Column("tags", Text, nullable=False),
    Column("role", String(8), nullable=False),
    # The invitation this entry answered: a second accept of it finds the entry.
    Column("invitation_id", ID, nullable=True, unique=True),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("tags_version", BigInteger, nullable=False),
    UniqueConstraint("book_id", "account_id"),
    Index("ix_entries_book_id_version", "book_id", "version"),
    # Entries are listed in the order people joined; the index serves that order.
    Index("ix_entries_book_id_created_at_id", "book_id", "created_at", "id"),
    Index("ix_entries_account_id", "account_id"),
)

# Where each member's view of a book has reached. Members holding the same tags
# see the same entries, so the view is kept per set of tags (a "kind" of member):
# its version moves only with changes that kind can see, and it is what a
# member's sync token, CTag and `updated_at` show. So nothing a member cannot
# see moves them (the owner, who sees everything, goes by the book's version).
book_views = Table(
    "book_views",
    metadata,
    Column("book_id", ID, ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
    Column("tags", Text, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", TIME, nullable=False),
)

departures = Table(
    "departures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("book_id", ID, ForeignKey("books.id", ondelete="CASCADE"), nullable=False),
    Column("entry_id", ID, nullable=False),
    Column("account_id", ID, nullable=False),
    Column("old_tags", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    # When it left: past the sync-token retention the sweep deletes the row.
    Column("created_at", TIME, nullable=False),
    Index("ix_departures_book_id_version", "book_id", "version"),
    Index("ix_departures_created_at", "created_at"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("book_id", ID, ForeignKey("books.id", ondelete="CASCADE"), nullable=False),
    Column("phone", PHONE, nullable=False),
    Column("name", NAME, nullable=True),
    Column("tags", Text, nullable=False),
    Column("invited_by", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False),
    # A keyed hash of the invitation's personal link token: the token itself is
    # never stored, so a copy of the database opens no invitation.
    Column("link_hash", String(64), nullable=True, unique=True),
    # When the owner last sent the one reminder an invitation allows.
    Column("reminded_at", TIME, nullable=True),
    UniqueConstraint("book_id", "phone"),
    Index("ix_invitations_phone", "phone"),
    Index("ix_invitations_expires_at", "expires_at"),
)

invite_quota = Table(
    "invite_quota",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
)

# The durable record behind the event stream: a terminal that reconnects with
# Last-Event-ID is answered from here, whatever a broker may have dropped.
events = Table(
    "events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("type", String(32), nullable=False),
    Column("data", Text, nullable=False),
    Column("account_id", ID, nullable=True),
    Column("book_id", ID, nullable=True),
    Column("subject_id", ID, nullable=True),
    Column("old_tags", Text, nullable=True),
    Column("new_tags", Text, nullable=True),
    # For a book event, the book version it made: a replay to a member starts
    # no earlier than the member's own place in the book (its tags_version).
    Column("version", BigInteger, nullable=True),
    Column("created_at", TIME, nullable=False),
    Index("ix_events_account_id_id", "account_id", "id"),
    Index("ix_events_book_id_id", "book_id", "id"),
    Index("ix_events_created_at", "created_at"),
    # Ids must never be reused, even after pruning empties the table: a client's
    # Last-Event-ID would otherwise skip the new events that took old numbers.
    sqlite_autoincrement=True,
)

# Numbers that asked never to be invited again, as the same keyed hash of the
# phone that sign-in codes use: the list can be checked but not read back.
do_not_invite = Table(
    "do_not_invite",
    metadata,
    Column("phone_hash", String(64), primary_key=True),
    Column("created_at", TIME, nullable=False),
)

# The server's own invitation texts to one number, across every owner, counted in
# a window that starts at the first text: a cap on how often a stranger is texted.
invite_texts = Table(
    "invite_texts",
    metadata,
    Column("phone_hash", String(64), primary_key=True),
    Column("window_start", TIME, nullable=False),
    Column("count", Integer, nullable=False),
)

# Counts of attempts in a window, by what is counted: code requests and wrong codes
# per client address, wrong codes per number (hashed), the deployment's texts per
# hour. Each is claimed atomically, so concurrent requests cannot overrun a limit.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("window_start", TIME, nullable=False),
    Column("count", Integer, nullable=False),
    Column("last_at", TIME, nullable=False),
)

# Each account's consent ledger: what happened to its consent, append-only and hash
# chained (circlebook.hashchain). `body` is the record's canonical JSON without
# its hash, stored as hashed, so what is served is byte for byte what was chained.
ledger = Table(
    "ledger",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("body", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    # Unique: two records can never share a place in one chain; and it serves the pages.
    Index("ix_ledger_account_id_seq", "account_id", "seq", unique=True),
)

# Where a signed-in session's browser takes Web Push messages (RFC 8030): the push
# service's endpoint and the browser's keys (RFC 8291). Tied to the session, so
# signing out or ending the session drops them; the language is the one the browser
# asked in, which the messages are written in.
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint", String(1024), nullable=False, unique=True),
    Column("p256dh", String(100), nullable=False),
    Column("auth", String(40), nullable=False),
    Column("language", String(16), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Index("ix_push_subscriptions_account_id", "account_id"),
    Index("ix_push_subscriptions_session_id", "session_id"),
)

# The Web Push messages still to send: one row per (event, subscription), written in
# the transaction that recorded the event, so nothing committed goes unsent and
# nothing rolled back is sent. A sender claims rows (claimed_by, claimed_until)
# before sending, so that of several server instances exactly one sends each.
push_outbox = Table(
    "push_outbox",
    metadata,
    Column("id", EVENT_ID, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        ID,
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", EVENT_ID, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", TIME, nullable=False),
    # Past this (the message's TTL) a message not yet delivered is dropped.
    Column("expires_at", TIME, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # Not sent before this: a failed attempt waits, longer after each failure.
    Column("next_at", TIME, nullable=False),
    Column("claimed_by", String(32), nullable=True),
    Column("claimed_until", TIME, nullable=True),
    Index("ix_push_outbox_next_at", "next_at"),
    Index("ix_push_outbox_subscription_id", "subscription_id"),
    Index("ix_push_outbox_event_id", "event_id"),
)

# WebDAV-Push registrations (draft-bitfire-webdav-push): a member's contacts app asks
# for a push when its view of one collection changes. `collection` is the book's id,
# or "" for the address-book home. They belong to the account (app passwords sign
# DAV in), not to a session.
dav_push_registrations = Table(
    "dav_push_registrations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("collection", String(32), nullable=False),
    Column("push_resource", String(1024), nullable=False),
    Column("p256dh", String(100), nullable=True),
    Column("auth", String(40), nullable=True),
    Column("expires_at", TIME, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    # Set when the member's view changed and no message has gone out for it yet;
    # `changes` counts the marks, so one made while a message is sent is kept.
    Column("pending_at", TIME, nullable=True),
    Column("changes", Integer, nullable=False, server_default="0"),
    Column("sent_at", TIME, nullable=True),
    Column("claimed_by", String(32), nullable=True),
    Column("claimed_until", TIME, nullable=True),
    UniqueConstraint("account_id", "collection", "push_resource"),
    Index("ix_dav_push_registrations_collection", "collection"),
    Index("ix_dav_push_registrations_pending_at", "pending_at"),
)
