"""My data in real Chromium at phone size: the download, and deleting the account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from circlebook.client import Client, Invitee
from tests.browser.phones import Phone

ME, FRIEND = "+8613800138700", "+8613800138701"


def test_download_my_data_saves_a_json_file_holding_my_account(
    phones: Callable[..., Phone], tmp_path: Path
) -> None:
    me = phones()
    me.sign_in(ME, "Mei")
    me.page.get_by_role("link", name="My data").click()
    me.page.wait_for_url("**/me")
    with me.page.expect_download() as started:
        me.page.get_by_role("link", name="Download my data").click()
    download = started.value
    assert download.suggested_filename.startswith("circlebook-export-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document = json.loads(saved.read_text())
    assert (document["account"]["phone"], document["account"]["name"]) == (ME, "Mei")


def test_the_delete_page_refuses_a_wrong_number_and_deletes_with_mine(
    phones: Callable[..., Phone], apps: Callable[[str, str], Client]
) -> None:
    me = phones()
    me.sign_in(ME, "Mei")
    friend = apps(FRIEND, "Fang")
    book = friend.create_book("Club", [Invitee(ME, "Mei")]).book
    me.page.goto("/me")
    me.page.get_by_role("link", name="Delete my account").click()
    me.page.wait_for_url("**/me/delete")
    field = me.page.get_by_label("Type your phone number to confirm")
    field.fill(FRIEND)
    me.page.get_by_role("button", name="Delete my account").click()
    me.page.get_by_text("This is not your number").wait_for()
    assert me.page.url.endswith("/me/delete")
    me.page.get_by_label("Type your phone number to confirm").fill("138 0013 8700")
    me.page.get_by_role("button", name="Delete my account").click()
    me.page.wait_for_url("**/signin**")
    me.page.get_by_text("Your account is deleted").wait_for()
    me.page.goto("/books")
    me.page.wait_for_url("**/signin**")
    # The invitation to my number went with the account; the friend's book stays.
    assert friend.pending_invitations(book.id) == []
    assert [b.title for b in friend.books()] == ["Club"]
