"""Repositories: the storage side of the ports in `circlebook.services.ports`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.events import Event, EventType
from circlebook.domain.model import (
    Account,
    Book,
    Departure,
    Entry,
    Invitation,
    Role,
    Session,
)
from circlebook.domain.tags import join_tags, split_tags
from circlebook.domain.visibility import Viewer
from circlebook.services.ports import EntryRow
from circlebook.storage.outreach import insert_new
from circlebook.storage.schema import (
    accounts,
    auth_codes,
    book_views,
    books,
    departures,
    entries,
    events,
    invitations,
    invite_quota,
    sessions,
)

# The columns of `EntryRow`, in its order; a whole Entry adds its versions.
VIEW_ROW = (
    entries.c.id,
    entries.c.account_id,
    accounts.c.phone,
    entries.c.name,
    entries.c.tags,
    entries.c.role,
    entries.c.created_at,
    entries.c.updated_at,
)
ENTRY_ROW = (*VIEW_ROW, entries.c.version, entries.c.tags_version)


# The statements every small request runs, built once. Building a SELECT and
# computing its cache key anew cost about ten times as much as running it on
# SQLite (some 350 us against 40 for an entry joined to its account on the
# 2-core machine); built once, SQLAlchemy finds the compiled form straight away.
_ACCOUNT_BY_ID = select(accounts).where(accounts.c.id == bindparam("account_id"))
_ACCOUNT_BY_PHONE = select(accounts).where(accounts.c.phone == bindparam("phone"))
_SESSION_ACCOUNT = (
    select(
        accounts,
        sessions.c.id.label("session_id"),
        sessions.c.device,
        sessions.c.created_at.label("session_created_at"),
        sessions.c.last_used_at,
    )
    .join(sessions, sessions.c.account_id == accounts.c.id)
    .where(sessions.c.token_hash == bindparam("token_hash"))
)
_BOOK = select(books).where(books.c.id == bindparam("book_id"))
_BOOK_VERSION = select(books.c.version).where(books.c.id == bindparam("book_id"))
_ENTRY = select(entries.c.book_id, *ENTRY_ROW).join(accounts, accounts.c.id == entries.c.account_id)
_ENTRY_BY_ID = _ENTRY.where(
    entries.c.book_id == bindparam("book_id"), entries.c.id == bindparam("entry_id")
)
_ENTRY_OF_ACCOUNT = _ENTRY.where(
    entries.c.book_id == bindparam("book_id"), entries.c.account_id == bindparam("account_id")
)
_ENTRY_BY_INVITATION = _ENTRY.where(entries.c.invitation_id == bindparam("invitation_id"))
_ROWS = (
    select(*VIEW_ROW)
    .join(accounts, accounts.c.id == entries.c.account_id)
    .order_by(entries.c.created_at, entries.c.id)
)
_ROWS_ALL = _ROWS.where(entries.c.book_id == bindparam("book_id"))
_ROWS_SINCE = _ROWS.where(
    entries.c.book_id == bindparam("book_id"), entries.c.version > bindparam("since")
)
# A multiget's cards, found by primary key. SQLite, left to itself, walks the
# book's index and tests every entry against the list (at 10,000 entries a
# batch of 1,000 cost twenty times the lookups); `book_id || ''` is SQLite's
# documented way to keep a term off an index, and costs PostgreSQL nothing.
_ROWS_BY_ID = (
    select(*VIEW_ROW)
    .join(accounts, accounts.c.id == entries.c.account_id)
    .where(
        entries.c.id.in_(bindparam("ids", expanding=True)),
        entries.c.book_id.concat("") == bindparam("book_id"),
    )
)
# And those every sync from a token runs besides `_ROWS_SINCE`.
_DEPARTURES_SINCE = (
    select(departures)
    .where(departures.c.book_id == bindparam("book_id"), departures.c.version > bindparam("since"))
    .order_by(departures.c.version)
)
_SYNC_FLOOR = select(books.c.sync_floor).where(books.c.id == bindparam("book_id"))
# And those every accept runs (services.invitations.join), for the same reason:
# a writer holds the book's row, or SQLite's one write lock, while it builds them.
_BUMP = (
    update(books)
    .where(books.c.id == bindparam("book_id"))
    .values(version=books.c.version + 1, updated_at=bindparam("now"))
    .returning(*books.c)
)
_ADD_ENTRY = insert(entries)
_TAKE = (
    delete(invitations)
    .where(
        invitations.c.id == bindparam("invitation_id"),
        invitations.c.phone == bindparam("phone"),
        invitations.c.expires_at > bindparam("now"),
    )
    .returning(*invitations.c)
)
_INVITATION = select(invitations).where(invitations.c.id == bindparam("invitation_id"))
_ADD_EVENT = insert(events).returning(events.c.id)


def _account(row: Row[Any]) -> Account:
    return Account(row.id, row.phone, row.name, row.created_at)


def _book(row: Row[Any]) -> Book:
    return Book(row.id, row.title, row.owner_id, row.version, row.created_at, row.updated_at)


def _entry(row: Any, book_id: str) -> Entry:
    return Entry(
        id=row.id,
        book_id=book_id,
        account_id=row.account_id,
        phone=row.phone,
        name=row.name,
        tags=split_tags(row.tags),
        role=Role(row.role),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        tags_version=row.tags_version,
    )


def _invitation(row: Row[Any]) -> Invitation:
    return Invitation(
        row.id,
        row.book_id,
        row.phone,
        row.name,
        split_tags(row.tags),
        row.invited_by,
        row.created_at,
        row.expires_at,
        row.reminded_at,
    )


class SqlAccounts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, account_id: str) -> Account | None:
        row = self.conn.execute(_ACCOUNT_BY_ID, {"account_id": account_id}).first()
        return _account(row) if row else None

    def by_phone(self, phone: str) -> Account | None:
        row = self.conn.execute(_ACCOUNT_BY_PHONE, {"phone": phone}).first()
        return _account(row) if row else None

    def add(self, account: Account) -> None:
        self.conn.execute(
            insert(accounts).values(
                id=account.id,
                phone=account.phone,
                name=account.name,
                created_at=account.created_at,
            )
        )

    def rename(self, account_id: str, name: str) -> None:
        self.conn.execute(update(accounts).where(accounts.c.id == account_id).values(name=name))

    def remove(self, account_id: str) -> None:
        self.conn.execute(delete(accounts).where(accounts.c.id == account_id))


class SqlCodes:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, phone_hash: str, code_hash: str, created_at: str, expires_at: str) -> None:
        self.conn.execute(
            insert(auth_codes).values(
                phone_hash=phone_hash,
                code_hash=code_hash,
                created_at=created_at,
                expires_at=expires_at,
                attempts=0,
                used=False,
            )
        )

    def live(self, phone_hash: str, now: str) -> tuple[int, str] | None:
        """The newest code for this phone that is unused and unexpired."""
        row = self.conn.execute(
            select(auth_codes.c.id, auth_codes.c.code_hash)
            .where(
                auth_codes.c.phone_hash == phone_hash,
                auth_codes.c.used.is_(False),
                auth_codes.c.expires_at > now,
            )
            .order_by(auth_codes.c.id.desc())
            .limit(1)
        ).first()
        return (row.id, row.code_hash) if row else None

    def claim_attempt(self, code_id: int, max_attempts: int) -> bool:
        """Take one of the code's attempts; False when they are all taken (or it was used).

        One conditional UPDATE: on PostgreSQL concurrent guesses queue on the row's
        lock and each re-reads the count, so no more than `max_attempts` ever pass.
        """
        claimed = self.conn.execute(
            update(auth_codes)
            .where(
                auth_codes.c.id == code_id,
                auth_codes.c.used.is_(False),
                auth_codes.c.attempts < max_attempts,
            )
            .values(attempts=auth_codes.c.attempts + 1)
            .returning(auth_codes.c.id)
        ).first()
        return claimed is not None

    def use(self, code_id: int) -> bool:
        """Mark a code used; False when another request used it first."""
        result = self.conn.execute(
            update(auth_codes)
            .where(auth_codes.c.id == code_id, auth_codes.c.used.is_(False))
            .values(used=True)
        )
        return result.rowcount == 1

    def purge_created_before(self, cutoff: str) -> None:
        self.conn.execute(delete(auth_codes).where(auth_codes.c.created_at < cutoff))

    def forget(self, phone_hash: str) -> None:
        self.conn.execute(delete(auth_codes).where(auth_codes.c.phone_hash == phone_hash))


class SqlSessions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, session: Session, token_hash: str) -> None:
        self.conn.execute(
            insert(sessions).values(
                token_hash=token_hash,
                id=session.id,
                account_id=session.account_id,
                device=session.device,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
            )
        )

    def account(self, token_hash: str) -> tuple[Account, Session] | None:
        row = self.conn.execute(_SESSION_ACCOUNT, {"token_hash": token_hash}).first()
        if row is None:
            return None
        session = Session(
            row.session_id, row.id, row.device, row.session_created_at, row.last_used_at
        )
        return _account(row), session

    def of_account(self, account_id: str) -> list[tuple[Session, str]]:
        """The account's sessions, newest first, each with its token's hash."""
        rows = self.conn.execute(
            select(sessions)
            .where(sessions.c.account_id == account_id)
            .order_by(sessions.c.created_at.desc(), sessions.c.id)
        )
        return [
            (Session(r.id, r.account_id, r.device, r.created_at, r.last_used_at), r.token_hash)
            for r in rows
        ]

    def touch(self, token_hash: str, now: str) -> None:
        self.conn.execute(
            update(sessions).where(sessions.c.token_hash == token_hash).values(last_used_at=now)
        )

    def remove(self, token_hash: str) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def remove_by_id(self, account_id: str, session_id: str) -> bool:
        result = self.conn.execute(
            delete(sessions).where(sessions.c.account_id == account_id, sessions.c.id == session_id)
        )
        return result.rowcount == 1

    def remove_others(self, account_id: str, keep_token_hash: str) -> int:
        result = self.conn.execute(
            delete(sessions).where(
                sessions.c.account_id == account_id, sessions.c.token_hash != keep_token_hash
            )
        )
        return int(result.rowcount)

    def remove_all(self, account_id: str) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.account_id == account_id))

    def remove_expired(self, idle_before: str | None, created_before: str | None) -> int:
        """Sessions unused since `idle_before` or begun before `created_before` (None: no bound)."""
        stale = [sessions.c.last_used_at < idle_before] if idle_before else []
        stale += [sessions.c.created_at < created_before] if created_before else []
        if not stale:
            return 0
        return int(self.conn.execute(delete(sessions).where(or_(*stale))).rowcount)


class SqlBooks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, book: Book) -> None:
        self.conn.execute(
            insert(books).values(
                id=book.id,
                title=book.title,
                owner_id=book.owner_id,
                version=book.version,
                created_at=book.created_at,
                updated_at=book.updated_at,
            )
        )

    def get(self, book_id: str) -> Book | None:
        row = self.conn.execute(_BOOK, {"book_id": book_id}).first()
        return _book(row) if row else None

    def version(self, book_id: str) -> int | None:
        return self.conn.execute(_BOOK_VERSION, {"book_id": book_id}).scalar_one_or_none()

    def bump(self, book_id: str, now: str, title: str | None = None) -> int:
        """Advance the book's version (locking its row) and return the new one."""
        if title is None:
            return self.advance(book_id, now).version
        values: dict[str, Any] = {"version": books.c.version + 1, "updated_at": now}
        if title is not None:
            values["title"] = title
        return int(
            self.conn.execute(
                update(books)
                .where(books.c.id == book_id)
                .values(**values)
                .returning(books.c.version)
            ).scalar_one()
        )

    def advance(self, book_id: str, now: str) -> Book:
        """Advance the book's version (locking its row); the book as it now is."""
        return _book(self.conn.execute(_BUMP, {"book_id": book_id, "now": now}).one())

    def set_owner(self, book_id: str, account_id: str) -> None:
        self.conn.execute(update(books).where(books.c.id == book_id).values(owner_id=account_id))

    def remove(self, book_id: str) -> None:
        # Children first: SQLite enforces ON DELETE CASCADE only with foreign keys
        # on, and being explicit keeps "all its data goes" true on any connection.
        # The events addressed to the book (its `book.changed` history) go too: the
        # log replays them only to the book's members, and it will have none. Events
        # addressed to accounts carry the book's id in their data, not in this
        # column, so the `book.left` that tells each member the book is gone stays.
        for table in (entries, departures, invitations, events, book_views):
            self.conn.execute(delete(table).where(table.c.book_id == book_id))
        self.conn.execute(delete(books).where(books.c.id == book_id))

    def memberships(self, account_id: str) -> list[tuple[Book, Entry]]:
        rows = self.conn.execute(
            select(books, *ENTRY_ROW)
            .join(entries, entries.c.book_id == books.c.id)
            .join(accounts, accounts.c.id == entries.c.account_id)
            .where(entries.c.account_id == account_id)
            .order_by(books.c.created_at, books.c.id)
        ).all()
        out = []
        for r in rows:
            m = r._mapping
            book = Book(
                m[books.c.id],
                m[books.c.title],
                m[books.c.owner_id],
                m[books.c.version],
                m[books.c.created_at],
                m[books.c.updated_at],
            )
            entry = Entry(
                id=m[entries.c.id],
                book_id=book.id,
                account_id=m[entries.c.account_id],
                phone=m[accounts.c.phone],
                name=m[entries.c.name],
                tags=split_tags(m[entries.c.tags]),
                role=Role(m[entries.c.role]),
                created_at=m[entries.c.created_at],
                updated_at=m[entries.c.updated_at],
                version=m[entries.c.version],
                tags_version=m[entries.c.tags_version],
            )
            out.append((book, entry))
        return out


class SqlEntries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entry: Entry, invitation_id: str | None = None) -> None:
        self.conn.execute(
            _ADD_ENTRY,
            {
                "id": entry.id,
                "book_id": entry.book_id,
                "account_id": entry.account_id,
                "name": entry.name,
                "tags": join_tags(entry.tags),
                "role": entry.role.value,
                "invitation_id": invitation_id,
                "created_at": entry.created_at,
                "updated_at": entry.updated_at,
                "version": entry.version,
                "tags_version": entry.tags_version,
            },
        )

    def _one(self, statement: Any, params: dict[str, str]) -> Entry | None:
        row = self.conn.execute(statement, params).first()
        return _entry(row, row.book_id) if row else None

    def get(self, book_id: str, entry_id: str) -> Entry | None:
        return self._one(_ENTRY_BY_ID, {"book_id": book_id, "entry_id": entry_id})

    def of_account(self, book_id: str, account_id: str) -> Entry | None:
        return self._one(_ENTRY_OF_ACCOUNT, {"book_id": book_id, "account_id": account_id})

    def by_invitation(self, invitation_id: str) -> Entry | None:
        return self._one(_ENTRY_BY_INVITATION, {"invitation_id": invitation_id})

    def account_ids(self, book_id: str) -> list[str]:
        query = select(entries.c.account_id).where(entries.c.book_id == book_id)
        return list(self.conn.execute(query).scalars())

    def phones(self, book_id: str) -> set[str]:
        rows = self.conn.execute(
            select(accounts.c.phone)
            .join(entries, entries.c.account_id == accounts.c.id)
            .where(entries.c.book_id == book_id)
        )
        return {r.phone for r in rows}

    def rows(self, book_id: str, since: int | None = None) -> Sequence[EntryRow]:
        """Entry rows of a book (all, or changed after `since`) in the order of `EntryRow`."""
        if since is None:
            result = self.conn.execute(_ROWS_ALL, {"book_id": book_id})
        else:
            result = self.conn.execute(_ROWS_SINCE, {"book_id": book_id, "since": since})
        return result.all()

    def count_visible(self, book_id: str, viewer: Viewer) -> int:
        """How many of the book's entries `viewer` sees (domain.visibility.can_see, in SQL),
        counted without reading them: a book of 10,000 answers as fast as one of 10."""
        where = [entries.c.book_id == book_id]
        if not viewer.is_owner:
            # Tags are stored joined by commas: a tag is held when ",tag," is in ",tags,".
            held = literal(",").concat(entries.c.tags).concat(",")
            shared = (
                [held.contains(f",{tag},", autoescape=True) for tag in sorted(viewer.tags)]
                if viewer.tags
                else [entries.c.tags == ""]
            )
            where.append(
                or_(
                    entries.c.role == Role.OWNER.value,
                    entries.c.account_id == viewer.account_id,
                    *shared,
                )
            )
        return int(
            self.conn.execute(select(func.count()).select_from(entries).where(*where)).scalar_one()
        )

    def rows_by_id(self, book_id: str, entry_ids: Sequence[str]) -> Sequence[EntryRow]:
        """The rows of the book's entries among `entry_ids` (others are left out), in no order."""
        found: list[EntryRow] = []
        # Chunks keep each IN list well under every backend's limit on bound parameters.
        for start in range(0, len(entry_ids), 500):
            chunk = entry_ids[start : start + 500]
            found += self.conn.execute(_ROWS_BY_ID, {"ids": chunk, "book_id": book_id}).all()
        return found

    def update(self, entry_id: str, values: dict[str, Any]) -> None:
        if "tags" in values:
            values = {**values, "tags": join_tags(values["tags"])}
        self.conn.execute(update(entries).where(entries.c.id == entry_id).values(**values))

    def refuse_tokens_before(self, book_id: str, version: int) -> None:
        """Every member's view changed at `version`: sync tokens from before must resync."""
        self.conn.execute(
            update(entries).where(entries.c.book_id == book_id).values(tags_version=version)
        )

    def remove(self, entry_id: str) -> None:
        self.conn.execute(delete(entries).where(entries.c.id == entry_id))


class SqlDepartures:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, book_id: str, departure: Departure, at: str) -> None:
        self.conn.execute(
            insert(departures).values(
                book_id=book_id,
                entry_id=departure.entry_id,
                account_id=departure.account_id,
                old_tags=join_tags(departure.old_tags),
                version=departure.version,
                created_at=at,
            )
        )

    def floor(self, book_id: str) -> int:
        """The newest version whose departures are gone: tokens before it cannot be answered."""
        value = self.conn.execute(_SYNC_FLOOR, {"book_id": book_id}).scalar_one_or_none()
        return int(value or 0)

    def prune_before(self, cutoff: str) -> None:
        """Delete departures older than `cutoff`, raising each book's floor past them first.

        Versions grow with time within a book, so a token issued after `cutoff`
        names a version at or above every departure deleted here.
        """
        old = departures.c.created_at < cutoff
        reached = self.conn.execute(
            select(departures.c.book_id, func.max(departures.c.version))
            .where(old)
            .group_by(departures.c.book_id)
        ).all()
        for book_id, version in reached:
            self.conn.execute(
                update(books)
                .where(books.c.id == book_id, books.c.sync_floor < version)
                .values(sync_floor=version)
            )
        self.conn.execute(delete(departures).where(old))

    def replace_account(self, account_id: str, alias: Callable[[str], str]) -> None:
        """Put `alias(book_id)` where the account's id is, book by book."""
        _replace_per_book(self.conn, departures.c.account_id, account_id, alias)

    def since(self, book_id: str, version: int) -> list[Departure]:
        rows = self.conn.execute(_DEPARTURES_SINCE, {"book_id": book_id, "since": version})
        return [
            Departure(r.entry_id, r.account_id, split_tags(r.old_tags), r.version) for r in rows
        ]


class SqlInvitations:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, invitation: Invitation, link_hash: str | None = None) -> None:
        self.conn.execute(
            insert(invitations).values(
                link_hash=link_hash,
                id=invitation.id,
                book_id=invitation.book_id,
                phone=invitation.phone,
                name=invitation.name,
                tags=join_tags(invitation.tags),
                invited_by=invitation.invited_by,
                created_at=invitation.created_at,
                expires_at=invitation.expires_at,
            )
        )

    def get(self, invitation_id: str) -> Invitation | None:
        row = self.conn.execute(_INVITATION, {"invitation_id": invitation_id}).first()
        return _invitation(row) if row else None

    def by_link(self, link_hash: str, now: str) -> Invitation | None:
        row = self.conn.execute(
            select(invitations).where(
                invitations.c.link_hash == link_hash, invitations.c.expires_at > now
            )
        ).first()
        return _invitation(row) if row else None

    def mark_reminded(self, invitation_id: str, now: str) -> bool:
        """Claim the invitation's one reminder; False if it was already sent (atomic)."""
        return (
            self.conn.execute(
                update(invitations)
                .where(invitations.c.id == invitation_id, invitations.c.reminded_at.is_(None))
                .values(reminded_at=now)
            ).rowcount
            == 1
        )

    def take_all_for_phone(self, phone: str) -> list[Invitation]:
        """Delete and return every invitation to `phone`, live or not."""
        rows = self.conn.execute(
            delete(invitations).where(invitations.c.phone == phone).returning(*invitations.c)
        )
        return [_invitation(r) for r in rows]

    def pending_for_book(self, book_id: str, now: str) -> list[Invitation]:
        rows = self.conn.execute(
            select(invitations)
            .where(invitations.c.book_id == book_id, invitations.c.expires_at > now)
            .order_by(invitations.c.created_at, invitations.c.phone)
        )
        return [_invitation(r) for r in rows]

    def pending_for_phone(self, phone: str, now: str) -> list[Invitation]:
        rows = self.conn.execute(
            select(invitations)
            .where(invitations.c.phone == phone, invitations.c.expires_at > now)
            .order_by(invitations.c.created_at, invitations.c.id)
        )
        return [_invitation(r) for r in rows]

    def phones(self, book_id: str, now: str) -> set[str]:
        rows = self.conn.execute(
            select(invitations.c.phone).where(
                invitations.c.book_id == book_id, invitations.c.expires_at > now
            )
        )
        return {r.phone for r in rows}

    def take(self, invitation_id: str, phone: str, now: str) -> Invitation | None:
        """Delete and return a live invitation to `phone`; None if it is not there (any more)."""
        row = self.conn.execute(
            _TAKE, {"invitation_id": invitation_id, "phone": phone, "now": now}
        ).first()
        return _invitation(row) if row else None

    def remove(self, book_id: str, invitation_id: str) -> bool:
        result = self.conn.execute(
            delete(invitations).where(
                invitations.c.book_id == book_id, invitations.c.id == invitation_id
            )
        )
        return result.rowcount == 1

    def purge_expired(self, now: str) -> list[str]:
        """Delete expired invitations, returning their ids.

        They hold phones and names nobody agreed to share.
        """
        expired = delete(invitations).where(invitations.c.expires_at <= now)
        rows = self.conn.execute(expired.returning(invitations.c.id))
        return list(rows.scalars())

    def sent_by(self, account_id: str, now: str) -> list[Invitation]:
        rows = self.conn.execute(
            select(invitations)
            .where(invitations.c.invited_by == account_id, invitations.c.expires_at > now)
            .order_by(invitations.c.created_at, invitations.c.id)
        )
        return [_invitation(r) for r in rows]

    def take_sent_by(self, account_id: str) -> list[Invitation]:
        """Delete and return every invitation the account sent, live or not."""
        rows = self.conn.execute(
            delete(invitations)
            .where(invitations.c.invited_by == account_id)
            .returning(*invitations.c)
        )
        return [_invitation(r) for r in rows]


class SqlInviteQuota:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def used(self, account_id: str, day: str) -> int:
        value = self.conn.execute(
            select(func.coalesce(func.sum(invite_quota.c.count), 0)).where(
                invite_quota.c.account_id == account_id, invite_quota.c.day == day
            )
        ).scalar_one()
        return int(value)

    def claim(self, account_id: str, day: str, count: int, cap: int) -> bool:
        """Spend `count` of the day's `cap` in one conditional UPDATE; False if it has no room.

        Earlier days' rows go: only today's count is ever read.
        """
        if count > cap:
            return False
        self.conn.execute(
            delete(invite_quota).where(
                invite_quota.c.account_id == account_id, invite_quota.c.day < day
            )
        )
        if insert_new(self.conn, invite_quota, account_id=account_id, day=day, count=count):
            return True
        claimed = self.conn.execute(
            update(invite_quota)
            .where(
                invite_quota.c.account_id == account_id,
                invite_quota.c.day == day,
                invite_quota.c.count + count <= cap,
            )
            .values(count=invite_quota.c.count + count)
            .returning(invite_quota.c.account_id)
        ).first()
        return claimed is not None

    def forget(self, account_id: str) -> None:
        self.conn.execute(delete(invite_quota).where(invite_quota.c.account_id == account_id))

    def purge_before(self, day: str) -> None:
        self.conn.execute(delete(invite_quota).where(invite_quota.c.day < day))


def _replace_per_book(
    conn: Connection, column: Any, account_id: str, alias: Callable[[str], str]
) -> None:
    """Where `column` holds the account's id, put `alias(book_id)` of that row's book."""
    table = column.table
    where = column == account_id
    found = conn.execute(select(table.c.book_id).where(where).distinct()).scalars().all()
    for book_id in found:
        conn.execute(
            update(table).where(where, table.c.book_id == book_id).values({column: alias(book_id)})
        )


def _tags_or_none(text: str | None) -> frozenset[str] | None:
    return None if text is None else split_tags(text)


# Any constant: the key of the advisory lock that orders event ids on PostgreSQL.
# The consent ledger takes the same one: every change that writes a ledger record
# records events too, and one lock held to commit cannot deadlock with another.
ORDER_LOCK = 7_250_101
TAKE_ORDER_LOCK = select(func.pg_advisory_xact_lock(ORDER_LOCK))


class OrderLock:
    """The lock that orders event ids (and ledger records), taken at most once a transaction.

    On PostgreSQL it is held to the end of the transaction once taken, so asking
    again would be one more round trip for nothing; a rollback to a savepoint
    gives it back, which the unit of work notes in `held`. SQLite's writers take
    turns already: there it counts as held from the start.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.held = conn.dialect.name != "postgresql"

    def take(self) -> None:
        if not self.held:
            self.conn.execute(TAKE_ORDER_LOCK)
            self.held = True


class SqlEvents:
    _ORDER_LOCK = ORDER_LOCK

    def __init__(self, conn: Connection, order: OrderLock | None = None) -> None:
        self.conn = conn
        self.order = order or OrderLock(conn)

    def add(self, event: Event) -> Event:
        # On PostgreSQL ids come from a sequence, and concurrent transactions could
        # commit 11 before 10; a reader resuming after 11 would then miss 10. Taking
        # this lock until commit makes ids commit in the order they are drawn.
        self.order.take()
        event_id = self.conn.execute(
            _ADD_EVENT,
            {
                "type": event.type.value,
                "data": orjson.dumps(event.data).decode(),
                "account_id": event.account_id,
                "book_id": event.book_id,
                "subject_id": event.subject_id,
                "old_tags": None if event.old_tags is None else join_tags(event.old_tags),
                "new_tags": None if event.new_tags is None else join_tags(event.new_tags),
                "version": event.version,
                "created_at": event.created_at,
            },
        ).scalar_one()
        return event.numbered(int(event_id))

    def after(self, event_id: int, account_id: str, book_ids: Sequence[str]) -> list[Event]:
        """Events after `event_id` addressed to the account or to one of its books, in order."""
        audience = events.c.account_id == account_id
        if book_ids:
            audience = audience | events.c.book_id.in_(book_ids)
        rows = self.conn.execute(
            select(events).where(events.c.id > event_id, audience).order_by(events.c.id)
        )
        return [
            Event(
                type=EventType(r.type),
                data=orjson.loads(r.data),
                account_id=r.account_id,
                book_id=r.book_id,
                subject_id=r.subject_id,
                old_tags=_tags_or_none(r.old_tags),
                new_tags=_tags_or_none(r.new_tags),
                created_at=r.created_at,
                id=r.id,
                version=r.version,
            )
            for r in rows
        ]

    def first_id(self) -> int | None:
        return self.conn.execute(select(func.min(events.c.id))).scalar_one_or_none()

    def last_id(self) -> int:
        return int(self.conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())

    def prune_before(self, cutoff: str) -> None:
        self.conn.execute(delete(events).where(events.c.created_at < cutoff))

    def forget_invitations(self, invitation_ids: Sequence[str]) -> None:
        """Delete the `invitation.received` notices of these (deleted) invitations.

        The invitation's id is only in the notice's data, so the notices are read
        and matched here; the log keeps a week of them, which keeps this small.
        """
        wanted = set(invitation_ids)
        rows = self.conn.execute(
            select(events.c.id, events.c.data).where(
                events.c.type == EventType.INVITATION_RECEIVED.value
            )
        )
        doomed = [r.id for r in rows if orjson.loads(r.data).get("invitation_id") in wanted]
        for start in range(0, len(doomed), 500):
            self.conn.execute(delete(events).where(events.c.id.in_(doomed[start : start + 500])))

    def forget_account(self, account_id: str) -> None:
        """Delete the events addressed to the account."""
        self.conn.execute(delete(events).where(events.c.account_id == account_id))

    def replace_subject(self, account_id: str, alias: Callable[[str], str]) -> None:
        """Put `alias(book_id)` where the account is the subject of a book's event."""
        _replace_per_book(self.conn, events.c.subject_id, account_id, alias)
