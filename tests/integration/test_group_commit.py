"""Writes to one book that arrive together share a commit, on each backend, through real storage.

Each caller is answered only once its change is committed, one write's failure
leaves the others' in place, and only what was kept is published.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy import event as sql_event
from sqlalchemy.exc import IntegrityError

from circlebook.domain.errors import NotFoundError
from circlebook.domain.events import BookLeft, Event
from circlebook.domain.model import Account
from circlebook.storage.group_commit import GroupCommit
from circlebook.storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory

AT = "2026-03-01T09:00:00.000000Z"
# A bound on waiting for threads to queue, so that a broken committer fails the test.
DEADLINE_S = 30.0


class Heard:
    """A publisher that keeps what it is told, with whether the database held it by then."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.events: list[Event] = []
        self.stored_when_heard: list[bool] = []

    def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            self.events.append(event)
            self.stored_when_heard.append(account_exists(self.engine, event.account_id or ""))


def account_exists(engine: Engine, account_id: str) -> bool:
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM accounts WHERE id = :id")
        return int(conn.execute(query, {"id": account_id}).scalar_one()) == 1


def phone(n: int) -> str:
    return f"+86138001{n:05d}"


def open_account(n: int, *, then: Callable[[], None] = lambda: None) -> Callable[..., str]:
    """A write: an account and an event told to it; `then` runs before the write returns."""

    def work(uow: SqlUnitOfWork) -> str:
        account_id = f"a_group{n:04d}"
        uow.accounts.add(Account(account_id, phone(n), f"Person {n}", AT))
        uow.events.add(BookLeft(account_id=account_id, book_id=str(n), created_at=AT))
        then()
        return account_id

    return work


@pytest.fixture
def heard(engine: Engine) -> Heard:
    return Heard(engine)


@pytest.fixture
def factory(engine: Engine, heard: Heard) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine, heard)


@pytest.fixture
def group(factory: SqlUnitOfWorkFactory) -> Iterator[GroupCommit]:
    group = GroupCommit(factory, max_batch=64)
    yield group
    group.close()


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "the writes never queued"
        time.sleep(0.005)


class Holder:
    """A first write that keeps the committer busy until released, so that others queue."""

    def __init__(self, group: GroupCommit, pool: ThreadPoolExecutor, key: str, n: int) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.answer = pool.submit(group.run, key, open_account(n, then=self._hold))
        assert self.started.wait(DEADLINE_S), "the committer never ran the first write"

    def _hold(self) -> None:
        self.started.set()
        self.release.wait(DEADLINE_S)


def queue(
    group: GroupCommit, pool: ThreadPoolExecutor, key: str, work: Callable[[SqlUnitOfWork], Any]
) -> Future[Any]:
    """Submit one write and wait until it is queued behind the others."""
    count = group.waiting() + 1
    answer = pool.submit(group.run, key, work)
    until(lambda: group.waiting() == count)
    return answer


def held_batch(
    group: GroupCommit, works: list[Callable[[SqlUnitOfWork], Any]], key: str = "book"
) -> list[Future[Any]]:
    """Run `works` as one batch: a first write holds the committer until all of them wait."""
    with ThreadPoolExecutor(len(works) + 1) as pool:
        holder = Holder(group, pool, key, 9999)
        answers = [queue(group, pool, key, work) for work in works]
        holder.release.set()
        holder.answer.result(DEADLINE_S)
        for answer in answers:
            answer.exception(DEADLINE_S)
    return answers


def test_writes_waiting_together_share_one_commit(
    group: GroupCommit, factory: SqlUnitOfWorkFactory, engine: Engine
) -> None:
    before = factory.writes()
    answers = held_batch(group, [open_account(n) for n in range(6)])
    ids = [a.result() for a in answers]
    assert all(account_exists(engine, i) for i in ids)
    # The holding write committed alone, the six waiting ones together.
    assert factory.writes() - before == 2


def test_every_caller_is_answered_after_its_change_is_committed(
    group: GroupCommit, engine: Engine
) -> None:
    seen_at_answer: list[bool] = []
    lock = threading.Lock()

    def accept_and_look(n: int) -> None:
        account_id = group.run("book", open_account(n))
        stored = account_exists(engine, account_id)  # a connection of its own
        with lock:
            seen_at_answer.append(stored)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(accept_and_look, range(40)))
    assert seen_at_answer == [True] * 40


def test_one_failing_write_leaves_the_others_committed_and_gets_its_own_error(
    group: GroupCommit, engine: Engine, heard: Heard
) -> None:
    def refused(uow: SqlUnitOfWork) -> str:
        open_account(100)(uow)
        raise NotFoundError("no such invitation")

    answers = held_batch(group, [open_account(1), refused, open_account(2), open_account(3)])
    assert [answers[i].result() for i in (0, 2, 3)] == ["a_group0001", "a_group0002", "a_group0003"]
    with pytest.raises(NotFoundError):
        answers[1].result()
    assert not account_exists(engine, "a_group0100")
    # Only what was kept is heard of, and only once it is stored.
    told = sorted(e.book_id for e in heard.events)
    assert told == ["1", "2", "3", "9999"]
    assert all(heard.stored_when_heard)


class Savepoints:
    """Counts the savepoints the engine's connections open while in use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.opened = 0

    def __enter__(self) -> Savepoints:
        sql_event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        sql_event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            self.opened += 1


def test_a_batch_in_which_nothing_fails_takes_no_savepoint(
    group: GroupCommit, factory: SqlUnitOfWorkFactory, engine: Engine
) -> None:
    before = factory.writes()
    with Savepoints(engine) as savepoints:
        answers = held_batch(group, [open_account(n) for n in range(4)])
    assert [a.result() for a in answers] == [f"a_group{n:04d}" for n in range(4)]
    assert savepoints.opened == 0
    assert factory.writes() - before == 2


def test_a_batch_in_which_one_write_fails_still_commits_the_others_together(
    group: GroupCommit, factory: SqlUnitOfWorkFactory, engine: Engine
) -> None:
    def refused(uow: SqlUnitOfWork) -> str:
        raise NotFoundError("no such invitation")

    before = factory.writes()
    with Savepoints(engine) as savepoints:
        answers = held_batch(group, [open_account(1), refused, open_account(2)])
    assert answers[0].result() == "a_group0001" and answers[2].result() == "a_group0002"
    with pytest.raises(NotFoundError):
        answers[1].result()
    # Run again in savepoints, one per write, and committed once (after the holder).
    assert savepoints.opened == 3
    assert factory.writes() - before == 2


def test_a_write_the_database_refuses_fails_alone(group: GroupCommit, engine: Engine) -> None:
    group.run("book", open_account(7))

    def same_number(uow: SqlUnitOfWork) -> str:
        uow.accounts.add(Account("a_group_dup", phone(7), "Again", AT))
        return "a_group_dup"

    answers = held_batch(group, [open_account(8), same_number, open_account(9)])
    assert answers[0].result() == "a_group0008"
    assert answers[2].result() == "a_group0009"
    with pytest.raises(IntegrityError):
        answers[1].result()
    assert not account_exists(engine, "a_group_dup")
    assert account_exists(engine, "a_group0008") and account_exists(engine, "a_group0009")


def test_a_caller_that_stops_waiting_does_not_stop_its_write(
    group: GroupCommit, engine: Engine
) -> None:
    with ThreadPoolExecutor(1) as pool:
        holder = Holder(group, pool, "book", 9999)
        answer = group.submit("book", open_account(1))
        # An event loop whose request went away cancels what it awaited: not the write.
        assert not answer.cancel()
        holder.release.set()
        assert answer.result(DEADLINE_S) == "a_group0001"
        assert holder.answer.result(DEADLINE_S) == "a_group9999"
    assert account_exists(engine, "a_group0001")
    # The committer lives on for the writes after it.
    assert group.run("book", open_account(2)) == "a_group0002"


def test_writes_with_other_keys_never_share_a_transaction(
    group: GroupCommit, factory: SqlUnitOfWorkFactory
) -> None:
    keys: list[str] = []

    def remember(key: str, n: int) -> Callable[[SqlUnitOfWork], str]:
        def work(uow: SqlUnitOfWork) -> str:
            keys.append(key)
            return open_account(n)(uow)

        return work

    before = factory.writes()
    with ThreadPoolExecutor(5) as pool:
        holder = Holder(group, pool, "a", 50)
        order = [("b", 51), ("a", 52), ("b", 53), ("a", 54)]
        answers = [queue(group, pool, key, remember(key, n)) for key, n in order]
        holder.release.set()
        for answer in answers:
            answer.result(DEADLINE_S)
    # The holder, then b's two together, then a's two together.
    assert keys == ["b", "b", "a", "a"]
    assert factory.writes() - before == 3


def test_without_grouping_each_write_commits_alone(
    factory: SqlUnitOfWorkFactory, engine: Engine
) -> None:
    alone = GroupCommit(factory, max_batch=1)
    before = factory.writes()
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda n: alone.run("book", open_account(n)), range(8)))
    assert all(account_exists(engine, i) for i in ids)
    assert factory.writes() - before == 8


def order_locks_held(engine: Engine) -> int:
    """Advisory locks held in this test's database now, seen from a connection of its own."""
    with engine.connect() as conn:
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
            "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return int(conn.execute(query).scalar_one())


def test_a_write_after_a_rolled_back_one_takes_the_event_order_lock_again(
    factory: SqlUnitOfWorkFactory, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns without an advisory lock")

    def refused(uow: SqlUnitOfWork) -> None:
        with uow.savepoint():
            open_account(1)(uow)  # its event takes the lock, inside the savepoint
            raise NotFoundError("refused")

    with factory(write=True) as uow:
        with pytest.raises(NotFoundError):
            refused(uow)
        assert order_locks_held(engine) == 0  # the rollback gave it back
        open_account(2)(uow)
        # Held again until commit, so event ids still commit in the order drawn.
        assert order_locks_held(engine) == 1
        uow.commit()
    assert order_locks_held(engine) == 0
