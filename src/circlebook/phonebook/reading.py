"""What the vCard and CSV readers share: the collector that records feed, and line breaks."""

from __future__ import annotations

import re
from collections.abc import Iterable

from circlebook.phonebook.merging import merge
from circlebook.phonebook.numbers import checked_region, e164, invalid_number
from circlebook.phonebook.records import Contact, ImportResult, Problem

LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Collector:
    """Turns records into contacts and problems, in the order they were read."""

    def __init__(self, region: str) -> None:
        self.region = checked_region(region)
        self.contacts: list[Contact] = []
        self.problems: list[Problem] = []

    def add(self, where: str, name: str, raw_phones: Iterable[str]) -> None:
        raws = [raw for raw in raw_phones if raw.strip()]
        if not raws:
            self.problems.append(Problem(where, "no phone number", name))
            return
        phones: list[str] = []
        for raw in raws:
            phone = e164(raw, self.region)
            if phone is None:
                self.problems.append(Problem(where, invalid_number(raw, self.region), name))
            elif phone not in phones:
                phones.append(phone)
        if not phones:
            self.problems.append(Problem(where, "no valid phone number; not imported", name))
            return
        self.contacts.append(Contact(name or phones[0], tuple(phones)))

    def result(self) -> ImportResult:
        contacts, _ = merge([], self.contacts)
        return ImportResult(contacts, self.problems)
