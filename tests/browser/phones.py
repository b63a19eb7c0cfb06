"""A person at a phone: a Playwright page with the steps people take on circlebook's pages."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from circlebook.client import Client
from tests.e2e.live import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CODE = re.compile(r"\b(\d{6})\b")


@contextmanager
def launch() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # only where Playwright is installed

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def code_for(server: Server, phone: str, *, after: int) -> str:
    """The code in the newest text to `phone`, in whatever language it was written."""
    deadline = time.monotonic() + 20
    while len(texts := server.texts_to(phone)) <= after:
        assert time.monotonic() < deadline, f"no code was texted to {phone}"
        time.sleep(0.05)
    found = CODE.search(texts[-1])
    assert found, texts[-1]
    return found.group(1)


def api_person(server: Server, phone: str, name: str) -> Client:
    """Someone using the JSON API (another person's app), signed in."""
    client = Client(server.url)
    client.request_code(phone)
    client.sign_in(phone, code_for(server, phone, after=0), "test", name=name)
    return client


class Phone:
    """One person's browser: its page, and the steps they take."""

    def __init__(self, page: Any, server: Server) -> None:
        self.page = page
        self.server = server

    def sign_in(self, phone: str, name: str = "") -> None:
        page = self.page
        page.goto("/signin")
        before = len(self.server.texts_to(phone))
        page.get_by_label(re.compile("Mobile number|手机号码")).fill(phone)
        page.locator("form[action='/signin'] button").click()
        page.wait_for_url("**/signin/code**")
        page.locator("#code").fill(code_for(self.server, phone, after=before))
        if name:
            page.locator("#name").fill(name)
        page.locator("form[action='/signin/code'] button").click()
        page.wait_for_url("**/books")

    def go_live(self, path: str) -> None:
        """Open a page and wait until it follows the event stream."""
        self.page.goto(path)
        self.page.locator("html[data-live='ready']").wait_for(state="attached")
        # A mark that a reload would wipe: updates must arrive without one.
        self.page.evaluate("window.circlebookProbe = 'still here'")

    def was_not_reloaded(self) -> bool:
        return bool(self.page.evaluate("window.circlebookProbe === 'still here'"))

    def entry_names(self) -> list[str]:
        names: list[str] = self.page.locator("#entries li:not([hidden]) .name").all_inner_texts()
        return names
