"""Which vCard version a request gets: Accept on GET (RFC 9110 12.5.1, RFC 6352 5.1.1)."""

from __future__ import annotations

import pytest

from circlebook.dav.carddav import accepted_version
from circlebook.dav.errors import DavError
from circlebook.services.vcards import CardVersion


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
