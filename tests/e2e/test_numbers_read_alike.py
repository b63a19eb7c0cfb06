"""A number is read by one rule wherever it comes in: typed at sign-in, typed or uploaded
to invite, or sent to the API.

In the US the international prefix is 011, so phonenumbers alone reads
"0044 20 7946 0958" there as a (too long) national number. The rule reads 00 as
the international prefix wherever the region's own reading finds no number, so
a deployment or a caller in the US gets the same UK number from it everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.web import Visitor, last_code_any

TYPED = "0044 20 7946 0958"
UK = "+442079460958"
SHOWN = "+44 20 7946 0958"
AMERICAN = "+14155552671"  # whose numbers without a country are read in US


@pytest.fixture
def us_browser(make_client: Callable[..., TestClient], outbox: Any) -> Callable[[], Visitor]:
    """A browser on a server whose region, for numbers typed at sign-in, is US."""
    return lambda: Visitor(make_client(region="US"), outbox)


def test_00_typed_at_sign_in_signs_in_the_number_it_spells(
    us_browser: Callable[[], Visitor], outbox: Any
) -> None:
    emily = us_browser()
    emily.get("/signin")
    sent = emily.post("/signin", {"phone": TYPED})
    assert sent.status_code == 200 and sent.url.path == "/signin/code", sent.text
    assert f"We sent a 6-digit code to {SHOWN}." in sent.text
    signed = emily.post("/signin/code", {"code": last_code_any(outbox, UK)})
    assert signed.url.path == "/books", signed.text
    assert f"Signed in as {SHOWN}" in signed.text


def _offered(owner: Visitor, **form: Any) -> list[str]:
    """The numbers the pick page offers for what was typed or uploaded."""
    owner.get("/books/new")
    files = form.pop("files", None)
    page = owner.post("/books/new", {"title": "Abroad", **form}, files=files)
    assert page.status_code == 200, page.text
    return re.findall(r'name="phone" value="([^"]*)"', page.text)


def _invited(owner: Visitor, phones: list[str]) -> list[tuple[str, str]]:
    """What became of each number when all of them are picked: status and number shown."""
    created = owner.post(
        "/books/new/create",
        {
            "title": "Abroad",
            "phone": phones,
            "person": ["Emily"] * len(phones),
            "tags": [""] * len(phones),
            "pick": [str(i) for i in range(len(phones))],
        },
    )
    assert created.status_code == 200, created.text
    statuses = re.findall(r'data-status="(\w+)"', created.text)
    shown = re.findall(r'<span class="phone">([^<]*)</span>', created.text)
    return list(zip(statuses, shown, strict=True))


VCARD = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Emily\r\nTEL:{TYPED}\r\nEND:VCARD\r\n".encode()


@pytest.mark.parametrize(
    "form",
    [
        {"numbers": f"Emily {TYPED}"},
        {"files": {"file": ("friends.vcf", VCARD, "text/vcard")}},
        {"files": {"file": ("friends.csv", f"Name,Phone\nEmily,{TYPED}\n".encode(), "text/csv")}},
    ],
    ids=["typed", "vcard", "csv"],
)
def test_00_typed_or_uploaded_to_invite_from_the_us_invites_the_same_number(
    us_browser: Callable[[], Visitor], people: Any, form: dict[str, Any]
) -> None:
    owner = us_browser()
    owner.sign_in(AMERICAN)
    offered = _offered(owner, **form)
    assert len(offered) == 1 and offered[0] in (TYPED, UK)  # typed numbers are judged at create
    assert _invited(owner, offered) == [("invited", SHOWN)]
    assert [i["book_title"] for i in people(UK).get("/v1/invitations").json()["invitations"]] == [
        "Abroad"
    ]


def test_00_sent_to_the_api_with_region_us_is_read_as_when_typed_or_uploaded(
    client: TestClient, people: Any, outbox: Any
) -> None:
    asked = client.post("/v1/auth/codes", json={"phone": TYPED, "region": "US"})
    assert asked.status_code == 202, asked.text
    assert last_code_any(outbox, UK)
    owner = people("+8613800138000", "Li Lei")
    book = owner.post(
        "/v1/books", json={"title": "Abroad", "invitees": [{"phone": TYPED}], "region": "US"}
    )
    assert book.status_code == 201, book.text
    assert [(o["status"], o["phone"]) for o in book.json()["outcomes"]] == [("invited", UK)]
