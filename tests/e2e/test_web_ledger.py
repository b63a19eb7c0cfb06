"""The "My consent record" page: the ledger, newest first, in pages, in English and Chinese."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.e2e.dav import book_with
from tests.e2e.web import Visitor, readable_text

OWNER, ME = "+8613700137501", "+8613700137502"


def test_the_footer_leads_to_my_record_newest_first(
    make_client: Callable[..., TestClient], outbox: Path, people: Any
) -> None:
    owner = people(OWNER, "Olga")
    browser = Visitor(make_client(), outbox)
    browser.sign_in(ME, "Mei")
    me = people(ME)
    book_id, _ = book_with(owner, "Reunion", [(me, ["red"])])
    owner.patch(f"/v1/books/{book_id}", json={"title": "Reunion 2026"})

    assert 'href="/ledger"' in browser.get("/books").text
    page = browser.get("/ledger")

    assert page.status_code == 200
    text = readable_text(page.text)
    assert "My consent record" in text
    kinds = [k for k in ("The book was renamed", "You accepted", "You were invited") if k in text]
    assert kinds == ["The book was renamed", "You accepted", "You were invited"]
    assert text.index("The book was renamed") < text.index("You accepted")
    assert text.index("You accepted") < text.index("You were invited")
    assert "From “Reunion” to “Reunion 2026”" in text
    assert "Tags: red" in text
    assert 'id="older"' not in page.text


def test_a_long_record_pages_to_older_records(
    make_client: Callable[..., TestClient], outbox: Path, people: Any
) -> None:
    owner = people(OWNER, "Olga")
    browser = Visitor(make_client(), outbox)
    browser.sign_in(ME, "Mei")
    me = people(ME)
    for n in range(26):  # 52 records: one more page than the 50 shown
        book_with(owner, f"Book {n}", [(me, [])])

    first = browser.get("/ledger")
    assert first.text.count('class="card"') == 50
    assert 'data-seq="52"' in first.text and 'data-seq="3"' in first.text
    assert 'href="/ledger?after=3"' in first.text
    older = browser.get("/ledger?after=3")
    assert older.text.count('class="card"') == 2
    assert 'data-seq="1"' in older.text and 'id="older"' not in older.text
    refused = browser.get("/ledger?after=nope")
    assert refused.status_code == 400  # the pages' status for a bad value in a link


def test_the_record_speaks_chinese(
    make_client: Callable[..., TestClient], outbox: Path, people: Any
) -> None:
    zh = {"accept-language": "zh-CN,zh;q=0.9"}
    owner = people(OWNER, "Olga")
    browser = Visitor(make_client(), outbox)
    browser.sign_in(ME, "Mei", **zh)
    book_with(owner, "同学会", [(people(ME), [])])
    text = readable_text(browser.get("/ledger", headers=zh).text)
    assert "我的同意记录" in text and "您被邀请" in text and "您已接受" in text


def test_an_empty_record_says_so(make_client: Callable[..., TestClient], outbox: Path) -> None:
    browser = Visitor(make_client(), outbox)
    browser.sign_in(ME, "Mei")
    assert "Nothing recorded yet." in browser.get("/ledger").text
    stranger = Visitor(make_client(), outbox)
    assert stranger.get("/ledger").url.path == "/signin"
