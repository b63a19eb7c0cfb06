"""My consent record in real Chromium at phone size: from the footer to the records."""

from __future__ import annotations

from collections.abc import Callable

from circlebook.client import Client, Invitee
from tests.browser.phones import Phone

ME, FRIEND = "+8613800138710", "+8613800138711"


def test_the_footer_opens_my_consent_record_newest_first(
    phones: Callable[..., Phone], apps: Callable[[str, str], Client]
) -> None:
    me = phones()
    me.sign_in(ME, "Mei")
    friend = apps(FRIEND, "Fang")
    book = friend.create_book("Reunion", [Invitee(ME, "Mei", ("class",))]).book
    mine = apps(ME, "Mei")
    mine.accept(mine.inbox()[0].id)
    friend.rename_book(book.id, "Reunion 2026")

    me.page.goto("/books")
    me.page.get_by_role("link", name="My consent record").click()
    me.page.wait_for_url("**/ledger")

    me.page.get_by_role("heading", name="My consent record").wait_for()
    kinds = me.page.locator("#ledger .card .kind").all_inner_texts()
    assert kinds == ["The book was renamed", "You accepted", "You were invited"]
    cards = me.page.locator("#ledger .card")
    assert "Reunion 2026" in cards.nth(0).inner_text()
    assert "Tags: class" in cards.nth(2).inner_text()
    assert me.page.locator("#older").count() == 0
    # The hash shown is the one the API serves, for comparing with `circlebook ledger`.
    newest = mine.ledger().records[0]
    assert f"#3 {newest['hash'][:12]}" in cards.nth(0).inner_text()
