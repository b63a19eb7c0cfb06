"""The local address book's readers: the shared ones, with the SDK's error, and files by path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from circlebook import phonebook
from circlebook.client.errors import ContactsError
from circlebook.phonebook import ImportResult, UnknownRegion, UnreadableContacts

# What the shared readers raise, which the SDK raises as its own ContactsError.
_REFUSALS = (UnreadableContacts, UnknownRegion)


def read_vcards(text: str, region: str) -> ImportResult:
    """Contacts from vCard 2.1, 3.0 or 4.0 text; a broken card is a problem, not the end."""
    try:
        return phonebook.read_vcards(text, region)
    except _REFUSALS as exc:
        raise ContactsError(str(exc)) from exc


def read_csv(text: str, region: str) -> ImportResult:
    """Contacts from a CSV file with a header row naming its name and phone columns."""
    try:
        return phonebook.read_csv(text, region)
    except _REFUSALS as exc:
        raise ContactsError(str(exc)) from exc


def read_file(path: Path, region: str) -> ImportResult:
    """Contacts from a vCard or CSV file, chosen by its extension or else by its content."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContactsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        result = phonebook.read_contacts(data, region, name=str(path))
    except _REFUSALS as exc:
        raise ContactsError(str(exc)) from exc
    contacts = [replace(contact, source=path.name) for contact in result.contacts]
    return ImportResult(contacts, result.problems)
