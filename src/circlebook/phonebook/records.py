"""What reading contacts yields: people to invite, and the records that could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field


class UnreadableContacts(ValueError):
    """A file that cannot be read as contacts at all; the message says which and why."""


@dataclass(frozen=True)
class Contact:
    """A person to invite: a display name and numbers in E.164, the first the one to use."""

    name: str
    phones: tuple[str, ...]
    source: str = ""  # the file it was first imported from, when known


@dataclass(frozen=True)
class Problem:
    """A record that was skipped or only partly read: where it is and why."""

    where: str  # "card 3" in a vCard file, "line 7" in a CSV file
    what: str
    name: str = ""  # whom the record was about, when that could be read

    def __str__(self) -> str:
        who = f" ({self.name})" if self.name else ""
        return f"{self.where}{who}: {self.what}"


@dataclass(frozen=True)
class ImportResult:
    contacts: list[Contact] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
