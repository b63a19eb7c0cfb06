"""RFC 6578 sync-collection over CardDAV: initial sync, a change, a removal, tokens refused."""

from __future__ import annotations

from typing import Any

import pytest

from circlebook.services.sweep import sweep
from tests.conftest import FakeClock
from tests.e2e.dav import (
    ANN,
    BO,
    CY,
    OWNER,
    D,
    DavUser,
    Multistatus,
    book_with,
    club_with,
    dav_user,
    fn_of,
    parse_multistatus,
    sync_body,
)

VALID_SYNC_TOKEN = "<d:valid-sync-token/>"


@pytest.fixture
def club(people: Any) -> dict[str, Any]:
    """Olivia's book: Ann and Bo share `team`, Cy holds `other`; Ann syncs over CardDAV."""
    club = club_with(people)
    return {**club, "ann": dav_user(club["ann"])}


def card_href(user: DavUser, book_id: str, entry_id: str) -> str:
    return f"{user.book(book_id)}{entry_id}.vcf"


def test_initial_sync_lists_every_visible_card_with_an_etag_and_a_token(
    club: dict[str, Any],
) -> None:
    ann, book, ids = club["ann"], club["book"], club["ids"]
    result = ann.sync(book)
    expected = {card_href(ann, book, ids[phone]) for phone in (OWNER, ANN, BO)}
    assert set(result.answers) == expected  # not Cy, who holds another tag
    assert all(a.text(f"{D}getetag").startswith('"') for a in result.answers.values())
    assert result.sync_token and result.sync_token.startswith("urn:circlebook:sync:")
    collection = ann.propfind(ann.book(book), "d:sync-token").answers[ann.book(book)]
    assert collection.text(f"{D}sync-token") == result.sync_token


def test_sync_from_the_latest_token_is_empty(club: dict[str, Any]) -> None:
    ann, book = club["ann"], club["book"]
    token = ann.sync(book).sync_token
    again = ann.sync(book, token or "")
    assert again.answers == {}
    assert again.sync_token == token


def test_one_change_syncs_as_exactly_that_card_with_a_new_etag(club: dict[str, Any]) -> None:
    ann, book, bo_id = club["ann"], club["book"], club["ids"][BO]
    first = ann.sync(book)
    bo_href = card_href(ann, book, bo_id)
    response = club["owner"].patch(f"/v1/books/{book}/entries/{bo_id}", json={"name": "Bo Renamed"})
    assert response.status_code == 200, response.text

    delta = ann.sync(book, first.sync_token or "", "d:getetag", "c:address-data")
    assert set(delta.answers) == {bo_href}
    changed = delta.answers[bo_href]
    assert changed.text(f"{D}getetag") != first.answers[bo_href].text(f"{D}getetag")
    assert fn_of(changed.text("{urn:ietf:params:xml:ns:carddav}address-data")) == "Bo Renamed"
    assert delta.sync_token != first.sync_token
    assert fn_of(ann.request("GET", bo_href).text) == "Bo Renamed"


def test_one_removal_syncs_as_a_404_for_that_card_only(club: dict[str, Any]) -> None:
    ann, book, bo_id = club["ann"], club["book"], club["ids"][BO]
    first = ann.sync(book)
    response = club["owner"].delete(f"/v1/books/{book}/entries/{bo_id}")
    assert response.status_code == 204, response.text

    delta = ann.sync(book, first.sync_token or "")
    bo_href = card_href(ann, book, bo_id)
    assert {href: a.status for href, a in delta.answers.items()} == {bo_href: 404}
    assert ann.request("GET", bo_href).status_code == 404


def test_a_member_retagged_out_of_view_syncs_as_removed(club: dict[str, Any]) -> None:
    ann, book, bo_id = club["ann"], club["book"], club["ids"][BO]
    first = ann.sync(book)
    response = club["owner"].patch(f"/v1/books/{book}/entries/{bo_id}", json={"tags": ["other"]})
    assert response.status_code == 200, response.text
    delta = ann.sync(book, first.sync_token or "")
    assert {href: a.status for href, a in delta.answers.items()} == {
        card_href(ann, book, bo_id): 404
    }


@pytest.mark.parametrize(
    "token",
    [
        "urn:circlebook:sync:999.forged",
        "urn:circlebook:sync:not-a-token",
        "http://example.com/ns/sync/1",
        "1.AAAAAAAAAAAAAAAA",
        "urn:circlebook:sync:².x",  # str.isdigit() says yes, int() says no
        "urn:circlebook:sync:٣.x",
        "urn:circlebook:sync:\N{FULLWIDTH DIGIT ONE}.x",
        "urn:circlebook:sync:+1.x",
        f"urn:circlebook:sync:{'9' * 19}.x",
        "urn:circlebook:sync:~~",  # the parts of a truncated sync's token, all empty
        "urn:circlebook:sync:forged~~e_1",
        "urn:circlebook:sync:a~b",
        "urn:circlebook:sync:1.\N{LATIN SMALL LETTER E WITH ACUTE}",
    ],
)
def test_a_token_not_issued_here_fails_the_valid_sync_token_precondition(
    club: dict[str, Any], token: str
) -> None:
    ann, book = club["ann"], club["book"]
    response = ann.request("REPORT", ann.book(book), _sync_body(token))
    assert response.status_code == 403
    assert VALID_SYNC_TOKEN in response.text
    assert ann.sync(book).answers  # the client recovers with an initial sync


def test_a_token_of_another_book_is_refused(club: dict[str, Any], people: Any) -> None:
    ann, book = club["ann"], club["book"]
    other, _ = book_with(club["owner"], "Other", [(ann.person, [])])
    foreign = ann.sync(other).sync_token or ""
    response = ann.request("REPORT", ann.book(book), _sync_body(foreign))
    assert response.status_code == 403
    assert VALID_SYNC_TOKEN in response.text


def test_a_token_from_before_the_members_own_tags_changed_is_refused(club: dict[str, Any]) -> None:
    ann, book = club["ann"], club["book"]
    token = ann.sync(book).sync_token or ""
    ann_id = club["ids"][ANN]
    response = club["owner"].patch(f"/v1/books/{book}/entries/{ann_id}", json={"tags": ["other"]})
    assert response.status_code == 200, response.text
    refused = ann.request("REPORT", ann.book(book), _sync_body(token))
    assert refused.status_code == 403
    assert VALID_SYNC_TOKEN in refused.text
    fresh = ann.sync(book)  # Ann now sees Cy, not Bo
    cy_href = card_href(ann, book, club["ids"][CY])
    assert cy_href in fresh.answers
    assert card_href(ann, book, club["ids"][BO]) not in fresh.answers


def test_a_token_from_before_the_kept_history_is_refused(
    club: dict[str, Any], clock: FakeClock
) -> None:
    ann, book = club["ann"], club["book"]
    token = ann.sync(book).sync_token or ""
    response = club["owner"].delete(f"/v1/books/{book}/entries/{club['ids'][BO]}")
    assert response.status_code == 204
    clock.advance(days=91)
    sweep(club["bo"].client.app.state.runtime)
    refused = ann.request("REPORT", ann.book(book), _sync_body(token))
    assert refused.status_code == 403
    assert VALID_SYNC_TOKEN in refused.text
    fresh = ann.sync(book)
    assert card_href(ann, book, club["ids"][BO]) not in fresh.answers


def test_the_ctag_and_sync_token_change_with_the_book(club: dict[str, Any]) -> None:
    ann, book = club["ann"], club["book"]
    props = ("d:sync-token", "cs:getctag")
    before = ann.propfind(ann.book(book), *props).answers[ann.book(book)]
    response = club["owner"].patch(f"/v1/books/{book}", json={"title": "Club 2"})
    assert response.status_code == 200, response.text
    after = ann.propfind(ann.book(book), *props).answers[ann.book(book)]
    for name in (f"{D}sync-token", "{http://calendarserver.org/ns/}getctag"):
        assert before.text(name) != after.text(name)


def _sync_body(token: str) -> str:
    return (
        '<sync-collection xmlns="DAV:"><sync-token>'
        f"{token}</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>"
    )


def _limited(user: DavUser, book_id: str, token: str, nresults: int) -> Multistatus:
    body = sync_body(token).replace(
        "</d:sync-collection>",
        f"<d:limit><d:nresults>{nresults}</d:nresults></d:limit></d:sync-collection>",
    )
    return parse_multistatus(user.request("REPORT", user.book(book_id), body))


def test_a_removal_between_two_pages_of_a_limited_sync_is_reported(club: dict[str, Any]) -> None:
    ann, book, ids = club["ann"], club["book"], club["ids"]
    first = _limited(ann, book, "", 2)
    response = club["owner"].delete(f"/v1/books/{book}/entries/{ids[BO]}")
    assert response.status_code == 204, response.text

    second = _limited(ann, book, first.sync_token or "", 2)

    assert first.answers[ann.book(book)].status == 507
    cards = {h for page in (first, second) for h, a in page.answers.items() if a.status is None}
    bo = card_href(ann, book, ids[BO])
    assert cards - {bo} == {card_href(ann, book, ids[p]) for p in (OWNER, ANN)}
    assert second.answers[bo].status == 404
    assert ann.book(book) not in second.answers  # the rest fitted: not truncated
    assert ann.sync(book, second.sync_token or "").answers == {}


def test_nresults_that_is_not_a_number_is_a_400(club: dict[str, Any]) -> None:
    ann, book = club["ann"], club["book"]
    body = sync_body("").replace(
        "</d:sync-collection>",
        "<d:limit><d:nresults>two</d:nresults></d:limit></d:sync-collection>",
    )
    assert ann.request("REPORT", ann.book(book), body).status_code == 400
