"""Reading a contacts file, as vCard or CSV by its extension or else by its content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from circlebook.client.contacts.csvfiles import has_phone_column, read_csv
from circlebook.client.contacts.records import ImportResult
from circlebook.client.contacts.vcards import read_vcards
from circlebook.client.errors import ContactsError


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContactsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    # Excel's "Unicode text" and some Outlook exports are UTF-16 with a byte order mark.
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ContactsError(f"{path} is not UTF-8 text; export it again as UTF-8") from exc


def _reader_for(path: Path, text: str) -> Callable[[str, str], ImportResult]:
    suffix = path.suffix.lower()
    if suffix in (".vcf", ".vcard"):
        return read_vcards
    if suffix == ".csv":
        return read_csv
    if text.lstrip(" \t\r\n").upper().startswith("BEGIN:VCARD"):
        return read_vcards
    if has_phone_column(text):
        return read_csv
    raise ContactsError(f"{path} is neither a vCard (.vcf) nor a CSV file with a phone column")


def read_file(path: Path, region: str) -> ImportResult:
    """Contacts from a vCard or CSV file, chosen by its extension or else by its content."""
    text = _read_text(path)
    result = _reader_for(path, text)(text, region)
    contacts = [replace(contact, source=path.name) for contact in result.contacts]
    return ImportResult(contacts, result.problems)
