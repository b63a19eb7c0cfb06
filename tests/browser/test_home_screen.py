"""The installable web app in real Chromium: manifest, service worker, and asking only after a tap.

The push endpoints (/v1/push/key, /v1/push/subscriptions) are answered here by
`page.route` where a test needs a particular answer, so that each case holds
whatever this server offers. Headless Chromium has no push service it can reach,
so one test stands in for the browser's push service (PushManager) to follow the
round trip to the server; the others use the browser's own.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.browser.phones import Phone
from tests.e2e.live import Server

LI, HAN = "+8613300133000", "+8613300133001"

# Records every way a page could ask for notifications, before any script of the page runs.
WATCH_ASKING = """
window.__asked = [];
window.__subscribed = [];
if (window.Notification) {
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = function () {
    window.__asked.push(location.pathname);
    return ask.apply(null, arguments);
  };
}
if (window.PushManager) {
  const subscribe = PushManager.prototype.subscribe;
  PushManager.prototype.subscribe = function (options) {
    const key = options && options.applicationServerKey;
    window.__subscribed.push(key ? btoa(String.fromCharCode(...new Uint8Array(key))) : null);
    return subscribe.apply(this, arguments);
  };
}
"""

# A stand-in for the browser's push service, which headless Chromium cannot reach:
# subscribe() answers a subscription as a phone's browser would, kept across reloads.
STAND_IN_PUSH_SERVICE = """
(() => {
  const KEPT = "test.push-service";
  const made = () => {
    const kept = JSON.parse(localStorage.getItem(KEPT) || "null");
    if (!kept) return null;
    return {
      endpoint: kept.endpoint,
      options: { applicationServerKey: null, userVisibleOnly: true },
      toJSON: () => ({ endpoint: kept.endpoint, expirationTime: null, keys: kept.keys }),
      unsubscribe: () => { localStorage.removeItem(KEPT); return Promise.resolve(true); },
    };
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(made()); };
  PushManager.prototype.subscribe = function () {
    localStorage.setItem(KEPT, JSON.stringify({
      endpoint: "https://push.example.net/send/d1f8",
      keys: {
        p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8Q"
          + "cYP7DkM",
        auth: "tBHItJI5svbpez7KI4CCXg",
      },
    }));
    return Promise.resolve(made());
  };
})();
"""


def vapid_public_key() -> str:
    """A fresh P-256 public key as /v1/push/key gives it: uncompressed, base64url, no padding."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).decode().rstrip("=")


def push_key(page: Any, key: str | None) -> None:
    """Answer GET /v1/push/key with `key`, or with 404 (this server sends no push)."""

    def answer(route: Any) -> None:
        if key is None:
            body = {"type": "about:blank", "title": "Not Found", "status": 404}
            problem = "application/problem+json"
            route.fulfill(status=404, content_type=problem, body=json.dumps(body))
        else:
            route.fulfill(status=200, json={"public_key": key})

    page.route("**/v1/push/key", answer)


def status(phone: Phone, *states: str) -> str:
    """Wait until the notifications panel shows one of `states`; the one it shows."""
    phone.page.wait_for_function(
        "states => states.includes(document.querySelector('#push').dataset.pushStatus)",
        arg=list(states),
    )
    shown: str = phone.page.locator("#push").get_attribute("data-push-status")
    return shown


def asked(phone: Phone) -> list[str]:
    calls: list[str] = phone.page.evaluate("window.__asked")
    return calls


def notifications(phone: Phone, count: int) -> list[dict[str, str]]:
    """The notifications the worker shows, once there are `count` of them."""
    deadline = time.monotonic() + 20
    while True:
        shown: list[dict[str, str]] = phone.page.evaluate(
            """async () => {
                const registration = await navigator.serviceWorker.ready;
                return (await registration.getNotifications()).map(n => ({
                    title: n.title, body: n.body, url: n.data.url, tag: n.tag, icon: n.icon}));
            }"""
        )
        if len(shown) >= count or time.monotonic() > deadline:
            assert len(shown) == count, shown
            return shown
        phone.page.wait_for_timeout(50)


def test_the_manifest_is_linked_and_parsed_and_the_worker_controls_the_whole_site(
    phones: Callable[..., Phone], server: Server
) -> None:
    phone = phones()
    phone.page.goto("/signin")
    cdp = phone.page.context.new_cdp_session(phone.page)
    found = cdp.send("Page.getAppManifest")
    assert found["url"] == f"{server.url}/manifest.webmanifest"
    assert found["errors"] == []
    assert json.loads(found["data"])["display"] == "standalone"
    worker = phone.page.evaluate(
        """async () => {
            const registration = await navigator.serviceWorker.ready;
            const active = registration.active;
            if (active.state !== "activated") {
                await new Promise(done => active.addEventListener("statechange", () => {
                    if (active.state === "activated") done();
                }));
            }
            return {scope: registration.scope, script: active.scriptURL, state: active.state};
        }"""
    )
    assert worker == {
        "scope": f"{server.url}/",
        "script": f"{server.url}/sw.js",
        "state": "activated",
    }
    # Nothing of the site's is missing for Chrome to offer "Install app"; Playwright's
    # contexts are incognito windows, where Chrome never offers it.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [error["errorId"] for error in errors if error["errorId"] != "in-incognito"] == []


def test_a_server_without_push_shows_not_supported_and_never_asks(
    phones: Callable[..., Phone],
) -> None:
    phone = phones()
    phone.page.add_init_script(WATCH_ASKING)
    push_key(phone.page, None)
    phone.sign_in(LI, "Li Lei")
    phone.page.goto("/inbox")
    assert status(phone, "on", "off", "blocked", "unsupported") == "unsupported"
    assert phone.page.get_by_text("Not supported:").is_visible()
    assert phone.page.get_by_role("button", name="Notify me on this phone").is_hidden()
    assert asked(phone) == []
    assert phone.page.evaluate("window.__subscribed") == []
    assert phone.page.evaluate("Notification.permission") == "default"


def test_the_state_reads_in_chinese(phones: Callable[..., Phone]) -> None:
    phone = phones("zh-CN")
    push_key(phone.page, None)
    phone.sign_in(HAN, "韩梅梅")
    phone.page.goto("/inbox")
    assert status(phone, "unsupported") == "unsupported"
    assert phone.page.get_by_text("不支持").is_visible()


def test_permission_is_asked_only_after_the_tap_and_leads_to_a_subscription(
    phones: Callable[..., Phone], server: Server
) -> None:
    phone = phones()
    phone.page.context.grant_permissions(["notifications"], origin=server.url)
    phone.page.add_init_script(WATCH_ASKING)
    key = vapid_public_key()
    push_key(phone.page, key)
    posted: list[Any] = []

    def take(route: Any) -> None:
        posted.append(route.request.post_data_json)
        route.fulfill(status=201, json={"id": "ps_1"})

    phone.page.route("**/v1/push/subscriptions", take)
    phone.sign_in(LI, "Li Lei")
    phone.page.goto("/inbox")
    assert status(phone, "on", "off", "blocked", "unsupported") == "off"
    assert asked(phone) == []  # the page loaded and asked nothing

    phone.page.get_by_role("button", name="Notify me on this phone").click()
    shown = status(phone, "on", "unsupported")
    assert asked(phone) == ["/inbox"]
    # The browser was asked to subscribe to exactly the server's key.
    standard = base64.b64encode(base64.urlsafe_b64decode(key + "=")).decode()
    assert phone.page.evaluate("window.__subscribed") == [standard]
    if shown == "on":  # a browser that reached its push service
        assert len(posted) == 1 and set(posted[0]) >= {"endpoint", "keys"}
        assert set(posted[0]["keys"]) == {"p256dh", "auth"}
    else:  # headless Chromium: no push service; the panel says so, and nothing is sent
        assert phone.page.get_by_text("could not reach its push service").is_visible()
        assert posted == []


def test_turning_on_sends_the_subscription_and_turning_off_deletes_it(
    phones: Callable[..., Phone], server: Server
) -> None:
    phone = phones()
    phone.page.context.grant_permissions(["notifications"], origin=server.url)
    phone.page.add_init_script(STAND_IN_PUSH_SERVICE)
    push_key(phone.page, vapid_public_key())
    calls: list[tuple[str, str, dict[str, str], Any]] = []

    def subscriptions(route: Any) -> None:
        request = route.request
        body = request.post_data_json if request.method == "POST" else None
        calls.append((request.method, request.url, request.headers, body))
        if request.method == "POST":
            # 201 the first time; 200 for an endpoint the server already had.
            known = sum(call[0] == "POST" for call in calls) > 1
            route.fulfill(status=200 if known else 201, json={"id": "ps_7"})
        else:
            route.fulfill(status=204)

    phone.page.route("**/v1/push/subscriptions**", subscriptions)
    phone.sign_in(LI, "Li Lei")
    phone.page.goto("/inbox")
    csrf = phone.page.locator("#push").get_attribute("data-csrf")
    assert status(phone, "on", "off", "blocked", "unsupported") == "off"

    phone.page.get_by_role("button", name="Notify me on this phone").click()
    assert status(phone, "on", "unsupported") == "on"
    method, url, headers, body = calls[0]
    assert (method, url) == ("POST", f"{server.url}/v1/push/subscriptions")
    assert headers["content-type"] == "application/json"
    assert headers["x-csrf-token"] == csrf
    assert body["endpoint"] == "https://push.example.net/send/d1f8"
    assert set(body["keys"]) == {"p256dh", "auth"}
    assert phone.page.get_by_text("On: this phone tells you").is_visible()

    phone.page.reload()  # the state is read back from the browser, not remembered by the page
    assert status(phone, "on", "off", "blocked", "unsupported") == "on"
    phone.page.get_by_role("button", name="Stop notifying this phone").click()
    assert status(phone, "off") == "off"
    method, url, headers, _ = calls[1]
    assert (method, url) == ("DELETE", f"{server.url}/v1/push/subscriptions/ps_7")
    assert headers["x-csrf-token"] == csrf
    assert phone.page.evaluate("localStorage.getItem('test.push-service')") is None

    # On again: the server answers 200 for an endpoint it already knew, which is on too.
    phone.page.get_by_role("button", name="Notify me on this phone").click()
    assert status(phone, "on") == "on"  # it reads "off" until the server answers
    assert [call[0] for call in calls] == ["POST", "DELETE", "POST"]

    # Signing out ends the session the server kept the subscription for: the next one
    # in this browser starts off, and asks again.
    phone.page.get_by_role("button", name="Sign out").click()
    phone.page.wait_for_url("**/signin**")
    phone.sign_in(LI)
    phone.page.goto("/inbox")
    assert status(phone, "on", "off", "blocked", "unsupported") == "off"


def test_notifications_refused_in_the_browser_show_as_blocked(
    phones: Callable[..., Phone], server: Server
) -> None:
    phone = phones()
    phone.page.add_init_script(WATCH_ASKING)
    cdp = phone.page.context.new_cdp_session(phone.page)
    # Playwright can grant a permission but not deny one: as the browser's site settings do.
    context_id = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    cdp.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": server.url,
            "browserContextId": context_id,
        },
    )
    push_key(phone.page, vapid_public_key())
    phone.sign_in(HAN, "Han Meimei")
    phone.page.goto("/inbox")
    assert status(phone, "on", "off", "blocked", "unsupported") == "blocked"
    assert phone.page.get_by_text("Blocked: this browser refuses").is_visible()
    assert phone.page.get_by_role("button", name="Notify me on this phone").is_hidden()
    assert asked(phone) == []


def test_a_pushed_message_is_shown_as_a_notification_that_opens_only_this_site(
    phones: Callable[..., Phone], server: Server
) -> None:
    phone = phones()
    phone.page.context.grant_permissions(["notifications"], origin=server.url)
    cdp = phone.page.context.new_cdp_session(phone.page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(r["registrationId"] for r in event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    phone.page.goto("/signin")
    phone.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert registrations
    messages = [
        {
            "type": "invitation.received",
            "title": "Li Lei invites you",
            "body": "Class of 2012",
            "url": "/inbox",
        },
        {"type": "book.left", "title": "Elsewhere", "body": "", "url": "https://evil.example/x"},
    ]
    for message in messages:
        delivery = {"origin": server.url, "registrationId": registrations[-1]}
        cdp.send("ServiceWorker.deliverPushMessage", {**delivery, "data": json.dumps(message)})
    shown = notifications(phone, 2)
    by_title = {notification["title"]: notification for notification in shown}
    assert by_title["Li Lei invites you"] == {
        "title": "Li Lei invites you",
        "body": "Class of 2012",
        "url": f"{server.url}/inbox",
        "tag": f"invitation.received {server.url}/inbox",
        "icon": f"{server.url}/static/icon-192.png",
    }
    # A payload cannot send the person off the site: its address becomes the front page.
    assert by_title["Elsewhere"]["url"] == f"{server.url}/"
