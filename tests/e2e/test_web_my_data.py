"""The "My data" pages: download everything, or delete the account with a typed number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tests.e2e.web import Visitor

ME = "+8613700137401"


def test_my_data_page_downloads_the_export_with_the_session_cookie(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    browser = Visitor(make_client(), outbox)
    browser.sign_in(ME, "Mei")
    assert 'href="/me"' in browser.get("/books").text
    page = browser.get("/me")
    assert page.status_code == 200
    assert 'href="/me/export"' in page.text and 'href="/me/delete"' in page.text
    download = browser.get("/me/export")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    assert download.json()["account"]["phone"] == ME


def test_the_delete_page_refuses_another_number_and_deletes_with_mine(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    browser = Visitor(make_client(), outbox)
    browser.sign_in(ME, "Mei")
    browser.get("/me/delete")
    refused = browser.post("/me/delete", {"confirm": "+8613700137402"})
    assert refused.status_code == 422
    assert "This is not your number" in refused.text
    assert browser.get("/books").url.path == "/books"  # still signed in
    forged = browser.client.post("/me/delete", data={"confirm": ME, "csrf": "wrong"})
    assert forged.status_code == 403
    done = browser.post("/me/delete", {"confirm": ME})
    assert done.url.path == "/signin"
    assert "Your account is deleted" in done.text
    assert "circlebook_session" not in browser.client.cookies
    assert browser.get("/books").url.path == "/signin"
