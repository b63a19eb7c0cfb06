"""The invitation link's page, the owner's ways to send it, and inviting more people, on the web."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.e2e.test_invite_links import counts, rows_holding
from tests.e2e.web import Visitor, last_code_any

OWNER, NEWCOMER, MEMBER, OTHER = (
    "+8613800138501",
    "+8613800138502",
    "+8613800138503",
    "+8613800138504",
)


@pytest.fixture
def visitor(make_client: Callable[..., TestClient], outbox: Path) -> Callable[[], Visitor]:
    return lambda: Visitor(make_client(), outbox)


def create(owner: Visitor, *phones: str, names: tuple[str, ...] = ()) -> tuple[str, str]:
    """A book made on the web; its id, and the outcome page."""
    people = list(phones)
    response = owner.post(
        "/books/new/create",
        {
            "title": "Class of 2012",
            "phone": people,
            "person": list(names) + [""] * (len(people) - len(names)),
            "tags": [""] * len(people),
            "pick": [str(i) for i in range(len(people))],
        },
    )
    assert response.status_code == 200, response.text
    found = re.search(r'href="/books/(b[^"/]+)"', response.text)
    assert found
    return found.group(1), response.text


def links_on(page: str) -> list[str]:
    return [
        html.unescape(u) for u in re.findall(r'class="link-box" readonly value="([^"]+)"', page)
    ]


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1")


def test_the_outcome_page_offers_a_text_a_link_and_a_qr_code_per_invitee(
    visitor: Callable[[], Visitor],
) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    _, page = create(owner, NEWCOMER, "+12015550123", names=("Meimei",))
    links = links_on(page)
    assert len(links) == 2 and all(u.startswith("http://127.0.0.1/i/") for u in links)
    sms = [html.unescape(u) for u in re.findall(r'href="(sms:[^"]+)"', page)]
    assert len(sms) == 2
    number, body = sms[0].removeprefix("sms:").split("?body=")
    assert number == NEWCOMER
    # A +86 number is asked in Chinese, with its own link.
    assert unquote(body).endswith(links[0]) and "邀请您加入" in unquote(body)
    assert unquote(sms[1].split("?body=")[1]).startswith('Li Lei invites you to "Class of 2012"')
    svgs = re.findall(r"<svg[^>]*class=\"qr\".*?</svg>", page, re.S)
    assert len(svgs) == 2
    # The QR code is drawn from the link itself: the same modules segno draws for it.
    expected = segno.make(links[0], error="m").svg_inline(scale=4, omitsize=True, svgclass="qr")
    assert svgs[0] == expected


def test_the_owners_pending_list_offers_the_same_link_again(
    visitor: Callable[[], Visitor],
) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    book_id, page = create(owner, NEWCOMER)
    manage = owner.get(f"/books/{book_id}/manage").text
    assert links_on(manage) == links_on(page)
    assert f'href="sms:{NEWCOMER}?body=' in manage
    assert 'class="qr"' in manage


def test_a_newcomer_accepts_through_the_link_page_and_lands_signed_in_on_the_book(
    visitor: Callable[[], Visitor], outbox: Path
) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    book_id, page = create(owner, NEWCOMER, names=("Meimei",))
    link = path_of(links_on(page)[0])
    guest = visitor()
    opened = guest.get(link)
    assert opened.status_code == 200
    text = html.unescape(opened.text)
    assert "Class of 2012" in text and "Li Lei" in text and "+86 138 **** 8502" in text
    assert NEWCOMER not in text  # the page shows the invited number masked only
    sent = guest.post(f"{link}/code")
    assert sent.status_code == 200 and sent.url.path == link and "step=code" in str(sent.url)
    code = last_code_any(outbox, NEWCOMER)
    joined = guest.post(f"{link}/answer", {"code": code, "name": "", "answer": "accept"})
    assert joined.status_code == 200, joined.text
    assert joined.url.path == f"/books/{book_id}"
    assert "You joined the book." in joined.text
    assert re.findall(r'class="name">([^<]+)<', joined.text) == ["Li Lei", "Meimei"]
    assert guest.get("/books").url.path == "/books"  # signed in: no detour to /signin
    assert guest.get(link).status_code == 404  # the link has done its work


@pytest.mark.parametrize("answer", ["decline", "stop"])
def test_saying_no_on_the_link_page_leaves_no_account_or_row_behind(
    visitor: Callable[[], Visitor], outbox: Path, engine: Engine, answer: str
) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    book_id, page = create(owner, NEWCOMER, names=("Secret Meimei",))
    link = path_of(links_on(page)[0])
    before = counts(engine, "accounts", "sessions")
    guest = visitor()
    guest.get(link)
    guest.post(f"{link}/code")
    code = last_code_any(outbox, NEWCOMER)
    said = guest.post(f"{link}/answer", {"code": code, "answer": answer})
    assert said.status_code == 200, said.text
    assert f'data-answered="{answer}"' in said.text
    assert counts(engine, "accounts", "sessions") == before
    national = NEWCOMER.removeprefix("+86")
    assert rows_holding(engine, NEWCOMER, national, "Secret Meimei") == []
    assert "circlebook_session" not in guest.client.cookies
    assert guest.get(link).status_code == 404
    assert links_on(owner.get(f"/books/{book_id}/manage").text) == []


def test_a_wrong_code_on_the_link_page_is_said_beside_the_field(
    visitor: Callable[[], Visitor], outbox: Path
) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    _, page = create(owner, NEWCOMER)
    link = path_of(links_on(page)[0])
    guest = visitor()
    guest.get(link)
    guest.post(f"{link}/code")
    right = last_code_any(outbox, NEWCOMER)
    wrong = "000000" if right != "000000" else "111111"
    for code in (wrong, "12ab", ""):
        said = guest.post(f"{link}/answer", {"code": code, "answer": "accept"})
        assert said.status_code == 422, said.text
        assert 'id="code-error"' in said.text or 'role="alert"' in said.text
    # Another number's code does not open the link either.
    other = visitor()
    other.sign_in(OTHER)
    theirs = last_code_any(outbox, OTHER)
    assert guest.post(f"{link}/answer", {"code": theirs, "answer": "accept"}).status_code != 200


def test_unknown_links_get_a_friendly_page_and_every_bad_form_a_clear_4xx(
    visitor: Callable[[], Visitor],
) -> None:
    guest = visitor()
    for token in ["x" * 32, "short", "a" * 300, "%00%ff", "%E4%BD%A0" * 11]:
        page = guest.get(f"/i/{token}")
        assert page.status_code == 404, token
        assert "This link no longer works" in page.text
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    _, outcome = create(owner, NEWCOMER)
    link = path_of(links_on(outcome)[0])
    guest.get(link)
    for data in [{"answer": "maybe"}, {"answer": "accept", "code": "1" * 5000}, {}]:
        response = guest.post(f"{link}/answer", data)
        assert 400 <= response.status_code < 500, (data, response.text)
    # Without the form's token the post is refused, and nothing is texted.
    stranger = visitor()
    assert stranger.client.post(f"{link}/code", data={}).status_code == 403


def test_the_link_page_speaks_chinese(visitor: Callable[[], Visitor]) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    _, outcome = create(owner, NEWCOMER)
    link = path_of(links_on(outcome)[0])
    page = visitor().get(link, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text
    assert "Text me a code" not in page.text
    gone = visitor().get("/i/" + "x" * 32, headers={"Accept-Language": "zh-CN"})
    assert "This link no longer works" not in gone.text


def test_the_owner_invites_more_people_to_a_book_on_the_web(
    visitor: Callable[[], Visitor], people: Any
) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    book_id, _ = create(owner, NEWCOMER)
    form = owner.get(f"/books/{book_id}/invite")
    assert form.status_code == 200 and "data-contact-picker" in form.text
    picked = owner.post(f"/books/{book_id}/invite", {"numbers": f"Zhang Wei {MEMBER}\n{NEWCOMER}"})
    assert picked.status_code == 200, picked.text
    assert f'action="/books/{book_id}/invite/send"' in picked.text
    assert 'name="title"' not in picked.text
    sent = owner.post(
        f"/books/{book_id}/invite/send",
        {
            "phone": [MEMBER, NEWCOMER],
            "person": ["Zhang Wei", ""],
            "tags": ["class", ""],
            "pick": ["0", "1"],
        },
    )
    assert sent.status_code == 200, sent.text
    assert re.findall(r'data-status="(\w+)"', sent.text) == ["invited", "already_invited"]
    assert len(links_on(sent.text)) == 1
    pending = owner.get(f"/books/{book_id}/manage").text
    assert len(links_on(pending)) == 2
    # The invitee sees it as any invitation.
    member = people(MEMBER)
    assert member.invitation_to(book_id)


def test_only_the_owner_may_invite_more_people(visitor: Callable[[], Visitor], people: Any) -> None:
    owner = visitor()
    owner.sign_in(OWNER, "Li Lei")
    book_id, _ = create(owner, MEMBER)
    people(MEMBER).accept(book_id)
    member = visitor()
    member.sign_in(MEMBER)
    assert member.get(f"/books/{book_id}/invite").status_code == 403
    member.get("/books")
    refused = member.post(
        f"/books/{book_id}/invite/send",
        {"phone": [OTHER], "person": [""], "tags": [""], "pick": ["0"]},
    )
    assert refused.status_code == 403
    stranger = visitor()
    stranger.sign_in(OTHER)
    assert stranger.get(f"/books/{book_id}/invite").status_code == 404


def test_a_person_turns_invitations_to_their_number_off_and_on_again(
    visitor: Callable[[], Visitor], people: Any
) -> None:
    me = visitor()
    me.sign_in(MEMBER)
    assert "Refuse all invitations to my number" in me.get("/inbox").text
    off = me.post("/inbox/do-not-invite", {"invitations_off": "yes"})
    assert off.status_code == 200 and "Nobody can invite your number any more." in off.text
    assert "Let people invite me again" in off.text
    owner = people(OWNER, "Li Lei")
    response = owner.post("/v1/books", json={"title": "T", "invitees": [{"phone": MEMBER}]})
    assert response.json()["outcomes"][0]["status"] == "opted_out"
    on = me.post("/inbox/do-not-invite", {"invitations_off": "no"})
    assert "People can invite your number again." in on.text
    response = owner.post("/v1/books", json={"title": "T2", "invitees": [{"phone": MEMBER}]})
    assert response.json()["outcomes"][0]["status"] == "invited"
