"""The web pages over HTTP, as a browser without JavaScript uses them: sessions, CSRF, scopes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from circlebook.domain.errors import NotAuthenticatedError
from circlebook.services import app_passwords
from tests.e2e.live import live_server
from tests.e2e.web import Visitor, last_code_any

OWNER, RED, BLUE, PLAIN = "+8613700137000", "+8613700137001", "+8613700137002", "+8613700137003"
STRANGER = "+8613700137009"


@pytest.fixture
def visitor(make_client: Callable[..., TestClient], outbox: Path) -> Callable[[], Visitor]:
    """visitor() opens another browser on the same server and database."""
    return lambda: Visitor(make_client(), outbox)


def build(visitor: Callable[[], Visitor], people: Any) -> tuple[Visitor, str]:
    """A book whose owner signed in on the web: RED tagged red, BLUE blue, PLAIN untagged."""
    owner = visitor()
    owner.sign_in(OWNER, "Owner Zhao")
    response = owner.post(
        "/books/new/create",
        {
            "title": "Tagged",
            "phone": [RED, BLUE, PLAIN],
            "person": ["Red Qian", "Blue Sun", "Plain Li"],
            "tags": ["red", "blue", ""],
            "pick": ["0", "1", "2"],
        },
    )
    assert response.status_code == 200, response.text
    assert re.findall(r'data-status="(\w+)"', response.text) == ["invited"] * 3
    book_id = re.search(r'href="/books/(b[^"/]+)"', response.text)
    assert book_id
    for phone in (RED, BLUE, PLAIN):
        people(phone).accept(book_id.group(1))
    return owner, book_id.group(1)


def test_book_pages_show_a_member_only_what_its_tags_allow(
    visitor: Callable[[], Visitor], people: Any
) -> None:
    owner, book_id = build(visitor, people)
    assert {"Red Qian", "Blue Sun", "Plain Li"} <= set(
        re.findall(r'class="name">([^<]+)<', owner.get(f"/books/{book_id}").text)
    )
    red = visitor()
    red.sign_in(RED)
    pages = {
        "book": red.get(f"/books/{book_id}").text,
        # The page repeats the query itself, so these look for what is not in it.
        "search": red.get(f"/books/{book_id}", params={"q": "Sun"}).text,
        "search by number": red.get(f"/books/{book_id}", params={"q": "137 0013 7002"}).text,
        "vcard": red.get(f"/books/{book_id}/export.vcf").text,
        "books": red.get("/books").text,
        "manage": red.get(f"/books/{book_id}/manage").text,
    }
    for page, text in pages.items():
        for hidden in ("Blue Sun", "Plain Li", BLUE, PLAIN, "+86 137 0013 7003", "blue"):
            assert hidden not in text, f"{page} shows {hidden}"
    assert re.findall(r'class="name">([^<]+)<', pages["book"]) == ["Owner Zhao", "Red Qian"]
    assert "Nobody matches the search" in pages["search"]
    assert "2 people" in pages["books"]
    assert red.client.get(f"/books/{book_id}/manage").status_code == 403


def test_a_stranger_gets_the_same_answer_as_for_a_book_that_does_not_exist(
    visitor: Callable[[], Visitor], people: Any
) -> None:
    _, book_id = build(visitor, people)
    stranger = visitor()
    stranger.sign_in(STRANGER)
    seen = stranger.get(f"/books/{book_id}")
    missing = stranger.get("/books/b_doesnotexist")
    assert seen.status_code == missing.status_code == 404
    assert OWNER not in seen.text and "Tagged" not in seen.text
    assert stranger.get(f"/books/{book_id}/export.vcf").status_code == 404


def test_every_form_post_without_this_browsers_token_is_refused(
    visitor: Callable[[], Visitor], people: Any
) -> None:
    owner, book_id = build(visitor, people)
    red = visitor()
    red.sign_in(RED)
    posts = [
        "/signin",
        "/signin/code",
        "/signout",
        "/language",
        "/inbox/i_x/accept",
        "/inbox/i_x/decline",
        "/books/new",
        "/books/new/create",
        f"/books/{book_id}/rename",
        f"/books/{book_id}/entries/e_x/tags",
        f"/books/{book_id}/entries/e_x/remove",
        f"/books/{book_id}/invitations/i_x/revoke",
        f"/books/{book_id}/dissolve",
        f"/books/{book_id}/leave",
    ]
    for path in posts:
        data = {"title": "Hijacked", "confirm": "yes", "phone": OWNER}
        assert owner.client.post(path, data=data).status_code == 403, path
        # Another browser's token is no better than none.
        assert owner.client.post(path, data={**data, "csrf": red.token}).status_code == 403, path
        assert owner.client.post(path, data={**data, "csrf": "²é"}).status_code == 403, path
    page = owner.get(f"/books/{book_id}")
    assert page.status_code == 200 and "Hijacked" not in page.text


def test_the_session_cookie_is_httponly_lax_and_secure_beyond_this_machine(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    for base, phone, secure in (
        ("http://127.0.0.1", OWNER, False),
        ("http://localhost:8000", RED, False),
        ("https://book.example.org", BLUE, True),
    ):
        client = make_client()
        client.base_url = base  # type: ignore[assignment]
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
        assert token
        client.post("/signin", data={"phone": phone, "csrf": token.group(1)})
        response = client.post(
            "/signin/code",
            data={"phone": phone, "code": last_code_any(outbox, phone), "csrf": token.group(1)},
            follow_redirects=False,
        )
        assert response.status_code == 303, base
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("circlebook_session=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert ("Secure" in cookie) is secure, (base, cookie)


def test_a_request_through_a_proxy_never_counts_as_this_machine(
    make_client: Callable[..., TestClient],
) -> None:
    direct, proxy = make_client(), make_client()
    for client in (direct, proxy):
        client.base_url = "http://127.0.0.1:8000"  # type: ignore[assignment]
    assert "Secure" not in direct.get("/signin").headers["set-cookie"]
    proxied = proxy.get("/signin", headers={"X-Forwarded-For": "203.0.113.9"})
    assert "Secure" in proxied.headers["set-cookie"]


def test_plain_http_beyond_this_machine_gets_secure_cookies_and_a_warning(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    client.base_url = "http://book.example.org"  # type: ignore[assignment]
    page = client.get("/signin")
    assert "Secure" in page.headers["set-cookie"]
    assert "browser will not keep the sign-in" in page.text
    # The browser keeps no Secure cookie over plain HTTP, so no form can pass either.
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    refused = client.post("/signin", data={"phone": OWNER, "csrf": token.group(1)})
    assert refused.status_code == 403


def test_signing_out_ends_the_session_on_the_server(visitor: Callable[[], Visitor]) -> None:
    person = visitor()
    person.sign_in(OWNER)
    token = person.client.cookies["circlebook_session"]
    response = person.post("/signout")
    assert response.url.path == "/signin" and "You are signed out" in response.text
    api = person.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    assert person.client.get("/books", follow_redirects=False).headers["location"] == (
        "/signin?next=%2Fbooks"
    )


def test_errors_appear_beside_the_field_at_fault(visitor: Callable[[], Visitor]) -> None:
    person = visitor()
    person.get("/signin")
    invalid = person.post("/signin", {"phone": "12"})
    assert invalid.status_code == 422
    assert re.search(r'id="phone"[^>]*aria-invalid="true"', invalid.text)
    assert '<p class="error" id="phone-error">This is not a valid phone number.</p>' in invalid.text

    assert person.post("/signin", {"phone": OWNER}).status_code == 200
    wrong = person.post("/signin/code", {"phone": OWNER, "code": "000000"})
    assert wrong.status_code == 422
    assert re.search(
        r'id="code"[^>]*aria-describedby="code-error"[^>]*aria-invalid="true"', wrong.text
    )
    assert 'id="code-error">This code is wrong or has expired.' in wrong.text

    for _ in range(2):
        person.post("/signin", {"phone": OWNER})
    limited = person.post("/signin", {"phone": OWNER})
    assert limited.status_code == 429
    assert re.search(r'id="phone-error">Too many tries. Try again in \d+ min.', limited.text)
    assert f'value="{OWNER}"' in limited.text  # what was typed stays


def test_the_sign_in_text_speaks_the_language_of_the_page(
    visitor: Callable[[], Visitor], outbox: Path
) -> None:
    visitor().sign_in(OWNER, **{"accept-language": "zh-CN,zh;q=0.9"})
    visitor().sign_in(RED, **{"accept-language": "en-GB"})
    texts = {m["to"]: m["text"] for m in map(json.loads, outbox.read_text().splitlines())}
    assert "验证码" in texts[OWNER] and "code is" not in texts[OWNER]
    assert texts[RED].startswith("Your circlebook code is ")


def test_next_after_sign_in_stays_on_this_site(visitor: Callable[[], Visitor]) -> None:
    for phone, target, lands in (
        (OWNER, "/inbox", "/inbox"),
        (RED, "//evil.example", "/books"),
        (BLUE, "https://evil.example", "/books"),
    ):
        person = visitor()
        person.get("/signin")
        person.post("/signin", {"phone": phone})
        response = person.post(
            "/signin/code",
            {"phone": phone, "code": last_code_any(person.outbox, phone), "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == lands


def test_dissolving_asks_for_a_tick(visitor: Callable[[], Visitor], people: Any) -> None:
    owner, book_id = build(visitor, people)
    refused = owner.post(f"/books/{book_id}/dissolve")
    assert refused.status_code == 422 and 'id="confirm-error"' in refused.text
    done = owner.post(f"/books/{book_id}/dissolve", {"confirm": "yes"})
    assert done.url.path == "/books" and "The book is dissolved" in done.text
    assert owner.get(f"/books/{book_id}").status_code == 404


def test_the_pages_stay_out_of_the_api_documents(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths and all(path.startswith("/v1/") for path in paths)
    assert client.get("/docs").status_code == 200
    assert client.get("/v1/nothing").headers["content-type"] == "application/problem+json"


def test_the_event_stream_takes_the_session_cookie(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        server.http.post("/v1/auth/codes", json={"phone": OWNER})
        signed = server.http.post(
            "/v1/auth/sessions",
            json={"phone": OWNER, "code": server.code_for(OWNER), "device": "test"},
        ).json()
        with httpx.Client(base_url=server.url, timeout=10) as browser:
            assert browser.get("/v1/events").status_code == 401
            browser.cookies.set("circlebook_session", signed["token"])
            with browser.stream("GET", "/v1/events") as stream:
                assert stream.status_code == 200
                for line in stream.iter_lines():
                    if line == "event: ready":
                        break


def test_a_whole_address_book_can_be_picked_from(visitor: Callable[[], Visitor]) -> None:
    owner = visitor()
    owner.sign_in(OWNER)
    numbers = "\n".join(f"Person {n} +86 139 {n:08d}" for n in range(1500))
    pick = owner.post("/books/new", {"title": "Everyone", "numbers": numbers})
    assert pick.status_code == 200 and pick.text.count('name="pick"') == 1500
    fields = {"title": "Everyone", "phone": [], "person": [], "tags": [], "pick": ["3"]}
    for n in range(1500):
        fields["phone"].append(f"+86 139 {n:08d}")
        fields["person"].append(f"Person {n}")
        fields["tags"].append("")
    created = owner.post("/books/new/create", fields)
    assert created.status_code == 200
    assert re.findall(r'data-status="(\w+)"', created.text) == ["invited"]
    assert '<span class="name">Person 3</span>' in created.text


def test_picks_that_are_not_ascii_numbers_are_ignored(visitor: Callable[[], Visitor]) -> None:
    owner = visitor()
    owner.sign_in(OWNER)
    fields = {
        "title": "Picky",
        "phone": [RED, BLUE, PLAIN],
        "person": ["Red Qian", "Blue Sun", "Plain Li"],
        "tags": ["", "", ""],
        # "²" passes str.isdigit() and fails int(); "٢" and a fullwidth 2 are read by int() as 2.
        "pick": ["²", "٢", "\N{FULLWIDTH DIGIT TWO}", "-0", " 2", "9" * 40, "1"],
    }
    created = owner.post("/books/new/create", fields)
    assert created.status_code == 200, created.text
    assert re.findall(r'data-status="(\w+)"', created.text) == ["invited"]
    assert '<span class="name">Blue Sun</span>' in created.text


def test_an_app_password_made_on_the_page_is_shown_once_and_can_be_revoked(
    visitor: Callable[[], Visitor],
) -> None:
    person = visitor()
    person.sign_in(OWNER)
    rt = person.client.app.state.runtime  # type: ignore[attr-defined]
    refused = person.post("/devices", {"label": "  "})
    assert refused.status_code == 422
    assert 'id="label-error">A device name needs' in refused.text

    made = person.post("/devices", {"label": "Mei's phone"})
    secret = re.search(r'<code id="new-password">([^<]+)</code>', made.text)
    assert secret, made.text
    assert app_passwords.authenticate_app_password(rt, OWNER, secret.group(1)).phone == OWNER
    listing = person.get("/devices")
    assert "Mei&#39;s phone" in listing.text and secret.group(1) not in listing.text

    revoke = re.search(r'action="(/devices/[^/"]+/revoke)"', listing.text)
    assert revoke
    done = person.post(revoke.group(1))
    assert "The app password is revoked" in done.text and "No app password yet" in done.text
    with pytest.raises(NotAuthenticatedError):
        app_passwords.authenticate_app_password(rt, OWNER, secret.group(1))


def _vcards(count: int) -> bytes:
    return "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nTEL:+86137{i:08d}\r\nEND:VCARD\r\n"
        for i in range(count)
    ).encode()


def _csv(count: int) -> bytes:
    return ("name,phone\n" + "".join(f"Person {i},+86137{i:08d}\n" for i in range(count))).encode()


@pytest.mark.parametrize(("filename", "contacts"), [("a.vcf", _vcards), ("a.csv", _csv)])
def test_an_upload_of_more_people_than_one_request_may_invite_is_refused(
    make_client: Callable[..., TestClient],
    outbox: Path,
    filename: str,
    contacts: Callable[[int], bytes],
) -> None:
    owner = Visitor(make_client(max_invitees_per_request=3), outbox)
    owner.sign_in(OWNER)
    for count, status in ((4, 422), (3, 200)):
        owner.get("/books/new")
        upload = {"file": (filename, contacts(count), "text/plain")}
        response = owner.post("/books/new", {"title": "Many"}, files=upload)
        assert response.status_code == status, response.text
        assert ("This file holds more than 3 people" in response.text) is (status == 422)
        assert ("Person 0" in response.text) is (status == 200)


def test_picking_more_people_than_one_request_may_invite_is_refused_on_the_page(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    owner = Visitor(make_client(max_invitees_per_request=2), outbox)
    owner.sign_in(OWNER)
    picked = {
        "phone": [RED, BLUE, PLAIN],
        "person": ["Red", "Blue", "Plain"],
        "tags": ["", "", ""],
        "pick": ["0", "1", "2"],
    }
    too_many = owner.post("/books/new/create", {"title": "Many", **picked})
    assert too_many.status_code == 422, too_many.text
    assert "At most 2 people at once: pick fewer." in too_many.text
    made = owner.post("/books/new/create", {"title": "Few", "phone": [RED], "pick": ["0"]})
    book_id = re.search(r'href="/books/(b[^"/]+)"', made.text)
    assert made.status_code == 200 and book_id, made.text
    again = owner.post(f"/books/{book_id.group(1)}/invite/send", picked)
    assert again.status_code == 422, again.text
    assert "At most 2 people at once: pick fewer." in again.text


def test_the_book_page_offers_the_download_in_vcard_4_too(
    visitor: Callable[[], Visitor], people: Any
) -> None:
    owner, book_id = build(visitor, people)
    page = owner.get(f"/books/{book_id}").text
    three = owner.get(f"/books/{book_id}/export.vcf").text
    four = owner.get(f"/books/{book_id}/export.vcf", params={"version": "4.0"}).text
    wrong = owner.get(f"/books/{book_id}/export.vcf", params={"version": "2.1"})

    assert f'href="/books/{book_id}/export.vcf?version=4.0"' in page
    assert three.count("VERSION:3.0\r\n") == 4 and "VERSION:4.0" not in three
    assert four.count("VERSION:4.0\r\n") == 4 and "VERSION:3.0" not in four
    assert f"TEL;VALUE=uri;TYPE=cell:tel:{RED}\r\n" in four
    assert 400 <= wrong.status_code < 500


def test_a_form_over_the_body_limit_is_answered_with_a_page(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    browser = Visitor(make_client(max_body_bytes=4096), outbox)
    browser.sign_in(OWNER, "Owner Zhao")
    browser.get("/books/new")
    typed = browser.post("/books/new/create", {"title": "Big", "person": ["Somebody"] * 400})
    browser.get("/signin")

    def chunks() -> Any:
        for _ in range(10):
            yield b"phone=" + b"1" * 500

    form = {"content-type": "application/x-www-form-urlencoded"}
    streamed = browser.client.post("/signin", content=chunks(), headers=form)
    for response in (typed, streamed):
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "This is too much to send at once" in response.text
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    # Still signed in: the page offers the way back to the books, not to sign in.
    assert 'href="/books"' in typed.text
