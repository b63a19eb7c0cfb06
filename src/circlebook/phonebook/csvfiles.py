"""Reading CSV exports: Google Contacts, Outlook, and the two-column lists that phones export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from circlebook.phonebook.names import clean, joined_name
from circlebook.phonebook.reading import LINE_BREAK, Collector
from circlebook.phonebook.records import ImportResult, UnreadableContacts

_FULL_NAME = {"name", "full name", "display name", "姓名", "名字", "联系人"}
_GIVEN_NAME = {"given name", "first name", "名"}
_ADDITIONAL_NAME = {"additional name", "middle name"}
_FAMILY_NAME = {"family name", "last name", "surname", "姓"}
_PHONE = {"phone", "phones", "phone number", "telephone", "tel", "mobile", "mobile number", "cell"}
_PHONE |= {"电话", "手机", "手机号", "手机号码", "电话号码", "联系电话", "移动电话"}
# Google: "Phone 1 - Value"; Outlook: "Mobile Phone", "Home Phone 2" and the like.
_PHONE_PATTERN = re.compile(
    r"phone \d+ - value|(?:(?:primary|home|business|work|mobile|cell|other|car) )?phone(?: \d+)?"
)
# Google Contacts puts a person's several numbers of one type in one cell.
_GOOGLE_SEPARATOR = ":::"


@dataclass(frozen=True)
class _Columns:
    full: int | None
    given: int | None
    additional: int | None
    family: int | None
    phones: tuple[int, ...]


def _columns(header: Sequence[str]) -> _Columns:
    keys = [clean(cell.removeprefix("\ufeff")).casefold() for cell in header]

    def first(names: set[str]) -> int | None:
        return next((i for i, key in enumerate(keys) if key in names), None)

    phones = tuple(
        i for i, key in enumerate(keys) if key in _PHONE or _PHONE_PATTERN.fullmatch(key)
    )
    return _Columns(
        first(_FULL_NAME), first(_GIVEN_NAME), first(_ADDITIONAL_NAME), first(_FAMILY_NAME), phones
    )


def _delimiter(text: str) -> str:
    # Spreadsheets in locales with a decimal comma write ';' between cells.
    header = LINE_BREAK.split(text, 1)[0]
    return max([",", ";", "\t"], key=header.count)


def _cell(row: Sequence[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def _read_row(row: Sequence[str], columns: _Columns, where: str, into: Collector) -> None:
    if not any(cell.strip() for cell in row):
        return
    name = clean(_cell(row, columns.full)) or joined_name(
        _cell(row, columns.given), _cell(row, columns.additional), _cell(row, columns.family)
    )
    cells = (_cell(row, index) for index in columns.phones)
    into.add(where, name, [part for cell in cells for part in cell.split(_GOOGLE_SEPARATOR)])


def has_phone_column(text: str) -> bool:
    """Whether the first line of `text`, read as a CSV header, names a phone column."""
    header = next(csv.reader([LINE_BREAK.split(text, 1)[0]], delimiter=_delimiter(text)), [])
    return bool(_columns(header).phones)


def read_csv(text: str, region: str) -> ImportResult:
    """Contacts from a CSV file with a header row naming its name and phone columns."""
    collector = Collector(region)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return ImportResult()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader, [])
        columns = _columns(header)
        if not columns.phones:
            shown = ", ".join(repr(cell) for cell in header[:8]) or "none"
            raise UnreadableContacts(
                f"no phone column in the CSV header (columns: {shown}); "
                "name one 'Phone', 'Mobile', '电话' or '手机'"
            )
        start = reader.line_num + 1
        for row in reader:
            _read_row(row, columns, f"line {start}", collector)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableContacts(f"line {reader.line_num} of the CSV file: {exc}") from exc
    return collector.result()
