"""Reading vCard 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350) files, card by card."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import vobject

from circlebook.phonebook.names import clean, joined_name
from circlebook.phonebook.reading import LINE_BREAK, Collector
from circlebook.phonebook.records import ImportResult, Problem


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
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
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
        if clean(full):
            return clean(full)
    for line in card.contents.get("n", []):
        value = line.value  # a vobject.vcard.Name; a part holds a list where it had commas
        parts = [value.given, value.additional, value.family, value.prefix, value.suffix]
        name = joined_name(*(" ".join(p) if isinstance(p, list) else str(p) for p in parts))
        if name:
            return name
    return ""


def _name_in_broken_card(lines: Sequence[str]) -> str:
    """The plain FN of a card vobject could not read, to tell the user whose card it is."""
    for line in lines:
        head, _, value = line.partition(":")
        if head.upper().split(";")[0] == "FN" and "ENCODING" not in head.upper():
            return clean(value)
    return ""


def _read_card(card: _Card, into: Collector) -> None:
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
    collector = Collector(region)
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
