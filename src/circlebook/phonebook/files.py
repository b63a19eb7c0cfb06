"""Reading a contacts file's content, as vCard or CSV by its name's extension or else by itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from circlebook.phonebook.csvfiles import has_phone_column, read_csv
from circlebook.phonebook.records import ImportResult, UnreadableContacts
from circlebook.phonebook.vcards import read_vcards


def _decoded(data: bytes, called: str) -> str:
    # Excel's "Unicode text" and some Outlook exports are UTF-16 with a byte order mark.
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableContacts(f"{called} is not UTF-8 text; export it again as UTF-8") from exc


def _reader_for(name: str, text: str, called: str) -> Callable[[str, str], ImportResult]:
    suffix = PurePath(name).suffix.lower()
    if suffix in (".vcf", ".vcard"):
        return read_vcards
    if suffix == ".csv":
        return read_csv
    if text.lstrip(" \t\r\n").upper().startswith("BEGIN:VCARD"):
        return read_vcards
    if has_phone_column(text):
        return read_csv
    raise UnreadableContacts(
        f"{called} is neither a vCard (.vcf) nor a CSV file with a phone column"
    )


def read_contacts(content: bytes | str, region: str, *, name: str = "") -> ImportResult:
    """Contacts in a vCard or CSV file's `content`, bytes as stored or text already decoded.

    `name` is the file's name where known: its extension chooses the reader (else
    the content does) and messages name it. UnreadableContacts when it is neither.
    """
    called = name or "the file"
    text = content if isinstance(content, str) else _decoded(content, called)
    return _reader_for(name, text, called)(text, region)
