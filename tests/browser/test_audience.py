"""Who sees my number, in real Chromium at phone size: reached from the footer, as people do."""

from __future__ import annotations

from collections.abc import Callable

from circlebook.client import Client, Invitee
from tests.browser.phones import Phone

OWNER, ME, CHOIR, TEAM, PLAIN = (
    "+8613800138800",
    "+8613800138801",
    "+8613800138802",
    "+8613800138803",
    "+8613800138804",
)


def seers(me: Phone) -> list[tuple[str, str]]:
    """(name, badge) of each person the page lists; the badge is empty for a member."""
    rows = me.page.locator("[data-audience] .seers li")
    return [
        (row.locator(".name").inner_text(), " ".join(row.locator(".badge").all_inner_texts()))
        for row in rows.all()
    ]


def open_from_footer(me: Phone) -> None:
    me.page.locator("footer").get_by_role("link", name="Who sees my number").click()
    me.page.wait_for_url("**/audience")


def test_a_tagged_member_is_listed_as_seen_by_the_owner_and_its_tag_only(
    phones: Callable[..., Phone], apps: Callable[[str, str], Client]
) -> None:
    # Mei and Chen share "choir"; Lin is in "team"; Uma has no tag. By the visibility
    # rule Mei is seen by the owner and Chen, and by neither Lin nor Uma.
    owner = apps(OWNER, "Olga")
    book = owner.create_book(
        "Choir and team",
        [
            Invitee(ME, "Mei", ("choir",)),
            Invitee(CHOIR, "Chen", ("choir",)),
            Invitee(TEAM, "Lin", ("team",)),
            Invitee(PLAIN, "Uma"),
        ],
    ).book
    for phone, name in [(CHOIR, "Chen"), (TEAM, "Lin"), (PLAIN, "Uma")]:
        member = apps(phone, name)
        member.accept(member.inbox()[0].id)

    me = phones()
    me.sign_in(ME, "Mei")
    me.page.goto("/inbox")
    me.page.locator("li.card", has_text="Choir and team").get_by_role(
        "button", name="Accept"
    ).click()
    me.page.wait_for_url(f"**/books/{book.id}?done=accepted")

    open_from_footer(me)
    panels = me.page.locator("[data-audience]")
    assert panels.count() == 1
    assert panels.get_attribute("data-audience") == book.id
    assert panels.get_by_role("heading").inner_text() == "Choir and team"
    # The privacy claim first: neither another tag nor the untagged sees me.
    listed = panels.inner_text()
    assert "Lin" not in listed
    assert "Uma" not in listed
    assert seers(me) == [("Chen", ""), ("Olga", "Owner")]
    assert panels.locator(".muted").inner_text() == "Seen by 2 people"


def test_a_person_in_no_book_is_told_nobody_sees_their_number(
    phones: Callable[..., Phone],
) -> None:
    me = phones()
    me.sign_in(ME, "Mei")
    open_from_footer(me)
    assert me.page.locator("[data-audience]").count() == 0
    empty = me.page.locator("main .empty")
    assert empty.inner_text() == "You are in no book: nobody sees your number."
