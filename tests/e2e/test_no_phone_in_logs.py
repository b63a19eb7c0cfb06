"""No phone number in the server's output: not in access-log lines, not in any address.

In either log format; and no invitation token or id either: paths are logged by route template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from circlebook.web.session import SIGNIN_COOKIE
from tests.e2e.live import Server, live_server
from tests.e2e.web import Visitor, last_code_any

OWNER, FRIEND, ABROAD = "+8613800138701", "+8613800138702", "+12015550177"
PROPFIND = '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><d:getetag/></d:prop></d:propfind>'


def spellings(phone: str) -> list[str]:
    """The ways a number can show up: E.164, its national digits, and URL-encoded."""
    national = phone.removeprefix("+86").removeprefix("+1")
    return [phone, national, phone.replace("+", "%2B"), national[-8:]]


def web_sign_in(server: Server, phone: str) -> httpx.Client:
    browser = httpx.Client(base_url=server.url, follow_redirects=True)
    page = browser.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    before = len(server.texts_to(phone))
    sent = browser.post("/signin", data={"csrf": token.group(1), "phone": phone})
    assert sent.status_code == 200 and sent.url.path == "/signin/code"
    assert phone not in str(sent.url) and phone.replace("+", "%2B") not in str(sent.url)
    for response in sent.history:
        assert phone.replace("+", "%2B") not in response.headers.get("location", "")
    token = re.search(r'name="csrf" value="([^"]+)"', sent.text)
    assert token
    code = server.code_for(phone, after=before)
    signed = browser.post("/signin/code", data={"csrf": token.group(1), "code": code, "name": "W"})
    assert signed.url.path == "/books", signed.text
    return browser


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_whole_flow_leaves_no_phone_number_in_the_servers_output(
    tmp_path: Path, log_format: str
) -> None:
    with live_server(tmp_path, log_format=log_format) as server:
        http = server.http
        # The JSON API: sign in, create a book, invite, answer through the link.
        code = server.send_code(OWNER)
        signed = http.post(
            "/v1/auth/sessions", json={"phone": OWNER, "code": code, "device": "cli"}
        ).json()
        auth = {"Authorization": f"Bearer {signed['token']}"}
        book = http.post(
            "/v1/books",
            json={"title": "Log test", "invitees": [{"phone": FRIEND}, {"phone": ABROAD}]},
            headers=auth,
        ).json()
        link = book["outcomes"][0]["invite_url"].rsplit("/i/", 1)[1]
        before = len(server.texts_to(FRIEND))
        assert http.post(f"/v1/invites/{link}/code").status_code == 202
        friend_code = server.code_for(FRIEND, after=before)
        joined = http.post(f"/v1/invites/{link}/accept", json={"code": friend_code})
        assert joined.status_code == 200, joined.text
        http.get(f"/v1/books/{book['id']}/entries", headers=auth)
        # A wrong sign-in and a bad number, which servers like to log.
        http.post("/v1/auth/sessions", json={"phone": OWNER, "code": "000000", "device": "x"})
        http.post("/v1/auth/codes", json={"phone": OWNER + "99999"})

        # The web app, searching the book by number (a query string).
        browser = web_sign_in(server, OWNER)
        found = browser.get(f"/books/{book['id']}", params={"q": FRIEND})
        assert found.status_code == 200
        browser.get(f"/books/{book['id']}", params={"q": FRIEND.removeprefix("+86")})
        browser.close()

        # CardDAV with the phone number as user name.
        made = http.post("/v1/app-passwords", json={"label": "phone"}, headers=auth).json()
        dav = httpx.Client(base_url=server.url, auth=(OWNER, made["password"]))
        home = f"/dav/addressbooks/{signed['account']['id']}/"
        listed = dav.request("PROPFIND", home, headers={"Depth": "1"}, content=PROPFIND)
        assert listed.status_code == 207, listed.text
        dav.request("PROPFIND", home, auth=(OWNER, "wrong-password"), content=PROPFIND)
        dav.close()

    output = (tmp_path / "server.log").read_text()
    if log_format == "text":  # the access log is there, by route template
        assert " 207" in output and "GET /books/{book_id} " in output
        assert "POST /v1/invites/{token}/accept " in output
    else:
        lines = [json.loads(line) for line in output.splitlines() if line.strip()]
        seen = {(line.get("route"), line.get("status")) for line in lines}
        assert {("/dav/{path}", 207), ("/books/{book_id}", 200)} <= seen
        assert ("/v1/invites/{token}/accept", 200) in seen
    for phone in (OWNER, FRIEND, ABROAD):
        for spelling in spellings(phone):
            assert spelling not in output, f"{spelling} in the server's output"
    # Nor the link's token (it lets its holder answer) or ids that tie lines to people.
    for secret in (link, book["id"], signed["account"]["id"], signed["token"]):
        assert secret not in output


def replace_cookie(person: Visitor, value: str) -> None:
    person.client.cookies.delete(SIGNIN_COOKIE)
    person.client.cookies.set(SIGNIN_COOKIE, value, domain="127.0.0.1")


def test_the_code_form_gets_the_number_from_a_signed_cookie_not_the_address(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    person = Visitor(make_client(), outbox)
    person.get("/signin")
    sent = person.post("/signin", {"phone": OWNER})
    assert sent.url.path == "/signin/code" and "phone" not in str(sent.url)
    assert "+86 138 0013 8701" in sent.text
    kept = person.client.cookies[SIGNIN_COOKIE]
    # Another number put in the cookie by hand breaks its signature: start again.
    replace_cookie(person, kept.replace(OWNER, FRIEND))
    forged = person.post("/signin/code", {"code": last_code_any(outbox, OWNER)})
    assert forged.url.path == "/signin" and "circlebook_session" not in person.client.cookies
    replace_cookie(person, kept)
    person.get("/signin/code")
    signed = person.post("/signin/code", {"code": last_code_any(outbox, OWNER)})
    assert signed.url.path == "/books"
    assert SIGNIN_COOKIE not in person.client.cookies  # gone once it did its work
    stranger = Visitor(make_client(), outbox)
    assert stranger.get("/signin/code").url.path == "/signin"
