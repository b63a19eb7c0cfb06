"""The vCards that CardDAV serves and the export holds: 3.0 or 4.0, escaped, folded,
fingerprinted."""

from __future__ import annotations

import vobject

from circlebook.services.entries import VisibleEntry
from circlebook.services.vcards import CardVersion, fingerprint, vcard


def entry(
    name: str, phone: str = "+8613800138000", entry_id: str = "e_abcdefgh1234"
) -> VisibleEntry:
    return VisibleEntry(entry_id, phone, name, [], "member", "t", "t")


def test_a_card_reads_back_as_written() -> None:
    for name in ("Li Lei", "Bo, Jr; the \\ second", "韩梅梅", "x" * 100, "长" * 100, "é" * 99):
        card = vobject.readOne(vcard(entry(name)))
        assert card.version.value == "3.0"
        assert card.fn.value == name
        assert card.n.value.family == name
        assert card.tel.value == "+8613800138000"
        assert card.tel.type_param == "CELL"
        assert card.uid.value == "e_abcdefgh1234@circlebook"


def test_lines_are_folded_at_75_octets_never_inside_a_character() -> None:
    text = vcard(entry("长" * 100))
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
        line.encode().decode()  # each physical line is whole UTF-8
    assert text.endswith("END:VCARD\r\n")


def test_the_fingerprint_changes_with_the_card_and_only_with_it() -> None:
    base = fingerprint(entry("Ann"))
    assert fingerprint(entry("Ann")) == base
    assert fingerprint(entry("Ann B")) != base
    assert fingerprint(entry("Ann", phone="+8613800138001")) != base
    assert fingerprint(entry("Ann", entry_id="e_otherentry00")) != base
    tagged = VisibleEntry("e_abcdefgh1234", "+8613800138000", "Ann", ["t"], "member", "u", "u")
    assert fingerprint(tagged) == base  # tags and times are not in the card


def test_a_4_0_card_reads_back_with_a_tel_uri_and_the_3_0_cards_uid() -> None:
    for name in ("Li Lei", "Bo, Jr; the \\ second", "韩梅梅", "长" * 100):
        text = vcard(entry(name), CardVersion.V4)
        card = vobject.readOne(text)
        assert card.version.value == "4.0"
        assert card.fn.value == name
        assert card.uid.value == "e_abcdefgh1234@circlebook"
        assert "\r\nUID;VALUE=text:e_abcdefgh1234@circlebook\r\n" in text
        assert "\r\nTEL;VALUE=uri;TYPE=cell:tel:+8613800138000\r\n" in text


def test_each_version_of_a_card_has_its_own_fingerprint() -> None:
    assert fingerprint(entry("Ann"), CardVersion.V3) != fingerprint(entry("Ann"), CardVersion.V4)
    assert fingerprint(entry("Ann")) == fingerprint(entry("Ann"), CardVersion.V3)
