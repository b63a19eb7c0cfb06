"""Choosing whom to invite from the local address book: by filter, all, or an interactive pick."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from circlebook.client.contacts import Contact
from circlebook.client.models import Invitee

_NUMBERISH = re.compile(r"^\+?[0-9 ()\-.]{5,}$")


class PickError(Exception):
    """A selection that cannot be understood; the message says why."""


@dataclass(frozen=True, slots=True)
class Pick:
    """`FILTER` or `FILTER=tag1,tag2`: the contacts a filter finds, with tags for them."""

    filter: str
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Pick:
        what, _, tags = text.partition("=")
        if not what.strip():
            raise PickError(f"{text!r}: say whom to pick before '='")
        return cls(what.strip(), tuple(t.strip() for t in tags.split(",") if t.strip()))


def invitee_for(contact: Contact, tags: Sequence[str]) -> Invitee:
    # A contact with several numbers is invited on its first: the one the
    # address book listed first, usually the mobile.
    return Invitee(contact.phones[0], contact.name or None, tuple(tags))


def pick(
    find: Callable[[str | None], list[Contact]],
    picks: Sequence[Pick],
    *,
    everyone: bool,
    tags: Sequence[str],
) -> list[Invitee]:
    """Invitees for the picks; a filter that finds no contact but is a number is used as one."""
    chosen: dict[str, Invitee] = {}
    if everyone:
        for contact in find(None):
            if contact.phones:
                chosen.setdefault(contact.phones[0], invitee_for(contact, tags))
    for p in picks:
        found = [c for c in find(p.filter) if c.phones]
        if not found and _NUMBERISH.match(p.filter):
            chosen[p.filter] = Invitee(p.filter, None, (*tags, *p.tags))
            continue
        if not found:
            raise PickError(f"no contact in your address book matches {p.filter!r}")
        for contact in found:
            chosen[contact.phones[0]] = invitee_for(contact, (*tags, *p.tags))
    return list(chosen.values())


_MAX_DIGITS = 18


def _digits(text: str) -> bool:
    # "²".isdigit() is true and int("²") fails: only ASCII digits are a number here,
    # and not thousands of them (int() refuses over 4,300 digits).
    return len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit()


def parse_numbers(text: str, count: int) -> list[int]:
    """'1,3,5-7' -> [0, 2, 4, 5, 6] (zero-based), each within 1..count."""
    picked: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not _digits(low) or (high and not _digits(high)):
            raise PickError(f"{part!r} is not a number or a range like 3-5")
        first, last = int(low), int(high or low)
        if not 1 <= first <= last <= count:
            raise PickError(f"{part!r} is outside 1-{count}")
        picked.extend(range(first - 1, last))
    return picked
