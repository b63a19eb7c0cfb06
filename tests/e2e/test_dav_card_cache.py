"""Cards kept across CardDAV answers (dav.card_cache): never stale, never past what a member sees.

Each test first has the cards written into the cache by an initial sync (the
ETags, then every card by addressbook-multiget, as a phone does), then changes
the book and reads the cards again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, update

from circlebook.dav.app import DavApp
from circlebook.storage.schema import accounts
from tests.e2e.dav import (
    ANN,
    BO,
    CY,
    DECLARE,
    OWNER,
    C,
    D,
    DavUser,
    club_with,
    dav_user,
    fn_of,
    parse_multistatus,
)


@pytest.fixture
def club(people: Any) -> dict[str, Any]:
    """Olivia's book: Ann and Bo share `team`, Cy holds `other`; Ann and Cy sync over CardDAV."""
    club = club_with(people)
    return {**club, "ann": dav_user(club["ann"]), "cy": dav_user(club["cy"])}


def multiget(user: DavUser, book_id: str, hrefs: list[str]) -> dict[str, Any]:
    body = (
        f"<c:addressbook-multiget {DECLARE}><d:prop><d:getetag/><c:address-data/></d:prop>"
        + "".join(f"<d:href>{href}</d:href>" for href in hrefs)
        + "</c:addressbook-multiget>"
    )
    return parse_multistatus(user.request("REPORT", user.book(book_id), body)).answers


def initial_sync(user: DavUser, book_id: str) -> dict[str, tuple[str, str]]:
    """(ETag, vCard) of every card, by href, as a phone's first sync reads them."""
    listed = user.sync(book_id).answers
    cards = multiget(user, book_id, sorted(listed))
    assert set(cards) == set(listed)
    return {
        href: (answer.text(f"{D}getetag"), answer.text(f"{C}address-data"))
        for href, answer in cards.items()
    }


def card(user: DavUser, book_id: str, entry_id: str) -> str:
    return f"{user.book(book_id)}{entry_id}.vcf"


def fresh(user: DavUser, href: str) -> tuple[str, str]:
    """The card as a GET answers it, which never reads the cache; its line ends as XML
    reads them back from address-data (XML 1.0 section 2.11)."""
    got = user.request("GET", href)
    assert got.status_code == 200, got.text
    return got.headers["ETag"], got.text.replace("\r\n", "\n")


def test_a_renamed_entry_is_answered_with_its_new_card(club: dict[str, Any]) -> None:
    ann, book, bo_id = club["ann"], club["book"], club["ids"][BO]
    bo = card(ann, book, bo_id)
    before = initial_sync(ann, book)[bo]
    renamed = club["owner"].patch(f"/v1/books/{book}/entries/{bo_id}", json={"name": "Bo Renamed"})
    assert renamed.status_code == 200, renamed.text

    after = initial_sync(ann, book)[bo]
    assert fn_of(after[1]) == "Bo Renamed"
    assert after[0] != before[0]
    assert after == fresh(ann, bo)
    assert ann.sync(book).answers[bo].text(f"{D}getetag") == after[0]


def test_a_changed_number_is_answered_with_its_new_card(
    club: dict[str, Any], engine: Engine
) -> None:
    ann, book, bo_id = club["ann"], club["book"], club["ids"][BO]
    bo = card(ann, book, bo_id)
    before = initial_sync(ann, book)[bo]
    assert "TEL;TYPE=CELL:+8613700137003" in before[1]
    # No use case changes a number yet; the account's row is where one would.
    with engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.phone == BO).values(phone="+8613700137099"))

    after = initial_sync(ann, book)[bo]
    assert "TEL;TYPE=CELL:+8613700137099" in after[1]
    assert after[0] != before[0]
    assert after == fresh(ann, bo)


def test_a_retag_that_keeps_a_card_visible_keeps_it_whole(club: dict[str, Any]) -> None:
    ann, book, bo_id = club["ann"], club["book"], club["ids"][BO]
    bo = card(ann, book, bo_id)
    initial_sync(ann, book)
    retagged = club["owner"].patch(
        f"/v1/books/{book}/entries/{bo_id}", json={"tags": ["team", "more"]}
    )
    assert retagged.status_code == 200, retagged.text

    # Tags are not in the card: the same card, as a GET of it reads it now.
    assert initial_sync(ann, book)[bo] == fresh(ann, bo)


def test_a_card_retagged_out_of_sight_is_never_answered_from_the_cache(
    club: dict[str, Any],
) -> None:
    ann, cy, book, bo_id = club["ann"], club["cy"], club["book"], club["ids"][BO]
    assert card(ann, book, bo_id) in initial_sync(ann, book)
    assert card(cy, book, bo_id) not in initial_sync(cy, book)
    retagged = club["owner"].patch(f"/v1/books/{book}/entries/{bo_id}", json={"tags": ["other"]})
    assert retagged.status_code == 200, retagged.text

    ann_cards = initial_sync(ann, book)
    assert card(ann, book, bo_id) not in ann_cards
    gone = multiget(ann, book, [card(ann, book, bo_id)])[card(ann, book, bo_id)]
    assert gone.status == 404 and not gone.props
    assert all("Bo" not in vcard for _, vcard in ann_cards.values())
    # Cy, who holds `other`, now has Bo's card, written as it is today.
    cy_bo = initial_sync(cy, book)[card(cy, book, bo_id)]
    assert cy_bo == fresh(cy, card(cy, book, bo_id))


def test_a_member_never_gets_a_card_it_may_not_see_that_another_put_in_the_cache(
    club: dict[str, Any],
) -> None:
    ann, cy, book, ids = club["ann"], club["cy"], club["book"], club["ids"]
    hidden = [ids[ANN], ids[BO]]  # in the cache from Ann's sync; Cy holds another tag
    assert {card(ann, book, i) for i in hidden} <= set(initial_sync(ann, book))

    cy_cards = initial_sync(cy, book)
    assert set(cy_cards) == {card(cy, book, ids[i]) for i in (OWNER, CY)}
    asked = multiget(cy, book, [card(cy, book, i) for i in hidden])
    assert all(answer.status == 404 and not answer.props for answer in asked.values())
    query = cy.request(
        "REPORT",
        cy.book(book),
        f"<c:addressbook-query {DECLARE}><d:prop><d:getetag/><c:address-data/></d:prop>"
        "</c:addressbook-query>",
        depth="1",
    )
    assert query.status_code == 207
    assert "FN:Ann" not in query.text and "FN:Bo" not in query.text
    assert "FN:Cy" in query.text


def dav_app(user: DavUser) -> DavApp:
    app = user.person.client.app
    found = [r.app for r in app.routes if isinstance(getattr(r, "app", None), DavApp)]  # type: ignore[attr-defined]
    return found[0]


def test_with_the_cache_off_cards_are_answered_the_same(
    make_client: Any, club: dict[str, Any]
) -> None:
    ann, book = club["ann"], club["book"]
    kept = initial_sync(ann, book)
    # Two propstats per card: the ETag alone (the sync), and the ETag with the card.
    assert len(dav_app(ann).cards) == 2 * len(kept)
    assert initial_sync(ann, book) == kept

    ann_off = DavUser(replace(ann.person, client=make_client(dav_card_cache_size=0)), ann.password)
    assert initial_sync(ann_off, book) == kept
    assert len(dav_app(ann_off).cards) == 0


def test_a_removed_members_cards_leave_the_cache_at_once(club: dict[str, Any]) -> None:
    ann, book, bo_id = club["ann"], club["book"], club["ids"][BO]
    kept = initial_sync(ann, book)
    assert len(dav_app(ann).cards) == 2 * len(kept)
    removed = club["owner"].delete(f"/v1/books/{book}/entries/{bo_id}")
    assert removed.status_code == 204
    # Bo's two propstats (its ETag, its ETag and card) are gone; the others stay.
    assert len(dav_app(ann).cards) == 2 * (len(kept) - 1)


def test_an_erased_persons_cards_leave_the_cache_at_once(club: dict[str, Any], people: Any) -> None:
    ann, book = club["ann"], club["book"]
    kept = initial_sync(ann, book)
    bo = people(BO)
    erased = bo.client.request("DELETE", "/v1/me", headers=bo.headers, json={"confirm": BO})
    assert erased.status_code == 204
    assert len(dav_app(ann).cards) == 2 * (len(kept) - 1)
