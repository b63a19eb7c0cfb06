"""A browser without JavaScript, for testing the web pages in-process: cookies, forms, tokens."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')
# Loopback over plain HTTP: the one place the session cookie is not marked Secure.
LOCAL = "http://127.0.0.1"
READABLE_ATTRIBUTES = ("aria-label", "placeholder", "data-confirm", "title", "alt")


class Visitor:
    """One browser: its own cookie jar, and the CSRF token of the last page it loaded."""

    def __init__(self, client: TestClient, outbox: Path) -> None:
        client.base_url = LOCAL  # type: ignore[assignment]
        self.client = client
        self.outbox = outbox
        self.token = ""

    def get(self, path: str, **kw: Any) -> Any:
        response = self.client.get(path, **kw)
        found = TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """A form post carrying the token of the last page, as a browser's form would."""
        body = {"csrf": self.token, **(data or {})}
        response = self.client.post(path, data=body, **kw)
        found = TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def sign_in(self, phone: str, name: str = "", **headers: str) -> None:
        self.get("/signin", headers=headers)
        response = self.post("/signin", {"phone": phone}, headers=headers)
        assert response.status_code == 200, response.text
        code = last_code_any(self.outbox, phone)
        response = self.post(
            "/signin/code", {"phone": phone, "code": code, "name": name}, headers=headers
        )
        assert response.status_code == 200 and response.url.path == "/books", response.text
        self.get("/books", headers=headers)


def last_code_any(outbox: Path, phone: str) -> str:
    """The newest code texted to `phone`, in English or Chinese."""
    for line in reversed(outbox.read_text().splitlines()):
        message = json.loads(line)
        if message["to"] == phone:
            found = re.search(r"\d{6}", message["text"])
            assert found
            return found.group()
    raise AssertionError(f"no SMS to {phone}")


class _Readable(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in READABLE_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def readable_text(html: str) -> str:
    """What a person reads on a page: its text and the attributes read aloud or shown."""
    parser = _Readable()
    parser.feed(html)
    return "\n".join(parser.parts)
