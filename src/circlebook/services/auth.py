"""Signing in by proving a phone number with a one-time code sent by SMS."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from circlebook.domain.errors import (
    InvalidCodeError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
)
from circlebook.domain.model import Account, Session
from circlebook.domain.names import clean_name
from circlebook.services import events, ledger, limits, signing
from circlebook.services.clock import parse_stamp, stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.phones import normalize_phone
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Policy, Runtime
from circlebook.services.signing import Purpose

_CODE = re.compile(r"^[0-9]{6}$")
# A session's last use is noted at most this often, so that reads stay reads.
_TOUCH_EVERY = timedelta(hours=1)
# Codes older than this are gone from the table whatever their state.
_CODE_RETENTION = timedelta(days=1)
# The sign-in text in each language a person may sign in with; English where unknown.
CODE_TEXTS = {
    "en": "Your circlebook code is {code}. It expires in {minutes} minutes.",
    "zh-Hans": "您的 circlebook 验证码是 {code}，{minutes} 分钟内有效。",  # noqa: RUF001
}


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    account: Account
    created: bool


def phone_key(secret: bytes, phone: str) -> str:
    """The keyed hash a number is known by where the number itself need not be kept."""
    return signing.sign_hex(secret, Purpose.PHONE, phone)


def code_key(secret: bytes, phone_hash: str, code: str) -> str:
    """What is kept of a sign-in code sent to the number `phone_hash` stands for."""
    return signing.sign_hex(secret, Purpose.SIGN_IN_CODE, phone_hash, code)


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a plain hash cannot be reversed by guessing.
    return hashlib.sha256(token.encode()).hexdigest()


def request_code(
    rt: Runtime,
    raw_phone: str,
    region: str | None = None,
    *,
    lang: str = "en",
    client: str | None = None,
) -> int:
    """Send a 6-digit code to the phone, in `lang`; return how many seconds it stays valid.

    `client` is who asks (see `limits.client_of`); None only where no address applies.
    """
    phone = normalize_phone(raw_phone, region or rt.policy.region)
    policy = rt.policy
    now = rt.clock.now()
    phone_hash = phone_key(rt.secret_key, phone)
    code = f"{secrets.randbelow(10**6):06d}"
    with rt.uow(write=True) as uow:
        uow.codes.purge_created_before(stamp(now - _CODE_RETENTION))
        limits.claim_code_request(uow, policy, phone_hash, client, now)
        uow.codes.add(
            phone_hash,
            code_key(rt.secret_key, phone_hash, code),
            stamp(now),
            stamp(now + timedelta(seconds=policy.code_ttl_seconds)),
        )
        uow.commit()
    minutes = policy.code_ttl_seconds // 60
    text = CODE_TEXTS.get(lang, CODE_TEXTS["en"])
    rt.sms.send(phone, text.format(code=code, minutes=minutes))
    return policy.code_ttl_seconds


def check_code_shape(code: str) -> None:
    if not _CODE.match(code):
        raise InvalidInputError("the code is 6 digits", field="code")


def redeem_code(
    rt: Runtime, uow: UnitOfWork, phone: str, code: str, client: str | None = None
) -> None:
    """Use up the phone's live code if `code` is it; a wrong guess is counted and kept.

    Each guess first claims one of the code's attempts in a single UPDATE, so
    concurrent guesses can never try a code more often than allowed. The count
    of a wrong guess is committed before the error is raised, so the caller's
    transaction must hold nothing else yet.
    """
    phone_hash = phone_key(rt.secret_key, phone)
    now = rt.clock.now()
    limits.check_guess_allowed(uow, rt.policy, phone_hash, client, now)
    live = uow.codes.live(phone_hash, stamp(now))
    if live is None or not uow.codes.claim_attempt(live[0], rt.policy.code_max_attempts):
        limits.count_wrong_guess(uow, rt.policy, phone_hash, client, now)
        uow.commit()
        raise InvalidCodeError("no valid code for this number: ask for a new one", field="code")
    code_id, expected = live
    if not signing.matches(expected, code_key(rt.secret_key, phone_hash, code)):
        limits.count_wrong_guess(uow, rt.policy, phone_hash, client, now)
        uow.commit()
        raise InvalidCodeError("the code is wrong", field="code")
    if not uow.codes.use(code_id):
        raise InvalidCodeError("this code was already used", field="code")


def find_or_open_account(
    uow: UnitOfWork, phone: str, name: str | None, now: str
) -> tuple[Account, bool]:
    """The proven number's account, opened at its first sign-in; True if opened now."""
    account = uow.accounts.by_phone(phone)
    if account is not None:
        return account, False
    account = Account(new_id("a"), phone, name or "", now)
    uow.accounts.add(account)
    # Invitations sent before this number signed up reach it now.
    waiting = uow.invitations.pending_for_phone(phone, now)
    for invitation in waiting:
        events.invitation_received(uow, invitation, account.id, now)
    ledger.invited_before_opening(uow, account.id, waiting, now)
    return account, True


def start_session(uow: UnitOfWork, account: Account, device: str, now: str) -> str:
    """A new bearer token for the account; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    uow.sessions.add(Session(new_id("s"), account.id, device, now, now), token_hash(token))
    return token


def sign_in(
    rt: Runtime,
    raw_phone: str,
    code: str,
    device: str,
    *,
    region: str | None = None,
    name: str | None = None,
    client: str | None = None,
) -> SignedIn:
    """Trade a phone's one-time code for a bearer token, creating the account at first."""
    phone = normalize_phone(raw_phone, region or rt.policy.region)
    check_code_shape(code)
    device = clean_name(device, field="device")
    display = clean_name(name) if name is not None else None
    now = rt.clock.now()
    with rt.uow(write=True) as uow:
        redeem_code(rt, uow, phone, code, client)
        account, created = find_or_open_account(uow, phone, display, stamp(now))
        token = start_session(uow, account, device, stamp(now))
        uow.commit()
    return SignedIn(token, account, created)


def _expired(policy: Policy, session: Session, now: datetime) -> bool:
    idle = timedelta(days=policy.session_idle_days)
    lifetime = timedelta(days=policy.session_max_days)
    if policy.session_idle_days and parse_stamp(session.last_used_at) < now - idle:
        return True
    return bool(policy.session_max_days) and parse_stamp(session.created_at) < now - lifetime


def _needs_touch(session: Session, now: datetime) -> bool:
    return parse_stamp(session.last_used_at) <= now - _TOUCH_EVERY


def _trusted_until(policy: Policy, session: Session) -> datetime:
    """Until when a remembered session needs no look: before it could end, or its use be due."""
    last_used = parse_stamp(session.last_used_at)
    ends = [last_used + _TOUCH_EVERY]
    if policy.session_idle_days:
        ends.append(last_used + timedelta(days=policy.session_idle_days))
    if policy.session_max_days:
        ends.append(parse_stamp(session.created_at) + timedelta(days=policy.session_max_days))
    return min(ends)


def recently_signed_in(rt: Runtime, token: str) -> Account | None:
    """The token's account if this process checked it within the last second and nothing
    has changed since, with no database read; None means: ask `authenticate`.

    Only a session that is still live and needs no note of its use is answered
    here, so the idle and absolute lifetimes hold to the request, as they do in
    `authenticate`.
    """
    hashed = token_hash(token)
    found = rt.sessions_seen.get(hashed)
    if found is None:
        return None
    account, until = found
    if rt.clock.now() >= until:
        return None
    if rt.sessions_seen.due(hashed):
        # Read again before it runs out, so that a steady poller never waits for it.
        rt.shared_reads.ahead(
            f"session\x1f{hashed}",
            lambda: authenticate(rt, token),
            lambda: rt.sessions_seen.forget(hashed),
        )
    return account


def authenticate(rt: Runtime, token: str) -> Account:
    """The account a bearer token signs in, while its session lives.

    A read, except at most once an hour per session, when its last use is noted.
    """
    hashed = token_hash(token)
    now = rt.clock.now()
    mark = rt.sessions_seen.mark()
    with rt.uow() as uow:
        found = uow.sessions.account(hashed)
    if found is None:
        raise NotAuthenticatedError("sign in first: the token is missing, wrong or signed out")
    account, session = found
    if _expired(rt.policy, session, now):
        with rt.uow(write=True) as uow:
            uow.sessions.remove(hashed)
            uow.commit()
        raise NotAuthenticatedError("this session has ended: sign in again")
    if _needs_touch(session, now):
        with rt.uow(write=True) as uow:
            uow.sessions.touch(hashed, stamp(now))
            uow.commit()
        # The next request reads the session again, with its new last use.
        return account
    rt.sessions_seen.put(hashed, (account, _trusted_until(rt.policy, session)), mark)
    return account


@dataclass(frozen=True, slots=True)
class SessionView:
    session: Session
    current: bool


def list_sessions(rt: Runtime, account: Account, token: str | None) -> list[SessionView]:
    """The account's signed-in devices; `current` marks the one asking."""
    mine = token_hash(token) if token else None
    with rt.uow() as uow:
        found = uow.sessions.of_account(account.id)
    return [SessionView(session, hashed == mine) for session, hashed in found]


def end_session(rt: Runtime, account: Account, session_id: str) -> None:
    """Sign one of the account's devices out; another account's session is not found."""
    with rt.uow(write=True) as uow:
        if not is_wellformed(session_id) or not uow.sessions.remove_by_id(account.id, session_id):
            raise NotFoundError("no such session")
        uow.commit()


def end_other_sessions(rt: Runtime, account: Account, token: str) -> int:
    """Sign out everywhere but here; how many sessions ended."""
    with rt.uow(write=True) as uow:
        ended = uow.sessions.remove_others(account.id, token_hash(token))
        uow.commit()
    return ended


def prune_codes(rt: Runtime) -> None:
    """Forget sign-in codes a day after they were made, even if that number never asks again."""
    with rt.uow(write=True) as uow:
        uow.codes.purge_created_before(stamp(rt.clock.now() - _CODE_RETENTION))
        uow.commit()


def prune_sessions(rt: Runtime) -> None:
    """End the sessions past their idle or absolute lifetime (the hourly sweep)."""
    policy, now = rt.policy, rt.clock.now()
    idle = stamp(now - timedelta(days=policy.session_idle_days))
    begun = stamp(now - timedelta(days=policy.session_max_days))
    with rt.uow(write=True) as uow:
        uow.sessions.remove_expired(
            idle if policy.session_idle_days else None, begun if policy.session_max_days else None
        )
        uow.commit()


def sign_out(rt: Runtime, token: str) -> None:
    with rt.uow(write=True) as uow:
        uow.sessions.remove(token_hash(token))
        uow.commit()


def rename_account(rt: Runtime, account: Account, raw_name: str) -> Account:
    name = clean_name(raw_name)
    with rt.uow(write=True) as uow:
        uow.accounts.rename(account.id, name)
        uow.commit()
    return Account(account.id, account.phone, name, account.created_at)
