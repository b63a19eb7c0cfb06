"""Who can see my number: for each book holding my entry, the people whose view includes it.

The visibility rule is symmetric (same tags see each other, the untagged see the
untagged, the owner sees and is seen by everyone), so the people who see my entry
are exactly the people I see: the answer tells nobody anything new.
"""

from __future__ import annotations

from dataclasses import dataclass

from circlebook.domain.model import Account
from circlebook.domain.visibility import Viewer
from circlebook.services.entries import visible_entries
from circlebook.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Seer:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Audience:
    book_id: str
    title: str
    role: str
    seen_by: list[Seer]

    @property
    def count(self) -> int:
        return len(self.seen_by)


def who_sees_me(rt: Runtime, account: Account) -> list[Audience]:
    with rt.uow() as uow:
        found = []
        for book, me in uow.books.memberships(account.id):
            seen = visible_entries(Viewer.of(me), uow.entries.rows(book.id), exclude_self=True)
            seers = sorted((Seer(e.name, e.role) for e in seen), key=lambda s: (s.role, s.name))
            found.append(Audience(book.id, book.title, me.role, seers))
    return found
