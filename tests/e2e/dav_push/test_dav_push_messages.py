"""WebDAV-Push messages: a member hears of changes to its own view of a book, and of no other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock, Person, sign_in
from tests.e2e.dav import DavUser, book_with, dav_user
from tests.e2e.dav_push import QUIET
from tests.e2e.push_service import PushService
from tests.e2e.test_dav_push import DECLARE, P, register

OWNER, ANN, BO, CY = "+8613500135001", "+8613500135002", "+8613500135003", "+8613500135004"


@pytest.fixture
def club(app: TestClient, outbox: Path, service: PushService) -> dict[str, Any]:
    """Olivia's book: Ann and Bo share `team`, Cy holds `other`; Ann and Cy registered."""
    owner, ann, bo, cy = (
        sign_in(app, outbox, OWNER, "Olivia"),
        sign_in(app, outbox, ANN, "Ann"),
        sign_in(app, outbox, BO, "Bo"),
        sign_in(app, outbox, CY, "Cy"),
    )
    book_id, ids = book_with(owner, "Club", [(ann, ["team"]), (bo, ["team"]), (cy, ["other"])])
    found: dict[str, Any] = {"owner": owner, "book": book_id, "ids": ids}
    for name, person in (("ann", ann), ("cy", cy)):
        user = dav_user(person)
        endpoint = service.subscribe()
        made = register(user, user.book(book_id), endpoint)
        assert made.status_code == 201, made.text
        found[name] = (user, endpoint, made.headers["Location"])
    return found


def read(message: dict[str, Any]) -> tuple[str, str]:
    """The topic and sync token of a push-message."""
    root = SafeET.fromstring(message["xml"])
    assert root.tag == f"{P}push-message"
    token = root.find(f"{P}content-update/{{DAV:}}sync-token")
    assert token is not None
    return root.findtext(f"{P}topic") or "", token.text or ""


def topic_of(user: DavUser, book: str) -> str:
    seen = user.propfind(user.book(book), f"P:topic {DECLARE}").answers[user.book(book)]
    return seen.text(f"{P}topic")


def rename(owner: Person, book: str, entry_id: str, name: str, **headers: str) -> None:
    changed = owner.client.patch(
        f"/v1/books/{book}/entries/{entry_id}",
        json={"name": name},
        headers={**owner.headers, **headers},
    )
    assert changed.status_code == 200, changed.text


def test_a_change_a_member_sees_pushes_its_topic_and_the_token_a_sync_then_reports(
    club: dict[str, Any], service: PushService
) -> None:
    ann, ann_endpoint, _ = club["ann"]
    _, cy_endpoint, _ = club["cy"]
    book = club["book"]
    # Bo holds `team`: Ann sees the new name, Cy (outside the tag) cannot.
    rename(club["owner"], book, club["ids"][BO], "Bo Renamed")
    message = ann_endpoint.next()
    topic, token = read(message)
    assert topic == topic_of(ann, book)
    assert token == ann.sync(book).sync_token
    # The push service saw the view's topic as RFC 8030's Topic, so a newer message
    # about this view replaces one it still holds; the topic itself is opaque.
    assert message["topic"] == topic
    cy_endpoint.nothing_more()
    assert service.errors == []


def test_a_member_outside_a_tag_scope_hears_nothing_of_a_change_it_cannot_see(
    club: dict[str, Any],
) -> None:
    _, ann_endpoint, _ = club["ann"]
    cy, cy_endpoint, _ = club["cy"]
    book = club["book"]
    rename(club["owner"], book, club["ids"][BO], "Bo Again")
    ann_endpoint.next()
    cy_endpoint.nothing_more()
    # A change Cy can see (the owner's own entry) reaches Cy too.
    rename(club["owner"], book, club["ids"][OWNER], "Olivia O.")
    topic, token = read(cy_endpoint.next())
    assert topic == topic_of(cy, book) and token == cy.sync(book).sync_token


def test_push_dont_notify_silences_the_registrations_it_names(club: dict[str, Any]) -> None:
    _, ann_endpoint, ann_location = club["ann"]
    _, cy_endpoint, cy_location = club["cy"]
    book, owner, ids = club["book"], club["owner"], club["ids"]
    everyone_sees = ids[OWNER]
    rename(owner, book, everyone_sees, "Olivia 2", **{"Push-Dont-Notify": f'"{ann_location}"'})
    read(cy_endpoint.next())
    ann_endpoint.nothing_more()
    rename(owner, book, everyone_sees, "Olivia 3", **{"Push-Dont-Notify": "*"})
    ann_endpoint.nothing_more()
    cy_endpoint.nothing_more()
    both = f'"http://testserver{ann_location}", "{cy_location}"'
    rename(owner, book, everyone_sees, "Olivia 4", **{"Push-Dont-Notify": both})
    ann_endpoint.nothing_more()
    cy_endpoint.nothing_more()


@pytest.mark.parametrize("merge", [5])
def test_a_burst_of_changes_is_merged_into_one_message(
    club: dict[str, Any], clock: FakeClock, merge: int
) -> None:
    ann, ann_endpoint, _ = club["ann"]
    book, owner, ids = club["book"], club["owner"], club["ids"]
    rename(owner, book, ids[BO], "Bo 1")
    read(ann_endpoint.next())
    # Within the window after a message, changes wait, however many they are...
    for n in range(2, 6):
        rename(owner, book, ids[BO], f"Bo {n}")
    ann_endpoint.nothing_more(within=QUIET)
    # ...and go as one once it has passed, with the token of the last.
    clock.advance(seconds=merge + 1)
    _, token = read(ann_endpoint.next())
    assert token == ann.sync(book).sync_token
    ann_endpoint.nothing_more(within=QUIET)


def test_a_gone_push_resource_is_forgotten(club: dict[str, Any], service: PushService) -> None:
    ann, ann_endpoint, location = club["ann"]
    service.answer(ann_endpoint, 410)
    rename(club["owner"], club["book"], club["ids"][BO], "Bo Gone")
    deadline_hits = ann_endpoint.url.removeprefix(service.origin)
    for _ in range(200):
        if service.hits[deadline_hits]:
            break
        ann_endpoint.nothing_more(within=0.05)
    # The registration is gone: removing it now finds nothing.
    for _ in range(100):
        if ann.request("DELETE", location).status_code == 404:
            return
        ann_endpoint.nothing_more(within=0.05)
    pytest.fail("the registration was not forgotten after a 410")
