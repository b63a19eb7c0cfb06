"""The address book file: the user's contacts as private JSON, replaced whole on each save."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from platformdirs import user_data_path

from circlebook.client.errors import ContactsError
from circlebook.phonebook import Contact, ImportResult, merge

FILE_VERSION = 1


def _contact_from_json(item: object) -> Contact:
    if not isinstance(item, dict):
        raise TypeError("a contact is not an object")
    name, phones, source = item.get("name"), item.get("phones"), item.get("source", "")
    if not (isinstance(name, str) and isinstance(source, str) and isinstance(phones, list)):
        raise TypeError("a contact needs a name and a list of phones")
    if not all(isinstance(phone, str) for phone in phones):
        raise TypeError("a phone is not a string")
    return Contact(name, tuple(phones), source)


def _decode_book(text: str, path: Path) -> list[Contact]:
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != FILE_VERSION:
            raise TypeError(f"not version {FILE_VERSION} of the contacts file")
        items = data.get("contacts")
        if not isinstance(items, list):
            raise TypeError("no list of contacts")
        return [_contact_from_json(item) for item in items]
    except (ValueError, TypeError) as exc:
        raise ContactsError(f"{path} is not a circlebook address book: {exc}") from exc


def _write_privately(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file with mode 0600, so the numbers are never readable by
    # others, not even for a moment; os.replace then swaps it in whole.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class AddressBook:
    """The user's contacts as one JSON file, by default in the user data directory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else user_data_path("circlebook") / "contacts.json"

    def load(self) -> list[Contact]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise ContactsError(f"cannot read {self.path}: {exc}") from exc
        return _decode_book(text, self.path)

    def save(self, contacts: Sequence[Contact]) -> None:
        items = [{"name": c.name, "phones": list(c.phones), "source": c.source} for c in contacts]
        text = json.dumps(
            {"version": FILE_VERSION, "contacts": items}, ensure_ascii=False, indent=2
        )
        try:
            _write_privately(self.path, text + "\n")
        except OSError as exc:
            raise ContactsError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def import_result(self, result: ImportResult) -> tuple[int, int]:
        """Merge `result` into the book; returns (contacts added, contacts now in the book)."""
        merged, added = merge(self.load(), result.contacts)
        self.save(merged)
        return added, len(merged)

    def find(self, filter: str | None = None) -> list[Contact]:
        """Contacts whose name contains `filter` (any case), or whose number contains its digits."""
        contacts = self.load()
        query = (filter or "").strip()
        if not query:
            return contacts
        folded = query.casefold()
        digits = re.sub(r"[\s\-().]", "", query).removeprefix("+")
        by_number = digits.isascii() and digits.isdigit()
        return [
            c
            for c in contacts
            if folded in c.name.casefold()
            or (by_number and any(digits in phone.removeprefix("+") for phone in c.phones))
        ]
