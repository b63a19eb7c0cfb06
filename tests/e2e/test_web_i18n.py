"""The pages in Simplified Chinese and English: a complete catalog, and no message left behind."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from circlebook.web import catalog, i18n
from tests.e2e.web import Visitor, readable_text

ZH = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"accept-language": "en-US,en;q=0.9,zh;q=0.5"}
OWNER, MEMBER, WAITING, GUEST = (
    "+8613600136000",
    "+8613600136001",
    "+8613600136002",
    "+8613600136003",
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
SECRET = re.compile(r'<code id="new-password">[^<]*</code>')
# English that may stand on a Chinese page: the name, the other language's own
# name, and technical words shown as they are.
ALLOWED_LATIN = {
    "circlebook",
    "English",
    "CardDAV",
    "vCard",
    "CSV",
    "vcf",
    "http",
    "well",
    "known",
    "carddav",
}


def english_messages() -> list[str]:
    """Every English fragment the pages can show: the catalog's msgids, split at placeholders."""
    fragments = set()
    for message in catalog.extract():
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for part in PLACEHOLDER.split(text):
                part = part.strip(" .,:;()?!")
                if re.search(r"[A-Za-z]{2}", part):
                    fragments.add(part)
    return sorted(fragments, key=len, reverse=True)


def test_the_catalog_translates_every_message_of_the_pages() -> None:
    assert len(list(catalog.extract())) > 100  # the extraction found the templates and code
    assert catalog.untranslated("zh-Hans") == []


def test_the_committed_template_lists_every_message() -> None:
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as handle:
        committed = {m.id for m in read_po(handle) if m.id}
    assert committed == {m.id for m in catalog.extract() if m.id}, (
        "run python -m circlebook.web.catalog"
    )


@pytest.fixture
def pages(make_client: Callable[..., TestClient], outbox: Path) -> Callable[..., Any]:
    """pages(headers) renders every page for one language, as the people who see them."""

    def _render(headers: dict[str, str]) -> dict[str, str]:
        def visitor() -> Visitor:
            person = Visitor(make_client(), outbox)
            person.client.headers.update(headers)
            return person

        stranger = visitor()
        shown = {"sign in": stranger.get("/signin").text}
        shown["bad number"] = stranger.post("/signin", {"phone": "12"}).text
        owner, member, waiting = visitor(), visitor(), visitor()
        owner.sign_in(OWNER, "赵老师")
        member.sign_in(MEMBER, "钱红")
        waiting.sign_in(WAITING, "孙明")
        shown["code"] = stranger.post("/signin", {"phone": GUEST}).text
        shown["wrong code"] = stranger.post("/signin/code", {"phone": GUEST, "code": "1"}).text
        shown["new book"] = owner.get("/books/new").text
        shown["pick"] = owner.post("/books/new", {"title": "二班", "numbers": MEMBER}).text
        created = owner.post(
            "/books/new/create",
            {
                "title": "二班",
                "phone": [MEMBER, WAITING, "12"],
                "person": ["钱红", "孙明", "错号"],
                "tags": ["红队", "", ""],
                "pick": ["0", "1", "2"],
            },
        )
        shown["created"] = created.text
        book = re.search(r'href="/books/(b[^"/]+)"', created.text)
        assert book
        shown["inbox"] = member.get("/inbox").text
        shown["joined"] = member.post(f"/inbox/{inbox_id(shown['inbox'])}/accept").text
        shown["books"] = member.get("/books").text
        shown["book"] = owner.get(f"/books/{book.group(1)}").text
        shown["search"] = member.get(f"/books/{book.group(1)}", params={"q": "无人"}).text
        shown["manage"] = owner.get(f"/books/{book.group(1)}/manage").text
        shown["not found"] = member.get("/books/b_nothing").text
        shown["refused"] = member.get(f"/books/{book.group(1)}/manage").text
        shown["csrf"] = member.client.post("/books/new", data={}).text
        shown["devices"] = member.get("/devices").text
        shown["device made"] = member.post("/devices", {"label": "钱红的手机"}).text
        shown["signed out"] = member.post("/signout").text
        return shown

    return _render


def inbox_id(page: str) -> str:
    found = re.search(r'action="/inbox/([^/]+)/accept"', page)
    assert found
    return found.group(1)


def test_every_page_reads_in_chinese_with_no_english_message_left(pages: Any) -> None:
    messages = english_messages()
    for name, html in pages(ZH).items():
        assert '<html lang="zh-Hans">' in html, name
        text = readable_text(SECRET.sub("", html))  # a new app password is random letters
        left = [m for m in messages if re.search(rf"(?<![A-Za-z]){re.escape(m)}(?![A-Za-z])", text)]
        assert left == [], f"{name}: {left}"
        latin = set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED_LATIN
        assert latin == set(), f"{name}: {latin}"


def test_every_page_reads_in_english_with_no_chinese_but_the_peoples_own(pages: Any) -> None:
    data = {"钱红的手机", "赵老师", "钱红", "孙明", "二班", "红队", "错号", "无人", "简体中文"}
    for name, html in pages(EN).items():
        assert '<html lang="en">' in html, name
        text = readable_text(html)
        for word in sorted(data, key=len, reverse=True):  # "钱红的手机" before "钱红"
            text = text.replace(word, "")
        assert re.findall(r"[\u4e00-\u9fff]+", text) == [], name


def test_the_language_switch_outranks_the_browser_and_is_remembered(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    person = Visitor(make_client(), outbox)
    person.client.headers.update(EN)
    assert "<h1>Sign in</h1>" in person.get("/signin").text
    switched = person.post("/language", {"lang": "zh-Hans", "next": "/signin?next=%2Finbox"})
    assert switched.url.path == "/signin" and switched.url.query == b"next=%2Finbox"
    assert "<h1>登录</h1>" in switched.text
    assert "<h1>登录</h1>" in person.get("/signin").text
    back = person.post("/language", {"lang": "en", "next": "https://elsewhere.example/"})
    assert back.url.path == "/signin"  # by way of /, never the other site
    assert "<h1>Sign in</h1>" in back.text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("zh-TW", "zh-Hans"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9", "en"),
        ("fr;q=1, zh;q=0.5, en;q=0.4", "zh-Hans"),
        ("en;q=0, zh-Hans;q=0.1", "zh-Hans"),
        ("", "en"),
        ("zh;q=nonsense, en", "en"),
    ],
)
def test_the_browsers_languages_choose_the_page_language(header: str, language: str) -> None:
    assert i18n.from_accept_language(header) == language
