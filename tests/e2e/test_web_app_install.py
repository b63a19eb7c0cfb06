"""The web app a phone adds to its home screen: manifest, icons, worker, permission panel."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.web import Visitor

ZH = {"accept-language": "zh-CN,zh;q=0.9"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(body: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which the format puts first."""
    assert body[:8] == PNG_SIGNATURE, "not a PNG"
    assert body[12:16] == b"IHDR"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


@pytest.fixture
def browser(make_client: Callable[..., TestClient], outbox: Path) -> Visitor:
    return Visitor(make_client(), outbox)


def test_the_manifest_describes_a_standalone_app_at_the_root(client: TestClient) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "circlebook"
    assert manifest["short_name"] == "circlebook"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_every_icon_the_manifest_names_is_a_png_of_its_declared_size(client: TestClient) -> None:
    icons = client.get("/manifest.webmanifest").json()["icons"]
    for icon in icons:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.headers["content-type"] == icon["type"] == "image/png"
        width, height = png_size(response.content)
        assert icon["sizes"] == f"{width}x{height}", icon["src"]


def test_the_manifest_describes_the_app_in_the_visitors_language(client: TestClient) -> None:
    english = client.get("/manifest.webmanifest").json()
    chinese = client.get("/manifest.webmanifest", headers=ZH).json()
    assert english["lang"] == "en" and chinese["lang"] == "zh-Hans"
    assert chinese["description"] != english["description"]
    assert re.search(r"[\u4e00-\u9fff]", chinese["description"])
    assert chinese["name"] == english["name"] == "circlebook"


def test_the_service_worker_is_served_from_the_root_as_uncached_javascript(
    client: TestClient,
) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    worker = response.text
    assert 'addEventListener("push"' in worker
    assert "showNotification(" in worker
    assert 'addEventListener("notificationclick"' in worker
    # It keeps nothing of the pages: no fetch handler, no Cache Storage.
    assert 'addEventListener("fetch"' not in worker
    assert "caches." not in worker
    # Not also served under /static, where its scope would be /static/ only.
    assert client.get("/static/sw.js").status_code == 404


def test_every_page_links_the_manifest_and_the_home_screen_icon(client: TestClient) -> None:
    page = client.get("/signin", headers={"host": "127.0.0.1"}).text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert re.search(r'<meta name="theme-color" content="#[0-9a-f]{6}">', page)
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in page
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', page)
    assert touch
    icon = client.get(touch.group(1))
    assert icon.headers["content-type"] == "image/png"
    assert png_size(icon.content) == (180, 180)


def test_the_pages_policy_lets_the_worker_and_the_manifest_load(client: TestClient) -> None:
    policy = client.get("/signin").headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["worker-src"] == "'self'"
    assert directives["manifest-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # still no inline script


def test_the_inbox_offers_notifications_to_script_only_with_no_form_to_post(
    browser: Visitor,
) -> None:
    browser.sign_in("+8613900139000", "Li Lei")
    page = browser.get("/inbox").text
    panel = re.search(r'<section class="panel" id="push"(.*?)</section>', page, re.S)
    assert panel, "the inbox has no notifications panel"
    opening = panel.group(1).split(">", 1)[0]
    # Hidden until the script shows it: without script nothing there can work.
    assert " data-js-only hidden" in opening
    assert f'data-csrf="{browser.token}"' in opening
    assert "<form" not in panel.group(1)
    assert panel.group(1).count('<button type="button"') == 2
    assert "Notify me on this phone" in panel.group(1)


def test_the_notifications_panel_speaks_chinese(browser: Visitor) -> None:
    browser.client.headers.update(ZH)
    browser.sign_in("+8613900139001", "韩梅梅")
    page = browser.get("/inbox").text
    assert "在这部手机上通知我" in page
    assert "Notify me on this phone" not in page


def test_a_signed_out_page_offers_no_notifications(browser: Visitor) -> None:
    assert 'id="push"' not in browser.get("/signin").text
