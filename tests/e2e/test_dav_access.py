"""Who gets what over CardDAV: nothing of a book for anyone the JSON API would refuse,
no XML trick expanded, no path trick leading into someone else's data."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from circlebook.services import app_passwords
from tests.conftest import FakeClock, sign_in
from tests.e2e.dav import DavUser, book_with, dav_user

OWNER, ANN, BO, CY, STRANGER = (f"+861360013600{n}" for n in range(1, 6))
SECRET_NAME = "Bo Secretname"


@pytest.fixture
def book(people: Any) -> dict[str, Any]:
    """Ann and Bo share `team`; Cy holds `other`; a stranger signed in but was never invited.
    Everyone made an app password."""
    owner, ann, bo, cy = (
        people(p, n) for p, n in ((OWNER, "Olivia"), (ANN, "Ann"), (BO, SECRET_NAME), (CY, "Cy"))
    )
    stranger = people(STRANGER, "Sam")
    book_id, ids = book_with(owner, "Team", [(ann, ["team"]), (bo, ["team"]), (cy, ["other"])])
    users = {
        name: dav_user(p)
        for name, p in (
            ("owner", owner),
            ("ann", ann),
            ("bo", bo),
            ("cy", cy),
            ("stranger", stranger),
        )
    }
    return {"book": book_id, "ids": ids, **users}


def bo_card(user: DavUser, book: dict[str, Any]) -> str:
    return f"{user.book(book['book'])}{book['ids'][BO]}.vcf"


def leaks(response: Any) -> bool:
    return SECRET_NAME in response.text or BO.lstrip("+") in response.text


def test_a_member_sees_a_card_of_its_own_tag(book: dict[str, Any]) -> None:
    ann: DavUser = book["ann"]
    response = ann.request("GET", bo_card(ann, book))
    assert response.status_code == 200
    assert SECRET_NAME in response.text


def test_a_member_of_another_tag_scope_sees_nothing_of_the_card(book: dict[str, Any]) -> None:
    cy: DavUser = book["cy"]
    assert cy.request("GET", bo_card(cy, book)).status_code == 404
    assert not leaks(cy.request("PROPFIND", cy.book(book["book"]), depth="1"))
    synced = cy.request("REPORT", cy.book(book["book"]), _sync_body())
    assert synced.status_code == 207 and not leaks(synced)
    multiget = cy.request("REPORT", cy.book(book["book"]), _multiget(bo_card(cy, book)))
    assert multiget.status_code == 207 and "404 Not Found" in multiget.text
    assert not leaks(multiget)


def test_a_removed_member_loses_the_book(book: dict[str, Any]) -> None:
    bo: DavUser = book["bo"]
    assert bo.request("PROPFIND", bo.book(book["book"]), depth="0").status_code == 207
    owner: DavUser = book["owner"]
    removed = owner.person.delete(f"/v1/books/{book['book']}/entries/{book['ids'][BO]}")
    assert removed.status_code == 204
    for method, path in (
        ("PROPFIND", bo.book(book["book"])),
        ("REPORT", bo.book(book["book"])),
        ("GET", bo_card(bo, book)),
    ):
        assert bo.request(method, path, _sync_body()).status_code == 404, (method, path)
    home = bo.request("PROPFIND", bo.home, depth="1")
    assert book["book"] not in home.text


def test_a_stranger_sees_nothing_of_the_book(book: dict[str, Any]) -> None:
    stranger: DavUser = book["stranger"]
    ann: DavUser = book["ann"]
    for path in (
        stranger.book(book["book"]),
        bo_card(stranger, book),
        ann.book(book["book"]),
        bo_card(ann, book),
        ann.home,
    ):
        for method in ("PROPFIND", "GET", "REPORT"):
            response = stranger.request(method, path, _sync_body() if method == "REPORT" else "")
            assert response.status_code == 404, (method, path)
            assert not leaks(response)
    assert book["book"] not in stranger.request("PROPFIND", stranger.home, depth="1").text


@pytest.mark.parametrize(
    "credentials",
    [
        (ANN, "wrong-password"),
        (ANN, ""),
        (STRANGER, "aaaa-bbbb-cccc-dddd-eeee-ffff"),
        ("+8613600136099", "aaaa-bbbb-cccc-dddd-eeee-ffff"),
        ("not a phone", "x"),
    ],
)
def test_wrong_credentials_see_nothing(book: dict[str, Any], credentials: tuple[str, str]) -> None:
    ann: DavUser = book["ann"]
    response = ann.request("GET", bo_card(ann, book), auth=credentials)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert not leaks(response)


def test_no_credentials_are_challenged_and_a_bearer_token_is_not_enough(
    book: dict[str, Any],
) -> None:
    ann: DavUser = book["ann"]
    client = ann.person.client
    assert client.request("PROPFIND", "/dav/").status_code == 401
    response = client.request("PROPFIND", "/dav/", headers=ann.person.headers)
    assert response.status_code == 401


def test_the_account_id_works_as_user_name_and_a_phone_in_any_spelling(
    book: dict[str, Any],
) -> None:
    ann: DavUser = book["ann"]
    for user in (ann.account_id, "136 0013 6002", "+86 136-0013-6002"):
        response = ann.request("GET", bo_card(ann, book), auth=(user, ann.password))
        assert response.status_code == 200, user
    spaced = ann.password.upper().replace("-", " ")
    assert ann.request("GET", bo_card(ann, book), auth=(ANN, spaced)).status_code == 200


def test_a_revoked_app_password_is_refused(book: dict[str, Any]) -> None:
    ann: DavUser = book["ann"]
    (made,) = ann.person.get("/v1/app-passwords").json()["app_passwords"]
    assert ann.person.delete(f"/v1/app-passwords/{made['id']}").status_code == 204
    assert ann.request("PROPFIND", "/dav/", depth="0").status_code == 401


# -- XML ---------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + ']><propfind xmlns="DAV:"><prop><displayname>&lol9;</displayname></prop></propfind>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<propfind xmlns="DAV:"><prop><displayname>&xxe;</displayname></prop></propfind>'
)
DTD_ONLY = '<?xml version="1.0"?><!DOCTYPE propfind><propfind xmlns="DAV:"><allprop/></propfind>'
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd">'
    '%remote;]><propfind xmlns="DAV:"><allprop/></propfind>'
)


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        DTD_ONLY,
        PARAMETER_ENTITY,
        "<propfind",
        "not xml at all",
        '<propfind xmlns="DAV:"><prop><displayname></prop></propfind>',
        "\x00\x01",
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "dtd",
        "parameter-entity",
        "truncated",
        "text",
        "mismatched",
        "binary",
    ],
)
def test_hostile_or_malformed_xml_is_refused_quickly(book: dict[str, Any], body: str) -> None:
    ann: DavUser = book["ann"]
    for method in ("PROPFIND", "REPORT"):
        started = time.perf_counter()
        response = ann.request(method, ann.book(book["book"]), body, depth="1")
        # A bound that tells a refused bomb from an expanded one (minutes, or the
        # memory gone), not a speed target: a loaded 2-core machine took over 1 s.
        assert time.perf_counter() - started < 10.0
        assert response.status_code == 400, (method, response.text)
        assert "root:" not in response.text  # nothing of /etc/passwd


def test_deeply_nested_xml_is_answered_4xx_quickly(book: dict[str, Any]) -> None:
    ann: DavUser = book["ann"]
    depth = 140_000  # just under the 1 MiB body limit
    body = '<a xmlns="DAV:">' + "<a>" * depth + "</a>" * depth + "</a>"
    for method in ("PROPFIND", "REPORT"):
        started = time.perf_counter()
        response = ann.request(method, ann.book(book["book"]), body, depth="1")
        assert time.perf_counter() - started < 10.0  # as above: refused, not recursed into
        assert 400 <= response.status_code < 500, response.text


def assert_dav_too_large(response: Any, limit: int) -> None:
    """DAV's own 413: plain text, as DAV answers a failure with no precondition; no problem+json."""
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == f"a request body may be at most {limit} bytes\n"


def test_a_body_over_the_limit_is_refused_in_davs_own_way(
    make_client: Callable[..., TestClient], outbox: Any
) -> None:
    client = make_client(max_body_bytes=2048)
    person = sign_in(client, outbox, ANN, "Ann")
    ann = dav_user(person)
    padding = "<d:displayname/>" * 200
    body = f'<d:propfind xmlns:d="DAV:"><d:prop>{padding}</d:prop></d:propfind>'
    for path in ("/dav/", ann.home, "/dav"):
        assert_dav_too_large(ann.request("PROPFIND", path, body, depth="0"), 2048)

    def chunks() -> Any:
        for _ in range(10):
            yield b"<" * 500

    streamed = client.request("REPORT", ann.home, content=chunks(), auth=ann.auth)
    assert_dav_too_large(streamed, 2048)
    for declared in ("9" * 5000, "+1", "4096"):
        headers = {"content-length": declared}
        response = client.request("PROPFIND", "/dav/", content=b"<a/>", headers=headers)
        assert_dav_too_large(response, 2048)


# -- paths -------------------------------------------------------------------------------------


def test_path_tricks_lead_nowhere(book: dict[str, Any], people: Any) -> None:
    ann: DavUser = book["ann"]
    cy: DavUser = book["cy"]
    owner: DavUser = book["owner"]
    book_id, bo_id = book["book"], book["ids"][BO]
    private, private_ids = book_with(owner.person, "Owner only", [(cy.person, [])])
    cy_entry = private_ids[CY]
    tricks = [
        f"/dav/addressbooks/{cy.account_id}/",  # another user's home
        f"/dav/addressbooks/{cy.account_id}/{private}/",  # another user's book
        f"/dav/principals/{cy.account_id}/",
        f"{ann.home}{private}/",  # a book Ann is not in, under her own home
        f"{ann.home}{private}/{cy_entry}.vcf",
        f"{ann.book(book_id)}{cy_entry}.vcf",  # a card of another book, in Ann's book
        f"{ann.book(book_id)}%2E%2E/{private}/",  # dot-dot, encoded so no client strips it
        f"{ann.book(book_id)}%2E%2E%2F{private}%2F",  # and with encoded slashes
        f"{ann.home}{book_id}%2F..%2F{private}%2F",
        f"/dav/addressbooks/{ann.account_id}%2F..%2F{cy.account_id}/{private}/",
        f"/dav/addressbooks//{cy.account_id}/",
        f"{ann.book(book_id)}{bo_id}",  # a card without its .vcf
        "/dav/addressbooks/",
        "/dav/principals/",
        "/dav/nothing/here/",
    ]
    for path in tricks:
        for method in ("GET", "PROPFIND"):
            response = ann.request(method, path, depth="1")
            assert response.status_code in (403, 404), (method, path, response.status_code)
            assert "Owner only" not in response.text and "Cy" not in response.text


# -- the throttle ------------------------------------------------------------------------------


def test_wrong_passwords_are_throttled_per_user_name(
    make_client: Callable[..., TestClient], outbox: Any, clock: FakeClock
) -> None:
    client = make_client(dav_failures_per_window=3, dav_failure_window_seconds=60)
    ann = dav_user(sign_in(client, outbox, ANN, "Ann"))
    for _ in range(3):
        assert ann.request("PROPFIND", "/dav/", auth=(ANN, "wrong")).status_code == 401
    refused = ann.request("PROPFIND", "/dav/", depth="0")  # even the right password waits
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    spelled = ann.request("PROPFIND", "/dav/", auth=("136 0013 6002", "wrong"))
    assert spelled.status_code == 429  # another spelling of the same number counts the same
    clock.advance(seconds=61)
    assert ann.request("PROPFIND", "/dav/", depth="0").status_code == 207


def test_wrong_passwords_are_throttled_per_client_address(
    make_client: Callable[..., TestClient], outbox: Any
) -> None:
    """One address gets ten times a user name's allowance: a carrier's NAT is many phones."""
    client = make_client(dav_failures_per_window=2)
    ann = dav_user(sign_in(client, outbox, ANN, "Ann"))
    for n in range(20):
        guess = (f"+86136001361{n:02d}", "guess")  # a different number each time
        assert ann.request("PROPFIND", "/dav/", auth=guess).status_code == 401, n
    refused = ann.request("PROPFIND", "/dav/", auth=("+8613600136199", "x"))
    assert refused.status_code == 429
    assert ann.request("PROPFIND", "/dav/", depth="0").status_code == 429


def test_wrong_passwords_from_elsewhere_never_lock_the_owner_out(
    make_client: Callable[..., TestClient], outbox: Any
) -> None:
    client = make_client(dav_failures_per_window=3)
    ann = dav_user(sign_in(client, outbox, ANN, "Ann"))
    attacker = TestClient(client.app, client=("198.51.100.9", 4000))
    for user in (ANN, "136 0013 6002", ann.account_id) * 2:
        attacker.request("PROPFIND", "/dav/", auth=(user, "guess"))
    # Every spelling of Ann's name counted against her account, from that address...
    assert attacker.request("PROPFIND", "/dav/", auth=ann.auth).status_code == 429
    # ...and only there: her own phone, elsewhere, syncs on.
    assert ann.request("PROPFIND", "/dav/", depth="0").status_code == 207


def test_an_unknown_user_name_costs_the_same_work_as_a_known_one(
    make_client: Callable[..., TestClient], outbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(dav_failures_per_window=0)
    ann = dav_user(sign_in(client, outbox, ANN, "Ann"))
    checked: list[str] = []
    real = app_passwords._matches

    def counting(secret: bytes, stored: str, password: str) -> bool:
        checked.append(stored)
        return real(secret, stored, password)

    monkeypatch.setattr(app_passwords, "_matches", counting)
    work = {}
    for user in (ANN, "+8613600136099", "nobody-at-all", ann.account_id):
        checked.clear()
        assert ann.request("PROPFIND", "/dav/", auth=(user, "wrong")).status_code == 401
        work[user] = len(checked)
    assert set(work.values()) == {app_passwords.MAX_APP_PASSWORDS}


def test_the_throttle_can_be_turned_off(
    make_client: Callable[..., TestClient], outbox: Any
) -> None:
    client = make_client(dav_failures_per_window=0)
    ann = dav_user(sign_in(client, outbox, ANN, "Ann"))
    for _ in range(30):
        assert ann.request("PROPFIND", "/dav/", auth=(ANN, "wrong")).status_code == 401
    assert ann.request("PROPFIND", "/dav/", depth="0").status_code == 207


def _multiget(*hrefs: str) -> str:
    inner = "".join(f"<d:href>{h}</d:href>" for h in hrefs)
    return (
        '<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
        f"<d:prop><d:getetag/><c:address-data/></d:prop>{inner}</c:addressbook-multiget>"
    )


def _sync_body() -> str:
    return (
        '<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level>'
        "<prop><getetag/></prop></sync-collection>"
    )
