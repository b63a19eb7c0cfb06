"""Group commit: concurrent writes to one book share one transaction, and so one flush to disk.

A durable commit waits for the disk (SQLite with `synchronous=FULL` and
PostgreSQL both flush their log at each commit), and a write that changes a
book holds the book's row, or SQLite's one write lock, until it has. So writes
to one book went one flush at a time, however many came at once.

Here a single committer thread takes the writes waiting for the same key (a
book's id), runs them in one transaction, and commits once. Each caller is
answered only after that commit returned: its change is then as durable and as
visible as if it had committed alone.

Writes almost never fail (an accept checked its invitation before it queued), so
a batch runs first with nothing between its writes. Only when one of them
raises, or the commit does, is that transaction rolled back and the batch run
again, each write in a savepoint of its own: a write that raises is then rolled back to its
savepoint, and the others go on. A savepoint is two statements more per write,
on PostgreSQL two round trips, which every accept paid for the rare one that
fails. A write that fails for a reason of the database rather than of the
domain (a deadlock, a lost connection), and every write of a batch whose commit
failed, is run again alone, so that it gets the answer it would have had
without company.

Writes with different keys never share a transaction: on PostgreSQL a batch
holds its book's row and the event-order lock to commit, and taking a second
book's row after that lock could deadlock with a change that took that row
first (see the lock order in services.ledger).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from circlebook.domain.errors import CirclebookError
from circlebook.storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory

T = TypeVar("T")


def _uncancellable() -> Future[Any]:
    """A future a waiter cannot cancel: the write goes on whoever stops waiting for it."""
    answer: Future[Any] = Future()
    answer.set_running_or_notify_cancel()
    return answer


@dataclass(eq=False)
class _Write:
    key: str
    work: Callable[[SqlUnitOfWork], Any]
    answer: Future[Any] = field(default_factory=_uncancellable)


class GroupCommit:
    """Runs writes given to `run` together with others of the same key, at most `max_batch`.

    With `max_batch` below 2 each write runs alone in its caller's thread, as
    without group commit.
    """

    def __init__(self, uow: SqlUnitOfWorkFactory, max_batch: int) -> None:
        self._uow = uow
        self._max = max_batch
        self._waiting: deque[_Write] = deque()
        self._ready = threading.Condition()
        self._committer: threading.Thread | None = None
        self._closed = False

    def run(self, key: str, work: Callable[[SqlUnitOfWork], T]) -> T:
        """`work(uow)` inside a write transaction; its result once that has committed.

        `work` must not commit: the transaction is committed for it.
        """
        if self._max < 2:
            return self._alone(work)
        result: T = self.submit(key, work).result()
        return result

    def submit(self, key: str, work: Callable[[SqlUnitOfWork], T]) -> Future[T]:
        """`run` without waiting: the future of its result, set once it has committed.

        What an event loop awaits, so that no thread is held only to wait for the
        committer. The future cannot be cancelled: the write goes on regardless.
        """
        if self._max < 2:
            write = _Write(key, work)
            self._answer_alone(write)
            return write.answer
        write = _Write(key, work)
        with self._ready:
            if self._closed:
                raise RuntimeError("the server is stopping")
            self._waiting.append(write)
            if self._committer is None:
                self._committer = threading.Thread(
                    target=self._commit_forever, name="circlebook-group-commit", daemon=True
                )
                self._committer.start()
            self._ready.notify()
        return write.answer

    def waiting(self) -> int:
        """How many writes wait for the committer to take them."""
        with self._ready:
            return len(self._waiting)

    def close(self) -> None:
        """Commit what is waiting, then stop the committer."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            committer = self._committer
        if committer is not None:
            committer.join()

    def _commit_forever(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:
                    return
                batch = self._take_batch()
            self._commit(batch)

    def _take_batch(self) -> list[_Write]:
        """The oldest write and the next ones of its key, in the order they came."""
        key = self._waiting[0].key
        batch: list[_Write] = []
        others: list[_Write] = []
        while self._waiting and len(batch) < self._max:
            write = self._waiting.popleft()
            (batch if write.key == key else others).append(write)
        self._waiting.extendleft(reversed(others))
        return batch

    def _commit(self, batch: list[_Write]) -> None:
        if len(batch) == 1:
            self._answer_alone(batch[0])
        elif not self._all_at_once(batch):
            self._in_savepoints(batch)

    def _all_at_once(self, batch: list[_Write]) -> bool:
        """Run and commit the batch with no savepoints; False, with nothing kept, if any
        write (or the commit) raised."""
        try:
            with self._uow(write=True) as uow:
                results = [write.work(uow) for write in batch]
                uow.commit()
        except Exception:  # each write's own answer comes from the run in savepoints
            return False
        for write, result in zip(batch, results, strict=True):
            write.answer.set_result(result)
        return True

    def _in_savepoints(self, batch: list[_Write]) -> None:
        answers: list[tuple[_Write, Any, BaseException | None]] = []
        again: list[_Write] = []
        try:
            with self._uow(write=True) as uow:
                for write in batch:
                    try:
                        with uow.savepoint():
                            answers.append((write, write.work(uow), None))
                    except CirclebookError as exc:  # the domain's answer to this write
                        answers.append((write, None, exc))
                    except Exception:  # the database's trouble: this write runs again alone
                        again.append(write)
                uow.commit()
        except Exception:
            # Nothing of the batch was kept; each answer may have rested on another's
            # change, so each write runs again alone.
            again, answers = batch, []
        for write, result, error in answers:
            if error is None:
                write.answer.set_result(result)
            else:
                write.answer.set_exception(error)
        for write in again:
            self._answer_alone(write)

    def _answer_alone(self, write: _Write) -> None:
        try:
            write.answer.set_result(self._alone(write.work))
        except Exception as exc:
            write.answer.set_exception(exc)

    def _alone(self, work: Callable[[SqlUnitOfWork], T]) -> T:
        with self._uow(write=True) as uow:
            result = work(uow)
            uow.commit()
        return result
