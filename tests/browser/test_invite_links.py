"""Invitation links in real Chromium at phone size: sent from the owner's phone, answered without
an account, and people picked from the phone's own contacts."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from tests.browser.phones import Phone, code_for
from tests.browser.test_flow import create_book

OWNER, NEWCOMER, DECLINER = "+8613800138600", "+8613800138601", "+8613800138602"

# What the test provides at the browser's API boundary: Chrome on Android has a
# Contact Picker; desktop Chromium has none, so the page is given one here.
FAKE_PICKER = """
Object.defineProperty(navigator, "contacts", {
  configurable: true,
  value: {
    select: async (properties, options) => {
      window.pickerAsked = { properties, options };
      return [
        { name: ["Wang Fang"], tel: ["+86 138 0013 8611"] },
        { name: ["Zhao Lei"], tel: ["138 0013 8612", "010 1234 5678"] },
      ];
    },
  },
});
"""


def accounts_holding(database: Path, phone: str) -> int:
    with sqlite3.connect(database) as db:
        return int(
            db.execute("SELECT count(*) FROM accounts WHERE phone = ?", (phone,)).fetchone()[0]
        )


def invite(owner: Phone, *numbers: str) -> tuple[str, list[str]]:
    """A new book for `numbers`; its address, and each invitee's personal link."""
    statuses = create_book(owner, "Class of 2012", "\n".join(numbers), [""] * len(numbers))
    assert statuses == ["Invited"] * len(numbers)
    book = owner.page.get_by_role("link", name="Open the book").get_attribute("href")
    assert book
    links = [box.input_value() for box in owner.page.locator(".link-box").all()]
    return book, links


def test_the_outcome_page_texts_the_link_from_the_owners_phone_and_shows_its_qr_code(
    phones: Callable[..., Phone],
) -> None:
    owner = phones()
    owner.sign_in(OWNER, "Li Lei")
    _, links = invite(owner, NEWCOMER)
    share = owner.page.locator("[data-share]").first
    sms = share.get_by_role("link", name="Text the invitation")
    href = sms.get_attribute("href")
    assert href and href.startswith(f"sms:{NEWCOMER}?body=")
    body = unquote(href.split("?body=", 1)[1])
    assert "Li Lei邀请您加入" in body and body.endswith(links[0])
    assert sms.is_visible()
    qr = share.locator("svg.qr")
    assert not qr.is_visible()  # folded until asked for, to keep the list short
    share.get_by_text("Show a QR code to scan").click()
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 150 and box["width"] == box["height"]
    # The copy button is there once the script runs, and says when it copied.
    owner.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    share.get_by_role("button", name="Copy the link").click()
    share.get_by_role("button", name="Copied").wait_for()
    assert owner.page.evaluate("navigator.clipboard.readText()") == links[0]


def test_a_newcomer_opens_the_link_gets_a_code_joins_and_lands_signed_in_on_the_book(
    phones: Callable[..., Phone],
) -> None:
    owner, newcomer = phones(), phones()
    owner.sign_in(OWNER, "Li Lei")
    book, links = invite(owner, NEWCOMER)
    page = newcomer.page
    page.goto(links[0])
    assert "Li Lei (+86 138 0013 8600) invites you" in page.locator("main").inner_text()
    assert "+86 138 **** 8601" in page.locator("main").inner_text()
    before = len(newcomer.server.texts_to(NEWCOMER))
    page.get_by_role("button", name="Text me a code").click()
    page.wait_for_url("**step=code")
    page.locator("#code").fill(code_for(newcomer.server, NEWCOMER, after=before))
    page.locator("#name").fill("Meimei")
    page.get_by_role("button", name="Join the book").click()
    page.wait_for_url(f"**{book}?done=accepted")
    assert "You joined the book." in page.locator(".notice").inner_text()
    assert sorted(newcomer.entry_names()) == ["Li Lei", "Meimei"]
    assert "Signed in as +86 138 0013 8601" in page.locator("footer").inner_text()


def test_an_invitee_who_says_no_on_the_link_is_left_with_no_account(
    phones: Callable[..., Phone], tmp_path: Path
) -> None:
    owner, decliner = phones(), phones("zh-CN")
    owner.sign_in(OWNER, "Li Lei")
    _, links = invite(owner, DECLINER)
    page = decliner.page
    page.goto(links[0])
    before = len(decliner.server.texts_to(DECLINER))
    page.get_by_role("button", name="发送验证码").click()
    page.wait_for_url("**step=code")
    page.locator("#code").fill(code_for(decliner.server, DECLINER, after=before))
    page.get_by_role("button", name="不了，谢谢").click()  # noqa: RUF001
    assert page.locator("[data-answered='decline']").is_visible()
    assert accounts_holding(tmp_path / "circlebook.db", DECLINER) == 0
    assert not [c for c in page.context.cookies() if c["name"] == "circlebook_session"]
    page.goto(links[0])
    assert page.get_by_role("heading", name="此链接已失效").is_visible()


def test_people_picked_from_the_phones_contacts_go_to_the_pick_and_tag_step(
    phones: Callable[..., Phone],
) -> None:
    owner = phones()
    owner.page.add_init_script(FAKE_PICKER)
    owner.sign_in(OWNER, "Li Lei")
    page = owner.page
    page.goto("/books/new")
    page.get_by_label("Title", exact=True).fill("Picked")
    page.get_by_role("button", name="Pick from my contacts").click()
    page.get_by_role("heading", name="Pick people").wait_for()
    names = page.locator("#people .name").all_inner_texts()
    assert names == ["Wang Fang", "Zhao Lei"]
    assert page.locator("#people input[type=checkbox]:checked").count() == 2
    page.locator("#tags-0").fill("family")
    page.get_by_role("button", name="Create the book and invite").click()
    assert page.locator(".outcome .status").all_inner_texts() == ["Invited", "Invited"]


def test_the_picker_is_asked_for_names_and_numbers_of_several_people(
    phones: Callable[..., Phone],
) -> None:
    owner = phones()
    owner.page.add_init_script(FAKE_PICKER)
    owner.sign_in(OWNER, "Li Lei")
    page = owner.page
    page.goto("/books/new")
    # Without a title the form stays, so what the picker was asked can be read back.
    page.get_by_role("button", name="Pick from my contacts").click()
    page.wait_for_function("window.pickerAsked !== undefined")
    asked = page.evaluate("window.pickerAsked")
    assert asked == {"properties": ["name", "tel"], "options": {"multiple": True}}
    typed = page.locator("#numbers").input_value().splitlines()
    assert typed == ["Wang Fang +86 138 0013 8611", "Zhao Lei 138 0013 8612"]


def test_without_a_contact_picker_the_page_offers_the_file_and_typed_numbers(
    phones: Callable[..., Phone],
) -> None:
    owner = phones()
    owner.sign_in(OWNER, "Li Lei")
    book, _ = invite(owner, NEWCOMER)
    for path in ("/books/new", f"{book}/invite"):
        owner.page.goto(path)
        assert not owner.page.get_by_role("button", name="Pick from my contacts").is_visible()
        assert owner.page.locator("#file").is_visible()
        assert owner.page.locator("#numbers").is_visible()


def test_the_owner_invites_more_people_from_the_books_page_of_invitations(
    phones: Callable[..., Phone],
) -> None:
    owner = phones()
    owner.page.add_init_script(FAKE_PICKER)
    owner.sign_in(OWNER, "Li Lei")
    book, _ = invite(owner, NEWCOMER)
    page = owner.page
    page.goto(f"{book}/manage")
    page.get_by_role("link", name="Invite more people").click()
    page.get_by_role("button", name="Pick from my contacts").click()
    page.get_by_role("button", name="Invite them").click()
    statuses = page.locator(".outcome .status").all_inner_texts()
    assert statuses == ["Invited", "Invited"]
    page.goto(f"{book}/manage")
    waiting = page.locator("[data-pending-invitation]")
    assert waiting.count() == 3
    assert re.search(r"Wang Fang", page.locator("#waiting").inner_text())
