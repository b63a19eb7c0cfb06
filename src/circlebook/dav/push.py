"""WebDAV-Push (draft-bitfire-webdav-push, as DAVx5 4.4+ speaks it) on the address books.

A book's collection and the address-book home advertise the Web Push transport
with the server's VAPID key, a topic per member's view, and the one trigger the
server honours (content-update, depth 1). A client registers its push resource
by POSTing `push-register` to the collection and removes it by DELETE of the
registration URL it was given.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from xml.etree.ElementTree import Element

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from circlebook.dav.errors import DavError
from circlebook.dav.properties import Property, Resource
from circlebook.dav.resources import SYNC_TOKEN_PREFIX, Book, Home, Session, resolve
from circlebook.dav.xml import WEBDAV_PUSH, attribute, dav, document, element, parse, text
from circlebook.domain.dav_push import DONT_NOTIFY, HOME, dont_notify
from circlebook.services import dav_push
from circlebook.services.clock import parse_stamp

# The token OPTIONS adds to the DAV header when push is on.
DAV_CLASS = "webdav-push"
# Registration URLs live here, below the DAV mount: {base}/push/{registration id}.
REGISTRATIONS = "push"


def push(local: str) -> str:
    return f"{{{WEBDAV_PUSH}}}{local}"


def _pushable(resource: Resource) -> tuple[Session, str] | None:
    """The session and collection key of a resource that takes registrations, if push is on."""
    if isinstance(resource, Book):
        session, collection = resource.session, resource.book_id
    elif isinstance(resource, Home):
        session, collection = resource.session, HOME
    else:
        return None
    if session.rt.policy.push_public_key is None:
        return None
    return session, collection


class Transports(Property):
    """P:transports: Web Push, with the key its messages are signed with (RFC 8292)."""

    name = push("transports")

    def render(self, resource: Resource) -> str | None:
        found = _pushable(resource)
        if found is None:
            return None
        key = found[0].rt.policy.push_public_key or ""
        vapid = element(push("vapid-public-key"), text(key), attribute("type", "p256ecdsa"))
        return element(push("web-push"), vapid)


class Topic(Property):
    """P:topic: opaque and stable, one per member's view of the collection."""

    name = push("topic")

    def render(self, resource: Resource) -> str | None:
        found = _pushable(resource)
        if found is None:
            return None
        session, collection = found
        return text(dav_push.topic(session.rt.secret_key, session.account.id, collection))


class SupportedTriggers(Property):
    """P:supported-triggers: a push when a member (one level down) changes; no property pushes."""

    name = push("supported-triggers")

    def render(self, resource: Resource) -> str | None:
        if _pushable(resource) is None:
            return None
        return element(push("content-update"), element(dav("depth"), "1"))


PUSH_PROPERTIES: tuple[Property, ...] = (Transports(), Topic(), SupportedTriggers())


def _child(parent: Element | None, local: str) -> Element | None:
    return None if parent is None else parent.find(push(local))


def _text_of(parent: Element | None, local: str) -> str | None:
    found = _child(parent, local)
    return None if found is None else (found.text or "").strip()


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise DavError(400, "expires: an IMF-fixdate (RFC 9110)") from None
    if moment.tzinfo is None:
        raise DavError(400, "expires: an IMF-fixdate (RFC 9110)")
    return moment


def register(session: Session, resource: Resource, body: Element | None) -> Response:
    """POST of `push-register` to a collection: 201 with a new registration, 204 on renewal."""
    found = _pushable(resource)
    if found is None:
        raise DavError(403, "this resource takes no push registrations")
    if body is None or body.tag != push("push-register"):
        raise DavError(415, "POST here takes a push-register document (WebDAV-Push)")
    subscription = _child(_child(body, "subscription"), "web-push-subscription")
    if subscription is None:
        raise DavError(400, "push-register: one subscription with a web-push-subscription")
    resource_url = _text_of(subscription, "push-resource")
    if not resource_url:
        raise DavError(400, "web-push-subscription: a push-resource is required")
    encoding = _text_of(subscription, "content-encoding")
    public_key = _text_of(subscription, "subscription-public-key")
    secret = _text_of(subscription, "auth-secret")
    if encoding not in (None, "aes128gcm"):
        raise DavError(400, "content-encoding: only aes128gcm (RFC 8291) is supported")
    if (public_key is None) != (secret is None):
        raise DavError(400, "subscription-public-key and auth-secret come together")
    if public_key is None or secret is None:
        # Messages are always encrypted here: a push resource without keys would
        # let the push service read them.
        raise DavError(400, "subscription-public-key and auth-secret are required")
    trigger = _child(body, "trigger")
    if trigger is not None and _child(trigger, "content-update") is None:
        raise DavError(403, "only the content-update trigger is supported")
    registered = dav_push.register(
        session.rt,
        session.account,
        found[1],
        resource_url,
        (public_key, secret),
        _expiry(_text_of(body, "expires")),
    )
    registration = registered.registration
    headers = {
        "Location": f"{session.base}/{REGISTRATIONS}/{registration.id}",
        "Expires": format_datetime(parse_stamp(registration.expires_at), usegmt=True),
    }
    return Response(status_code=201 if registered.created else 204, headers=headers)


def registration_id(relative: str) -> str | None:
    """The registration a path names (`/push/{id}`), or None for any other path."""
    parts = relative.strip("/").split("/")
    if len(parts) == 2 and parts[0] == REGISTRATIONS:
        return parts[1]
    return None


def unregister(session: Session, registration: str) -> Response:
    """DELETE of a registration URL: only the account that registered it may."""
    dav_push.unregister(session.rt, session.account, registration)
    return Response(status_code=204)


def answer(session: Session, method: str, relative: str, body: bytes) -> Response | None:
    """The answer to a WebDAV-Push request (POST of push-register, DELETE of a
    registration); None for any other request, which the DAV methods answer."""
    if session.rt.policy.push_public_key is None:
        return None
    if method == "DELETE":
        registration = registration_id(relative)
        return None if registration is None else unregister(session, registration)
    if method == "POST":
        return register(session, resolve(session, relative), parse(body))
    return None


def message(topic: str, sync_token: str | None) -> bytes:
    """The push-message: which view changed (its topic), and its sync token now.

    A collection without a sync token (the home) sends `content-update` empty: the
    draft has it SHOULD, not MUST, carry one.
    """
    token = ""
    if sync_token is not None:
        token = element(dav("sync-token"), text(SYNC_TOKEN_PREFIX + sync_token))
    return document(
        push("push-message"),
        element(push("topic"), text(topic)) + element(push("content-update"), token),
    )


class DontNotify:
    """Reads `Push-Dont-Notify` for the request it wraps: the registrations it names
    (or `*`, all) hear nothing of the changes this request makes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("push-dont-notify")
        if not header:
            await self.app(scope, receive, send)
            return
        reset = DONT_NOTIFY.set(dont_notify(header))
        try:
            await self.app(scope, receive, send)
        finally:
            DONT_NOTIFY.reset(reset)
