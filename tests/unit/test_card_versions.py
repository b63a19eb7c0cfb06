"""Which vCard version a request gets: Accept on GET (RFC 9110 12.5.1, RFC 6352 5.1.1)."""

from __future__ import annotations

import pytest

from circlebook.dav.carddav import accepted_version
from circlebook.dav.errors import DavError
from circlebook.services.entries import VisibleEntry
from circlebook.services.vcards import CardVersion, fingerprint, vcard

ENTRY = VisibleEntry("e_1", "+8613800138000", "Li; Lei", [], "member", "", "")


@pytest.mark.parametrize(
    ("accept", "version"),
    [
        (None, CardVersion.V3),
        ("", CardVersion.V3),
        ("*/*", CardVersion.V3),
        ("text/vcard", CardVersion.V3),
        ("text/vcard; charset=utf-8", CardVersion.V3),
        ("text/x-vcard", CardVersion.V3),
        ("text/vcard;version=4.0", CardVersion.V4),
        ('text/vcard; version="4.0"', CardVersion.V4),
        ("text/vcard;q=0.9, text/vcard;version=4.0", CardVersion.V4),
        ("text/vcard;version=4.0;q=0.5, text/vcard;version=3.0", CardVersion.V3),
        ("text/vcard;version=2.1, text/vcard;version=4.0;q=0.1", CardVersion.V4),
        ("text/vcard;version=4.0;q=0, */*", CardVersion.V3),
    ],
)
def test_accept_picks_the_best_version_served(accept: str | None, version: CardVersion) -> None:
    assert accepted_version(accept) is version


@pytest.mark.parametrize(
    "accept", ["text/vcard;version=2.1", "application/json", "text/vcard;version=4.0;q=0"]
)
def test_accept_naming_nothing_served_fails_the_conversion_precondition(accept: str) -> None:
    with pytest.raises(DavError) as refused:
        accepted_version(accept)

    assert refused.value.status == 403
    assert "supported-address-data-conversion" in refused.value.condition


def test_a_4_0_card_has_a_tel_uri_and_keeps_the_3_0_cards_uid() -> None:
    three, four = vcard(ENTRY, CardVersion.V3), vcard(ENTRY, CardVersion.V4)

    assert four.splitlines() == [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "UID;VALUE=text:e_1@circlebook",
        "FN:Li\\; Lei",
        "N:Li\\; Lei;;;;",
        "TEL;VALUE=uri;TYPE=cell:tel:+8613800138000",
        "END:VCARD",
    ]
    assert "UID:e_1@circlebook" in three.splitlines()


def test_each_version_of_a_card_has_its_own_fingerprint() -> None:
    assert fingerprint(ENTRY, CardVersion.V3) != fingerprint(ENTRY, CardVersion.V4)
    assert fingerprint(ENTRY) == fingerprint(ENTRY, CardVersion.V3)
