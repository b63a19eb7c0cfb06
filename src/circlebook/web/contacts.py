"""People to pick from: an uploaded vCard or CSV file, and numbers typed into a box.

Files are read from the uploaded bytes by `circlebook.phonebook`, the readers the
terminal's local address book uses, with the one number rule. Typed numbers are
passed on as typed: `create_book` judges each one by that same rule and says why
it refused any, exactly as it does for the JSON API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from circlebook.phonebook import Problem, UnreadableContacts, read_contacts

# A run of digits with the separators people type inside numbers.
_NUMBER = re.compile(r"\+?\d[\d \-().]{3,}\d")
# Also the full-width comma, semicolon and colon, and the enumeration comma of Chinese.
_SEPARATORS = " \t,;:|\uff0c\uff1b\uff1a\u3001"
# Tags typed into one box: split on commas (also the Chinese ones) and spaces.
_TAG_SEPARATORS = re.compile("[\\s,;\uff0c\uff1b\u3001]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person who could be invited: a number, the name to ask with, picked or not yet."""

    phone: str
    name: str
    picked: bool


class TooManyContacts(Exception):
    """An upload holding more people than one request may invite."""


def read_upload(
    filename: str, data: bytes, region: str, limit: int
) -> tuple[list[Candidate], list[Problem]]:
    """Contacts in an uploaded file, none picked yet.

    UnreadableContacts when it is no such file; TooManyContacts when it holds more
    than `limit` people, so that no page lists thousands to pick from.
    """
    # Counting cards is cheap, parsing them is not: an obviously oversized vCard
    # file stops here. A CSV file (or an unusual encoding) is counted once read.
    if data.upper().count(b"BEGIN:VCARD") > limit:
        raise TooManyContacts
    # The reader tells vCard from CSV by the name's extension, else by the content.
    result = read_contacts(data, region, name=filename)
    if len(result.contacts) > limit:
        raise TooManyContacts
    people = [Candidate(c.phones[0], c.name, picked=False) for c in result.contacts]
    return people, result.problems


def read_typed(text: str) -> list[Candidate]:
    """One person a line: a number, with a name before or after it; all picked."""
    people = []
    for line in text.splitlines():
        found = _NUMBER.search(line)
        if found is None:
            if line.strip():
                people.append(Candidate(line.strip(), "", picked=True))
            continue
        name = (line[: found.start()] + " " + line[found.end() :]).strip(_SEPARATORS)
        people.append(Candidate(found.group().strip(), " ".join(name.split()), picked=True))
    return people


def typed_tags(text: str) -> list[str]:
    """The tags typed into one box; `normalize_tags` judges them where they are used."""
    return [tag for tag in _TAG_SEPARATORS.split(text) if tag]


__all__ = [
    "Candidate",
    "Problem",
    "TooManyContacts",
    "UnreadableContacts",
    "read_typed",
    "read_upload",
    "typed_tags",
]
