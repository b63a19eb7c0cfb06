"""What the service tests run against: a recording SMS sender, the events heard, and people.

Every use case is called as the edges call it, with a `Runtime` over a real unit
of work on an in-memory SQLite database; nothing here reaches past the services
except `read`, which looks at storage through a unit of work as a use case would.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from circlebook.domain.events import Event
from circlebook.domain.model import Account, Entry
from circlebook.notify import LocalBroker, wire
from circlebook.services import answers, auth, books, invitations
from circlebook.services.books import BookSummary
from circlebook.services.invitations import Invitee, Outcome, Status
from circlebook.services.ports import UnitOfWork
from circlebook.services.reach import Reach
from circlebook.services.runtime import Runtime

T = TypeVar("T")

VIA = Reach("https://book.example")
_CODE = re.compile(r"\b([0-9]{6})\b")


def phone(n: int) -> str:
    """The n-th test number: a valid Chinese mobile number in E.164."""
    return f"+86138001{n:05d}"


@dataclass
class RecordingSms:
    """An SMS sender that keeps every text it is handed, in order."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))

    def texts_to(self, number: str) -> list[str]:
        return [text for to, text in self.sent if to == number]

    def last_code(self, number: str) -> str:
        texts = self.texts_to(number)
        assert texts, f"no text to {number}"
        found = _CODE.search(texts[-1])
        assert found, texts[-1]
        return found.group(1)


class Heard:
    """The in-process broker, started on a loop of its own: what the services published."""

    def __init__(self) -> None:
        self.broker = LocalBroker()
        self._loop = asyncio.new_event_loop()
        self._events: list[Event] = []
        self._loop.run_until_complete(self.broker.start(self._events.append))

    def events(self) -> list[Event]:
        """Everything published so far (the broker hands events over on its loop)."""
        self._loop.run_until_complete(asyncio.sleep(0))
        return list(self._events)

    def since(self, mark: int) -> list[tuple[str, frozenset[str]]]:
        return [named(e) for e in self.events()[mark:]]

    def mark(self) -> int:
        return len(self.events())

    def close(self) -> None:
        self._loop.run_until_complete(self.broker.stop())
        self._loop.close()


def named(event: Event) -> tuple[str, frozenset[str]]:
    """An event as the tests check it: its type and every id it names, whatever its shape.

    The one place that knows how an event carries its ids.
    """
    record = wire.record(event)
    ids = {record["account_id"], record["book_id"], record["subject_id"]}
    ids |= {value for key, value in record["data"].items() if key.endswith("_id")}
    return event.type.value, frozenset(i for i in ids if i)


@dataclass
class World:
    """People and books made through the services, for tests to act on."""

    rt: Runtime
    sms: RecordingSms
    heard: Heard
    _next: int = 0

    def read(self, look: Callable[[UnitOfWork], T]) -> T:
        """What storage holds now, read through a unit of work of its own."""
        with self.rt.uow() as uow:
            return look(uow)

    def new_phone(self) -> str:
        self._next += 1
        return phone(self._next)

    def sign_in(self, number: str, name: str | None = None) -> auth.SignedIn:
        auth.request_code(self.rt, number)
        return auth.sign_in(self.rt, number, self.sms.last_code(number), "test", name=name)

    def person(self, name: str, number: str | None = None) -> Account:
        return self.sign_in(number or self.new_phone(), name).account

    def book(
        self, owner: Account, *invitees: Invitee, title: str = "Club"
    ) -> tuple[BookSummary, list[Outcome]]:
        return books.create_book(self.rt, owner, title, invitees, VIA)

    def invite(self, owner: Account, book_id: str, *invitees: Invitee) -> list[Outcome]:
        return invitations.invite(self.rt, owner, book_id, invitees, VIA)

    def member(
        self, owner: Account, book_id: str, name: str, tags: Sequence[str] = ()
    ) -> tuple[Account, Entry]:
        """A new person invited by `owner` (with `tags`) who accepted."""
        number = self.new_phone()
        (outcome,) = self.invite(owner, book_id, Invitee(number, tags=tags))
        assert outcome.status is Status.INVITED, outcome
        account = self.person(name, number)
        assert outcome.invitation_id is not None
        return account, answers.accept(self.rt, account, outcome.invitation_id)
