"""An owner and an invitee, each at a phone, play the whole consent flow in real Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable

from circlebook.client import Client
from tests.browser.phones import Phone

OWNER, MEIMEI, HAN, LILY = "+8613800138000", "+8613800138001", "+8613800138002", "+8613800138003"


def create_book(owner: Phone, title: str, people: str, tags: list[str]) -> list[str]:
    """Through the two steps of the create page; the statuses it reports afterwards."""
    page = owner.page
    page.goto("/books/new")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Or type numbers, one person a line").fill(people)
    page.get_by_role("button", name="Next: pick people").click()
    for i, tag in enumerate(tags):
        page.locator(f"#tags-{i}").fill(tag)
    page.get_by_role("button", name="Create the book and invite").click()
    # The click only starts the form's submission: wait for the page it leads to,
    # or a loaded machine reads the statuses off the old page (none).
    if people.strip():
        page.locator(".outcome .status").first.wait_for()
    page.wait_for_load_state()
    statuses: list[str] = page.locator(".outcome .status").all_inner_texts()
    return statuses


def wait_for_names(phone: Phone, names: set[str]) -> None:
    phone.page.wait_for_function(
        """names => {
            const shown = [...document.querySelectorAll('#entries li:not([hidden]) .name')]
                .map(e => e.textContent.trim()).sort();
            return JSON.stringify(shown) === JSON.stringify(names);
        }""",
        arg=sorted(names),
    )


def test_owner_and_invitee_play_the_whole_flow_at_phone_size(
    phones: Callable[..., Phone], apps: Callable[[str, str], Client]
) -> None:
    owner, meimei = phones(), phones()
    owner.page.on("dialog", lambda dialog: dialog.accept())
    owner.sign_in(OWNER, "Li Lei")
    meimei.sign_in(MEIMEI, "Meimei")
    meimei.go_live("/inbox")
    assert "No invitation is waiting" in meimei.page.locator("#invitations").inner_text()

    # The owner picks three people, tags two "team" and one "class", then asks once more.
    statuses = create_book(
        owner,
        "Class of 2012",
        "Meimei 138 0013 8001\nHan 13800138002\nLily +86 138 0013 8003",
        ["team", "class", "team"],
    )
    assert statuses == ["Invited", "Invited", "Invited"]
    class_id = owner.page.get_by_role("link", name="Open the book").get_attribute("href")
    assert create_book(owner, "Dinner", "Meimei 13800138001", [""]) == ["Invited"]
    dinner_id = owner.page.get_by_role("link", name="Open the book").get_attribute("href")

    # Both invitations reach the invitee's open inbox by themselves.
    meimei.page.locator("[data-invitation]").nth(1).wait_for()
    assert meimei.was_not_reloaded()
    assert meimei.page.locator("nav [data-pending]").inner_text() == "2"
    card = meimei.page.locator("li.card", has_text="Dinner")
    assert "Li Lei (+86 138 0013 8000) invites you" in card.inner_text()

    # One tap declines; one tap (with the name to show, filled in) accepts.
    card.get_by_role("button", name="Decline").click()
    assert "You declined" in meimei.page.locator(".notice").inner_text()
    card = meimei.page.locator("li.card", has_text="Class of 2012")
    assert card.get_by_label("Your name in this book").input_value() == "Meimei"
    card.get_by_role("button", name="Accept").click()
    meimei.page.wait_for_url(f"**{class_id}?done=accepted")

    # Han (tag "class") and Lily (tag "team") accept from their own apps while the
    # invitee looks at the book: Lily appears there without a reload, Han never does.
    meimei.go_live(str(class_id))
    wait_for_names(meimei, {"Li Lei", "Meimei"})
    han, lily = apps(HAN, "Han"), apps(LILY, "Lily")
    han.accept(han.inbox()[0].id)
    lily.accept(lily.inbox()[0].id)
    wait_for_names(meimei, {"Li Lei", "Meimei", "Lily"})
    assert meimei.was_not_reloaded()
    assert HAN.removeprefix("+") not in meimei.page.content()

    # Search filters as one types, and the same search works as a plain form.
    meimei.page.get_by_label("Search by name or number").fill("lil")
    wait_for_names(meimei, {"Lily"})
    meimei.page.get_by_label("Search by name or number").fill("0013 8000")
    wait_for_names(meimei, {"Li Lei"})
    meimei.page.get_by_label("Search by name or number").fill("")

    # The owner gives Han the tag "team": he appears on the invitee's page by itself.
    owner.page.goto(f"{class_id}/manage")
    owner.page.get_by_label("Tags of Han").fill("team")
    owner.page.locator("li.card", has_text="Han").get_by_role("button", name="Save tags").click()
    assert "The tags are saved" in owner.page.locator(".notice").inner_text()
    wait_for_names(meimei, {"Li Lei", "Meimei", "Lily", "Han"})

    # The owner removes Lily: she leaves the invitee's page by itself.
    owner.page.locator("li.card", has_text="Lily").get_by_role("button", name="Remove").click()
    assert "The member is removed" in owner.page.locator(".notice").inner_text()
    wait_for_names(meimei, {"Li Lei", "Meimei", "Han"})
    assert meimei.was_not_reloaded()

    # The declined invitation left nothing waiting in the other book.
    owner.page.goto(f"{dinner_id}/manage")
    assert "Nobody has an unanswered invitation" in owner.page.locator("#waiting").inner_text()

    # Removed from the book, the invitee's open page says the book is no longer hers.
    owner.page.goto(f"{class_id}/manage")
    owner.page.locator("li.card", has_text="Meimei").get_by_role("button", name="Remove").click()
    meimei.page.get_by_role("heading", name="Sorry").wait_for()
    assert re.search("you are not in this book", meimei.page.locator(".error").inner_text())
