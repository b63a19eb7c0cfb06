"""The unit of work: one transaction, with the repositories that act inside it."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Engine

from circlebook.domain.dav_push import DONT_NOTIFY, EVERYONE
from circlebook.domain.events import AccountEvent, BookChanged, Event, concerns
from circlebook.domain.push import PUSHED
from circlebook.services.ports import Publisher
from circlebook.storage.accounts import SqlAccounts
from circlebook.storage.app_passwords import SqlAppPasswords
from circlebook.storage.books import SqlBooks
from circlebook.storage.database import WRITE
from circlebook.storage.dav_push import SqlDavPushRegistrations
from circlebook.storage.departures import SqlDepartures
from circlebook.storage.entries import SqlEntries
from circlebook.storage.events import OrderLock, SqlEvents
from circlebook.storage.invitations import SqlInvitations, SqlInviteQuota
from circlebook.storage.ledger import SqlLedger
from circlebook.storage.limits import SqlCounters
from circlebook.storage.outreach import SqlDoNotInvite, SqlInviteTexts
from circlebook.storage.push import SqlPushOutbox, SqlPushSubscriptions
from circlebook.storage.sessions import SqlSessions
from circlebook.storage.sign_in_codes import SqlCodes
from circlebook.storage.views import SqlBookViews

_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def _sqlite_writers(engine: Engine) -> threading.Lock | None:
    """One lock per SQLite engine that writers of this process queue on.

    SQLite admits one writer at a time and makes the others poll with growing
    sleeps (up to 100 ms); queueing in-process instead hands the lock straight
    to the next writer.
    """
    if engine.dialect.name != "sqlite":
        return None
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(engine, threading.Lock())


_PUSH_MIN_TRY = timedelta(minutes=1)


class _Nobody:
    def publish(self, events: Sequence[Event]) -> None:
        pass


class _Recording:
    """The event log, remembering what this transaction recorded so it can be published."""

    def __init__(self, log: SqlEvents) -> None:
        self._log = log
        self.recorded: list[Event] = []

    def add(self, event: Event) -> Event:
        numbered = self._log.add(event)
        self.recorded.append(numbered)
        return numbered

    def after(self, event_id: int, account_id: str, book_ids: Sequence[str]) -> list[Event]:
        return self._log.after(event_id, account_id, book_ids)

    def first_id(self) -> int | None:
        return self._log.first_id()

    def last_id(self) -> int:
        return self._log.last_id()

    def prune_before(self, cutoff: str) -> None:
        self._log.prune_before(cutoff)

    def forget_invitations(self, invitation_ids: Sequence[str]) -> None:
        self._log.forget_invitations(invitation_ids)

    def forget_account(self, account_id: str) -> None:
        self._log.forget_account(account_id)

    def replace_subject(self, account_id: str, alias: Callable[[str], str]) -> None:
        self._log.replace_subject(account_id, alias)


class SqlUnitOfWork:
    """Opens a transaction on enter; commits only when told, rolls back otherwise."""

    def __init__(
        self,
        engine: Engine,
        *,
        write: bool,
        publisher: Publisher | None = None,
        written: Callable[[], None] | None = None,
        push_ttl: timedelta | None = None,
        pushes_queued: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._publisher = publisher or _Nobody()
        self._written = written
        self._push_ttl = push_ttl
        self._pushes_queued = pushes_queued

    def __enter__(self) -> SqlUnitOfWork:
        self._queue = _sqlite_writers(self._engine) if self._write else None
        if self._queue is not None:
            self._queue.acquire()
        try:
            return self._open()
        except BaseException:
            self._release()
            raise

    def _open(self) -> SqlUnitOfWork:
        conn = self._engine.connect()
        if self._write:
            conn.execution_options(**{WRITE: True})
        elif self._engine.dialect.name == "postgresql":
            # Under READ COMMITTED each statement reads its own snapshot, in a
            # transaction or not: a read's BEGIN and ROLLBACK were two round trips
            # (of four, with the pool's ping, for an accept's one lookup) for nothing.
            conn.execution_options(isolation_level="AUTOCOMMIT")
        self._conn = conn
        self._tx = conn.begin()
        self.accounts = SqlAccounts(conn)
        self.codes = SqlCodes(conn)
        self.sessions = SqlSessions(conn)
        self.books = SqlBooks(conn)
        self.views = SqlBookViews(conn)
        self.entries = SqlEntries(conn)
        self.departures = SqlDepartures(conn)
        self.invitations = SqlInvitations(conn)
        self.invite_quota = SqlInviteQuota(conn)
        self.do_not_invite = SqlDoNotInvite(conn)
        self.invite_texts = SqlInviteTexts(conn)
        self.counters = SqlCounters(conn)
        # The events and the ledger share the transaction's one ordering lock.
        self._order = OrderLock(conn)
        self.events = _Recording(SqlEvents(conn, self._order))
        self.app_passwords = SqlAppPasswords(conn)
        self.ledger = SqlLedger(conn, self._order)
        self.push_subscriptions = SqlPushSubscriptions(conn)
        self.push_outbox = SqlPushOutbox(conn)
        self.dav_push_registrations = SqlDavPushRegistrations(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()
            self._release()

    def _release(self) -> None:
        if self._queue is not None:
            self._queue.release()
            self._queue = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """If the block raises, undo what it wrote and recorded; the transaction goes on.

        How writes that share one transaction (storage.group_commit) keep one
        write's failure from touching the others.
        """
        kept, ordered = len(self.events.recorded), self._order.held
        nested = self._conn.begin_nested()
        try:
            yield
        except BaseException:
            if nested.is_active:
                nested.rollback()
            del self.events.recorded[kept:]
            # A lock taken since the savepoint went with it.
            self._order.held = ordered
            raise
        nested.commit()

    def commit(self) -> None:
        """Commit, then publish the events recorded: nobody hears of what did not happen."""
        queued = self._queue_pushes()
        self._mark_dav_pushes()
        self._tx.commit()
        if self._write and self._written is not None:
            self._written()
        if queued and self._pushes_queued is not None:
            self._pushes_queued()
        recorded, self.events.recorded = self.events.recorded, []
        if recorded:
            self._publisher.publish(recorded)

    def _queue_pushes(self) -> int:
        """Queue the Web Push messages of this transaction's events, in the transaction;
        how many.

        One INSERT ... SELECT for them all, which adds nothing for people without
        subscriptions; written here, every use case that records a pushed event
        pushes it, and a rolled-back one pushes nothing.
        """
        if self._push_ttl is None:
            return 0
        pushed = [
            e for e in self.events.recorded if e.type in PUSHED and isinstance(e, AccountEvent)
        ]
        if not pushed:
            return 0
        now = pushed[0].created_at
        # A TTL of 0 asks push services to keep nothing for an offline phone; the
        # server itself still tries for a minute to hand the message over.
        expires = datetime.fromisoformat(now) + max(self._push_ttl, _PUSH_MIN_TRY)
        return self.push_outbox.enqueue(
            [e.id for e in pushed], now, expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        )

    def _mark_dav_pushes(self) -> None:
        """Mark the WebDAV-Push registrations whose member's view of a book changed.

        The rule the event stream follows (`concerns`): a member outside a tag
        scope is not marked for a change it cannot see. Registrations the request
        named in `Push-Dont-Notify` are left alone.
        """
        if self._push_ttl is None:
            return
        changed = [e for e in self.events.recorded if isinstance(e, BookChanged)]
        if not changed:
            return
        quiet = DONT_NOTIFY.get()
        if EVERYONE in quiet:
            return
        marked: set[str] = set()
        for book_id in {e.book_id for e in changed}:
            for registration_id, viewer in self.dav_push_registrations.concerned(book_id):
                if registration_id in quiet or registration_id in marked:
                    continue
                if any(e.book_id == book_id and concerns(viewer, e) for e in changed):
                    marked.add(registration_id)
        self.dav_push_registrations.mark(sorted(marked), changed[0].created_at)


class SqlUnitOfWorkFactory:
    def __init__(
        self,
        engine: Engine,
        publisher: Publisher | None = None,
        push_ttl: timedelta | None = None,
    ) -> None:
        """`push_ttl`: how long queued Web Push messages live; None queues none (push off)."""
        self.engine = engine
        self.publisher = publisher
        self.push_ttl = push_ttl
        # Told, after the commit, of each transaction that queued Web Push messages:
        # this process's sender, which then sends them (see composition.PushLoop).
        self.pushes_queued: Callable[[], None] | None = None
        self._writes = 0
        self._writes_lock = threading.Lock()

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            write=write,
            publisher=self.publisher,
            written=self._count_write,
            push_ttl=self.push_ttl,
            pushes_queued=self.pushes_queued,
        )

    def writes(self) -> int:
        """How many write transactions this factory's units of work have committed.

        What this process remembers of the database (services.recent_sign_ins)
        is good only while this number stays where it was.
        """
        return self._writes

    def _count_write(self) -> None:
        with self._writes_lock:
            self._writes += 1
