"""Real Chromium (Debian's, never a downloaded build) driven by Playwright, at phone size."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from circlebook.client import Client
from tests.browser.phones import CHROMIUM, Phone, api_person, launch
from tests.conftest import REQUIRE_SERVICES
from tests.e2e.live import Server, live_server


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[server,dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


# Per module, not per session: while Playwright's sync API is started it keeps an
# event loop running on this thread, and later tests that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = _missing()
    if why is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"CIRCLEBOOK_REQUIRE_SERVICES=1 but {why}", pytrace=False)
        pytest.skip(why)
    with launch() as browser:
        yield browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with live_server(tmp_path) as server:
        yield server


@pytest.fixture
def phones(browser: Any, server: Server) -> Iterator[Callable[..., Phone]]:
    """phones(locale="en-US") opens a phone-sized browser of its own (cookies and all)."""
    opened: list[Any] = []

    def _open(locale: str = "en-US", *, javascript: bool = True) -> Phone:
        context = browser.new_context(
            java_script_enabled=javascript,
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
            base_url=server.url,
        )
        context.set_default_timeout(10_000)
        opened.append(context)
        return Phone(context.new_page(), server)

    yield _open
    for context in opened:
        context.close()


@pytest.fixture
def apps(server: Server) -> Iterator[Callable[[str, str], Client]]:
    """apps(phone, name) signs someone in through the JSON API, as their own app would."""
    with ExitStack() as stack:
        yield lambda phone, name: stack.enter_context(api_person(server, phone, name))
