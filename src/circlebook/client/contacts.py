"""The local address book: contacts read from vCard or CSV files, kept in a private JSON file.

Numbers are stored in E.164 so that one person written three ways is one contact.
Reading never stops at a bad record: each one becomes a `Problem` and the rest go on.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import phonenumbers
import vobject
from platformdirs import user_data_path

__all__ = [
    "AddressBook",
    "Contact",
    "ContactsError",
    "ImportResult",
    "Problem",
    "merge",
    "read_csv",
    "read_file",
    "read_vcards",
]

FILE_VERSION = 1
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A name made only of these is a number standing in for a name.
_NUMBER_LIKE = re.compile(r"[\d\s+\-().]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_SHOWN_RAW = 40


class ContactsError(Exception):
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


# -- numbers and names ---------------------------------------------------------------------------


def _checked_region(region: str) -> str:
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ContactsError(f"{region!r} is not a region code phonenumbers knows, such as CN or US")
    return code


def _e164(raw: str, region: str) -> str | None:
    """`raw` in E.164, read in `region` unless it carries its own country; None if invalid."""
    text = raw.strip()
    if text.lower().startswith("tel:"):
        # RFC 3966: parameters such as ;ext= or ;phone-context= follow the number.
        text = text[4:].split(";", 1)[0]
    candidates = [text]
    if text.startswith("00"):
        # 00 is the international prefix almost everywhere, but phonenumbers only
        # reads it so where it is the region's own (not in US, where that is 011).
        candidates.append("+" + text[2:])
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _invalid_number(raw: str, region: str) -> str:
    shown = raw.strip()
    if len(shown) > _SHOWN_RAW:
        shown = shown[:_SHOWN_RAW] + "..."
    own_country = shown.startswith(("+", "00")) or shown.lower().startswith("tel:+")
    return f"'{shown}' is not a valid phone number" + ("" if own_country else f" in {region}")


def _is_real_name(name: str) -> bool:
    return bool(name.strip()) and not _NUMBER_LIKE.fullmatch(name)


def _joined_name(
    given: str, additional: str, family: str, prefix: str = "", suffix: str = ""
) -> str:
    """A display name from its parts, family name first and unspaced for CJK names."""
    parts = [given, additional, family, prefix, suffix]
    if any(_CJK.search(part) for part in parts):
        return _clean("".join([family, given, additional]))
    return _clean(" ".join([prefix, given, additional, family, suffix]))


def _clean(text: str) -> str:
    return " ".join(text.split())


class _Collector:
    """Turns records into contacts and problems, in the order they were read."""

    def __init__(self, region: str) -> None:
        self.region = _checked_region(region)
        self.contacts: list[Contact] = []
        self.problems: list[Problem] = []

    def add(self, where: str, name: str, raw_phones: Iterable[str]) -> None:
        raws = [raw for raw in raw_phones if raw.strip()]
        if not raws:
            self.problems.append(Problem(where, "no phone number", name))
            return
        phones: list[str] = []
        for raw in raws:
            phone = _e164(raw, self.region)
            if phone is None:
                self.problems.append(Problem(where, _invalid_number(raw, self.region), name))
            elif phone not in phones:
                phones.append(phone)
        if not phones:
            self.problems.append(Problem(where, "no valid phone number; not imported", name))
            return
        self.contacts.append(Contact(name or phones[0], tuple(phones)))

    def result(self) -> ImportResult:
        contacts, _ = merge([], self.contacts)
        return ImportResult(contacts, self.problems)


# -- vCard (RFC 2426 for 3.0, RFC 6350 for 4.0) ----------------------------------------------------


@dataclass(frozen=True)
class _Card:
    number: int
    first_line: int
    last_line: int
    lines: tuple[str, ...]
    closed: bool


@dataclass(frozen=True)
class _Stray:
    first_line: int
    last_line: int


def _split_cards(text: str) -> tuple[list[_Card], list[int]]:
    """BEGIN:VCARD..END:VCARD blocks, and the numbers of non-blank lines outside them."""
    cards: list[_Card] = []
    stray: list[int] = []
    lines: list[str] = []
    start = 0
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        marker = line.strip().upper()
        if marker == "BEGIN:VCARD":
            if lines:  # the previous card never ended
                cards.append(_Card(len(cards) + 1, start, number - 1, tuple(lines), False))
            lines, start = [line], number
        elif lines:
            lines.append(line)
            if marker == "END:VCARD":
                cards.append(_Card(len(cards) + 1, start, number, tuple(lines), True))
                lines = []
        elif marker:
            stray.append(number)
    if lines:
        cards.append(_Card(len(cards) + 1, start, start + len(lines) - 1, tuple(lines), False))
    return cards, stray


def _joined_soft_breaks(lines: Sequence[str]) -> list[str]:
    """Lines with vCard 2.1 quoted-printable soft breaks joined, which vobject leaves split."""
    joined: list[str] = []
    continues = False
    for line in lines:
        if continues:
            joined[-1] = joined[-1][:-1] + line
        else:
            joined.append(line)
        # Android writes long quoted-printable values as "...=" and the rest on the next line.
        head = joined[-1].split(":", 1)[0].upper()
        continues = joined[-1].endswith("=") and "QUOTED-PRINTABLE" in head
    return joined


def _runs(numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs in sorted `numbers`: [3, 4, 5, 9] -> (3, 5), (9, 9)."""
    start = previous = numbers[0] if numbers else 0
    for n in numbers[1:]:
        if n != previous + 1:
            yield start, previous
            start = n
        previous = n
    if numbers:
        yield start, previous


def _lines(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _text_values(card: Any, name: str) -> list[str]:
    # vobject leaves a value as bytes where a card declares a binary encoding.
    return [line.value for line in card.contents.get(name, []) if isinstance(line.value, str)]


def _card_name(card: Any) -> str:
    for full in _text_values(card, "fn"):
        if _clean(full):
            return _clean(full)
    for line in card.contents.get("n", []):
        value = line.value  # a vobject.vcard.Name; a part holds a list where it had commas
        parts = [value.given, value.additional, value.family, value.prefix, value.suffix]
        name = _joined_name(*(" ".join(p) if isinstance(p, list) else str(p) for p in parts))
        if name:
            return name
    return ""


def _name_in_broken_card(lines: Sequence[str]) -> str:
    """The plain FN of a card vobject could not read, to tell the user whose card it is."""
    for line in lines:
        head, _, value = line.partition(":")
        if head.upper().split(";")[0] == "FN" and "ENCODING" not in head.upper():
            return _clean(value)
    return ""


def _read_card(card: _Card, into: _Collector) -> None:
    where = f"card {card.number}"
    span = _lines(card.first_line, card.last_line)
    if not card.closed:
        name = _name_in_broken_card(card.lines)
        into.problems.append(Problem(where, f"has no END:VCARD ({span}); not imported", name))
        return
    try:
        parsed = vobject.readOne("\r\n".join(_joined_soft_breaks(card.lines)))
    # vobject raises ParseError for bad syntax, ValueError for bad base64 or
    # quoted-printable, and LookupError for a CHARSET Python does not know.
    except (vobject.base.VObjectError, ValueError, LookupError) as exc:
        reason = exc.msg if isinstance(exc, vobject.base.VObjectError) else str(exc)
        name = _name_in_broken_card(card.lines)
        into.problems.append(Problem(where, f"cannot be read ({span}): {reason}", name))
        return
    into.add(where, _card_name(parsed), _text_values(parsed, "tel"))


def read_vcards(text: str, region: str) -> ImportResult:
    """Contacts from vCard 2.1, 3.0 or 4.0 text; a broken card is a problem, not the end."""
    collector = _Collector(region)
    cards, stray = _split_cards(text.removeprefix("\ufeff"))
    items: list[_Card | _Stray] = [*cards, *(_Stray(first, last) for first, last in _runs(stray))]
    for item in sorted(items, key=lambda item: item.first_line):
        if isinstance(item, _Card):
            _read_card(item, collector)
        else:
            # Lines outside any card are often a card whose BEGIN line got mangled:
            # say so rather than lose that person without a word.
            where = _lines(item.first_line, item.last_line)
            collector.problems.append(Problem(where, "outside BEGIN:VCARD..END:VCARD; skipped"))
    return collector.result()


# -- CSV: Google Contacts, Outlook, and the two-column lists that phones export ------------------

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
    keys = [_clean(cell.removeprefix("\ufeff")).casefold() for cell in header]

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
    header = _LINE_BREAK.split(text, 1)[0]
    return max([",", ";", "\t"], key=header.count)


def _cell(row: Sequence[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def _read_row(row: Sequence[str], columns: _Columns, where: str, into: _Collector) -> None:
    if not any(cell.strip() for cell in row):
        return
    name = _clean(_cell(row, columns.full)) or _joined_name(
        _cell(row, columns.given), _cell(row, columns.additional), _cell(row, columns.family)
    )
    cells = (_cell(row, index) for index in columns.phones)
    into.add(where, name, [part for cell in cells for part in cell.split(_GOOGLE_SEPARATOR)])


def read_csv(text: str, region: str) -> ImportResult:
    """Contacts from a CSV file with a header row naming its name and phone columns."""
    collector = _Collector(region)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return ImportResult()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader, [])
        columns = _columns(header)
        if not columns.phones:
            shown = ", ".join(repr(cell) for cell in header[:8]) or "none"
            raise ContactsError(
                f"no phone column in the CSV header (columns: {shown}); "
                "name one 'Phone', 'Mobile', '电话' or '手机'"
            )
        start = reader.line_num + 1
        for row in reader:
            _read_row(row, columns, f"line {start}", collector)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ContactsError(f"line {reader.line_num} of the CSV file: {exc}") from exc
    return collector.result()


# -- files ---------------------------------------------------------------------------------------


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
    header = next(csv.reader([_LINE_BREAK.split(text, 1)[0]], delimiter=_delimiter(text)), [])
    if _columns(header).phones:
        return read_csv
    raise ContactsError(f"{path} is neither a vCard (.vcf) nor a CSV file with a phone column")


def read_file(path: Path, region: str) -> ImportResult:
    """Contacts from a vCard or CSV file, chosen by its extension or else by its content."""
    text = _read_text(path)
    result = _reader_for(path, text)(text, region)
    contacts = [replace(contact, source=path.name) for contact in result.contacts]
    return ImportResult(contacts, result.problems)


# -- merging -------------------------------------------------------------------------------------


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
    name = next((c.name for c in group if _is_real_name(c.name)), group[0].name)
    source = next((c.source for c in group if c.source), "")
    return Contact(name, phones, source)


def merge(existing: Sequence[Contact], new: Sequence[Contact]) -> tuple[list[Contact], int]:
    """Contacts sharing any number become one; returns them and how many are new people."""
    everyone = [*existing, *new]
    groups = _groups_sharing_a_phone(everyone)
    merged = [_combined([everyone[i] for i in group]) for group in groups]
    added = sum(1 for group in groups if group[0] >= len(existing))
    return merged, added


# -- the address book file -----------------------------------------------------------------------


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
