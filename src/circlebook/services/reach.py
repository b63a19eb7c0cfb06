"""How an invitation reaches its invitee: a personal link, a ready text, the server's own texts.

By default the owner's own phone sends the text (an `sms:` link, a copied link,
a QR code): gateways and the law treat a service texting strangers as spam. A
deployment may let the server text too, capped per number across all owners
and never to a number that asked not to be invited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from circlebook.domain.model import Invitation
from circlebook.services import signing
from circlebook.services.auth import phone_key
from circlebook.services.clock import stamp
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Runtime
from circlebook.services.signing import Purpose

LINK_PATH = "/i/"
# 24 bytes: 192 bits, 32 URL-safe characters.
_TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
# The window of the cap on the server's texts to one number.
TEXT_WINDOW = timedelta(days=30)
# An owner's one reminder waits this long after the invitation.
REMIND_AFTER = timedelta(hours=24)

INVITE_TEXTS = {
    "en": '{owner} invites you to "{book}", a shared address book on circlebook. '
    "Say yes or no here: {url}",
    "zh-Hans": "{owner}邀请您加入 circlebook 共享通讯录“{book}”。请在此回复：{url}",  # noqa: RUF001
}
# Appended to the texts the server itself sends, never to the owner's own.
OPT_OUT_HINTS = {"en": " Reply STOP to opt out.", "zh-Hans": " 回复TD退订"}
# Replies to the server's texts that mean "never text or invite me again", upper-cased.
STOP_WORDS = frozenset({"STOP", "UNSUBSCRIBE", "退订", "TD", "T", "R"})


@dataclass(frozen=True, slots=True)
class Reach:
    """Where links point and the language the owner reads: chosen by the edge per request."""

    base_url: str
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Text:
    to: str
    text: str


def link_token(secret: bytes, invitation_id: str) -> str:
    """The invitation's link token: a keyed function of its random id, never stored.

    Derived rather than drawn so that the owner can be shown the link again
    (the pending list) while the database keeps only a keyed hash of it; without
    the server's secret it cannot be computed from the id.
    """
    return signing.sign_text(secret, Purpose.INVITE_LINK, invitation_id, size=_TOKEN_BYTES)


def link_hash(secret: bytes, token: str) -> str:
    """What the database keeps of a link token, to find its invitation."""
    return signing.sign_hex(secret, Purpose.INVITE_LINK_LOOKUP, token)


def is_token_shape(token: str) -> bool:
    return bool(_TOKEN_SHAPE.match(token))


def invite_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + LINK_PATH + token


def text_language(phone: str, owner_lang: str) -> str:
    """Chinese for a +86 number; else the owner's language, where we have a text in it."""
    if phone.startswith("+86"):
        return "zh-Hans"
    return owner_lang if owner_lang in INVITE_TEXTS else "en"


def invite_text(owner_name: str, book_title: str, url: str, lang: str) -> str:
    return INVITE_TEXTS.get(lang, INVITE_TEXTS["en"]).format(
        owner=owner_name, book=book_title, url=url
    )


def with_opt_out(text: str, lang: str) -> str:
    return text + OPT_OUT_HINTS.get(lang, OPT_OUT_HINTS["en"])


def is_stop_reply(text: str) -> bool:
    return text.strip().upper() in STOP_WORDS


def link_and_text(
    secret: bytes, invitation: Invitation, book_title: str, owner_name: str, via: Reach
) -> tuple[str, str]:
    """The invitation's absolute link, and the message the owner's phone can send with it."""
    url = invite_url(via.base_url, link_token(secret, invitation.id))
    lang = text_language(invitation.phone, via.lang)
    return url, invite_text(owner_name, book_title, url, lang)


def link_base(rt: Runtime, served: str) -> str:
    """`CIRCLEBOOK_PUBLIC_URL`, or else the address the request came to."""
    return rt.policy.public_url or served


def claim_text(rt: Runtime, uow: UnitOfWork, phone: str, now: datetime) -> bool:
    """Whether the server may text this number now (it is on, and the cap has room)."""
    if not rt.policy.invite_sms:
        return False
    return uow.invite_texts.claim(
        phone_key(rt.secret_key, phone),
        stamp(now),
        stamp(now - TEXT_WINDOW),
        rt.policy.invite_texts_per_number,
    )


def send_after_commit(rt: Runtime, texts: Sequence[Text]) -> None:
    """Hand the committed invitations' texts to the background sender; never waits."""
    for text in texts:
        rt.background_sms.send(text.to, text.text)


def prune(rt: Runtime) -> None:
    """Forget text counts whose window has passed: they only ever served the cap."""
    with rt.uow(write=True) as uow:
        uow.invite_texts.purge_before(stamp(rt.clock.now() - TEXT_WINDOW))
        uow.commit()
