"""Screenshots of the main pages at phone size, for the README: python -m tests.browser.screenshots

Starts a throwaway server, plays a small story in Debian's Chromium and writes
docs/screenshots/*.png. The Chinese pages need a CJK font (apt-get install fonts-noto-cjk).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from circlebook.client import Invitee
from tests.browser.phones import Phone, api_person, launch
from tests.e2e.live import Server, live_server

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
OWNER, MEI, LEI, HAN, BAD = (
    "+8613800138000",
    "+8613800138001",
    "+8613800138002",
    "+8613800138003",
    "+8613800138004",
)
PEOPLE = "Meimei 138 0013 8001\nLei Zhang 138 0013 8002\nHan Yu 138 0013 8003\nTypo 1380013"


def phone(browser: Any, server: Server, locale: str) -> Phone:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        base_url=server.url,
    )
    return Phone(context.new_page(), server)


def shoot(person: Phone, name: str) -> None:
    person.page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    print(f"wrote docs/screenshots/{name}.png", file=sys.stderr)


def story(browser: Any, server: Server) -> None:
    owner = phone(browser, server, "en-US")
    owner.page.goto("/signin")
    shoot(owner, "signin")
    owner.sign_in(OWNER, "Li Lei")

    page = owner.page
    page.goto("/books/new")
    page.locator("#title").fill("Class of 2012")
    page.locator("#numbers").fill(PEOPLE)
    page.locator("form[action='/books/new'] button.primary").click()
    page.locator("#tags-0").fill("team")
    page.locator("#tags-1").fill("team")
    page.locator("#tags-2").fill("class")
    page.locator("#filter").fill("138")
    shoot(owner, "pick")
    page.locator("form[action='/books/new/create'] button.primary").click()
    page.locator(".outcomes").wait_for()
    shoot(owner, "create-outcomes")

    meimei = phone(browser, server, "en-US")
    meimei.sign_in(MEI, "Meimei")
    meimei.page.goto("/inbox")
    shoot(meimei, "inbox")
    meimei.page.locator("form[action$='/accept'] button").click()
    meimei.page.wait_for_url("**/books/**")
    lei = api_person(server, LEI, "Lei Zhang")
    lei.accept(lei.inbox()[0].id)
    owner_book = lei.books()[0].id

    page.goto("/books")
    shoot(owner, "books")
    page.goto(f"/books/{owner_book}")
    shoot(owner, "book")
    page.goto(f"/books/{owner_book}/manage")
    shoot(owner, "manage")

    # Han reads in Chinese and has an invitation waiting; the owner asks once more.
    han = phone(browser, server, "zh-CN")
    han.sign_in(HAN, "韩宇")
    dinner = api_person(server, "+8613800138009", "Wang Fang")
    dinner.create_book("周五聚餐", [Invitee(HAN, "韩宇")])
    han.page.goto("/inbox")
    shoot(han, "inbox-zh")
    han.page.locator("form[action$='/accept'] button").first.click()
    han.page.wait_for_url("**/books/**")
    shoot(han, "book-zh")
    for client in (lei, dinner):
        client.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        live_server(Path(folder)) as server,
        launch() as browser,
    ):
        story(browser, server)


if __name__ == "__main__":
    main()
