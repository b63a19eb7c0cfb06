"""Merging duplicates: contacts that share any number are one person."""

from __future__ import annotations

from collections.abc import Sequence

from circlebook.phonebook.names import is_real_name
from circlebook.phonebook.records import Contact


def _groups_sharing_a_phone(contacts: Sequence[Contact]) -> list[list[int]]:
    """Indexes of contacts linked by shared numbers, each group led by its earliest contact."""
    parent = list(range(len(contacts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    holder: dict[str, int] = {}
    for i, contact in enumerate(contacts):
        for phone in contact.phones:
            if phone not in holder:
                holder[phone] = i
                continue
            a, b = root(i), root(holder[phone])
            parent[max(a, b)] = min(a, b)  # the earliest contact stays the root
    groups: dict[int, list[int]] = {}
    for i in range(len(contacts)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _combined(group: Sequence[Contact]) -> Contact:
    if len(group) == 1:
        return group[0]
    phones = tuple(dict.fromkeys(phone for contact in group for phone in contact.phones))
    # A name that is only a number was a stand-in; any real name is better.
    name = next((c.name for c in group if is_real_name(c.name)), group[0].name)
    source = next((c.source for c in group if c.source), "")
    return Contact(name, phones, source)


def merge(existing: Sequence[Contact], new: Sequence[Contact]) -> tuple[list[Contact], int]:
    """Contacts sharing any number become one; returns them and how many are new people."""
    everyone = [*existing, *new]
    groups = _groups_sharing_a_phone(everyone)
    merged = [_combined([everyone[i] for i in group]) for group in groups]
    added = sum(1 for group in groups if group[0] >= len(existing))
    return merged, added
