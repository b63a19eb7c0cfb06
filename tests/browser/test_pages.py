"""Pages in a real browser: languages, errors beside their fields, and reading without script."""

from __future__ import annotations

from collections.abc import Callable

from circlebook.client import Client, Invitee
from tests.browser.phones import Phone
from tests.e2e.live import Server

HAN, OWNER, LILY = "+8613500135001", "+8613500135000", "+8613500135002"


def test_a_chinese_phone_signs_in_in_chinese_and_may_switch_to_english(
    phones: Callable[..., Phone], server: Server
) -> None:
    han = phones("zh-CN")
    han.page.goto("/signin")
    assert han.page.locator("h1").inner_text() == "登录"
    han.sign_in(HAN)
    assert "验证码" in server.texts_to(HAN)[-1]
    assert han.page.locator("h1").inner_text() == "我的通讯录"
    han.page.get_by_role("button", name="English").click()
    assert han.page.locator("h1").inner_text() == "My books"
    han.page.reload()
    assert han.page.locator("h1").inner_text() == "My books"
    assert han.page.locator("html").get_attribute("lang") == "en"


def test_a_wrong_code_is_told_beside_the_code_field(
    phones: Callable[..., Phone], server: Server
) -> None:
    person = phones()
    person.page.goto("/signin")
    person.page.get_by_label("Mobile number").fill("13500135001")
    person.page.get_by_role("button", name="Text me a code").click()
    code = person.page.get_by_label("Code", exact=True)
    code.fill("000000")
    person.page.get_by_role("button", name="Sign in").click()
    error = person.page.locator("#code-error")
    assert error.inner_text().startswith("This code is wrong or has expired.")
    code = person.page.get_by_label("Code", exact=True)
    assert code.get_attribute("aria-invalid") == "true"
    assert code.get_attribute("aria-describedby") == "code-error"
    assert person.page.get_by_label("Mobile number").count() == 0  # the error is not elsewhere


def test_a_book_reads_and_searches_without_javascript(
    phones: Callable[..., Phone], apps: Callable[[str, str], Client]
) -> None:
    owner = apps(OWNER, "Zhao Lei")
    book = owner.create_book("Plain", [Invitee(HAN, "Han")]).book
    reader = phones(javascript=False)
    reader.sign_in(HAN, "Han Mei")
    reader.page.goto("/inbox")
    reader.page.get_by_role("button", name="Accept").click()
    reader.page.wait_for_url(f"**/books/{book.id}?done=accepted")
    assert sorted(reader.page.locator("#entries .name").all_inner_texts()) == ["Han", "Zhao Lei"]
    call = reader.page.get_by_role("link", name="Call Zhao Lei")
    assert call.get_attribute("href") == f"tel:{OWNER}"
    assert reader.page.get_by_role("link", name="Text Zhao Lei").get_attribute("href") == (
        f"sms:{OWNER}"
    )
    reader.page.get_by_label("Search by name or number").fill("zhao")
    reader.page.get_by_role("button", name="Search").click()
    reader.page.wait_for_url("**q=zhao")
    assert reader.page.locator("#entries .name").all_inner_texts() == ["Zhao Lei"]


def test_a_live_update_leaves_a_field_being_edited_alone(
    phones: Callable[..., Phone], apps: Callable[[str, str], Client]
) -> None:
    owner = phones()
    owner.sign_in(OWNER, "Zhao Lei")
    book = (
        apps(OWNER, "Zhao Lei")
        .create_book("Edits", [Invitee(HAN, "Han", ("class",)), Invitee(LILY, "Lily")])
        .book
    )
    han = apps(HAN, "Han")
    han.accept(han.inbox()[0].id)
    owner.go_live(f"/books/{book.id}/manage")
    refreshes = owner.page.evaluate("document.documentElement.dataset.refreshes")
    owner.page.get_by_label("Tags of Han").fill("team")
    owner.page.locator("h1").click()  # the field loses focus, its edit not yet sent

    lily = apps(LILY, "Lily")
    lily.accept(lily.inbox()[0].id)
    # The list of invitations catches up; the members' list, being edited, waits.
    owner.page.locator("#waiting", has_text="Nobody has an unanswered invitation").wait_for()
    assert owner.page.evaluate("document.documentElement.dataset.refreshes") != refreshes
    assert owner.page.get_by_label("Tags of Han").input_value() == "team"
    owner.page.locator("li.card", has_text="Han").get_by_role("button", name="Save tags").click()
    assert "The tags are saved" in owner.page.locator(".notice").inner_text()
    assert owner.page.get_by_label("Tags of Han").input_value() == "team"
    assert owner.page.get_by_label("Tags of Lily").input_value() == ""
