"""App passwords: one long random secret per device, for clients that speak HTTP Basic (CardDAV).

A phone's contacts app cannot do the SMS sign-in, so the person makes an app
password in a signed-in client and types it into the phone once. Each one can
be revoked on its own, and none of them can do more than read books.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from circlebook.domain.errors import (
    ConflictError,
    InvalidPhoneError,
    NotAuthenticatedError,
    NotFoundError,
)
from circlebook.domain.model import Account, AppPassword
from circlebook.domain.names import clean_name
from circlebook.services import signing
from circlebook.services.clock import parse_stamp, stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.phones import normalize_phone
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Runtime
from circlebook.services.signing import Purpose

MAX_APP_PASSWORDS = 50
# 24 symbols from 32 that cannot be misread (no 0/o, 1/l/i): 120 random bits,
# shown in groups of four so a person can type it on a phone.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_LENGTH, _GROUP = 24, 4
# Recording every use would make each CardDAV request a write; this often is enough
# for a person to tell a device that still syncs from one that stopped.
_TOUCH_EVERY = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class NewAppPassword:
    """A password just made: `password` is shown this once and never again."""

    app_password: AppPassword
    password: str


def _generate() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i : i + _GROUP] for i in range(0, _LENGTH, _GROUP))


def _canonical(password: str) -> str:
    """What is hashed: case, dashes and spaces are forgiven, as a person may type them."""
    return "".join(password.split()).replace("-", "").casefold()


def _digest(secret: bytes, salt: str, password: str) -> str:
    # 120 random bits cannot be guessed, so a fast hash suffices (a slow one would
    # cost every CardDAV request); keying it with the server's secret means a copy
    # of the database alone cannot even check a guess.
    return signing.sign_hex(secret, Purpose.APP_PASSWORD, salt, _canonical(password))


def _hashed(secret: bytes, password: str) -> str:
    salt = secrets.token_hex(16)
    return f"{salt}${_digest(secret, salt, password)}"


def _matches(secret: bytes, stored: str, password: str) -> bool:
    salt, _, expected = stored.partition("$")
    return signing.matches(expected, _digest(secret, salt, password))


def create_app_password(rt: Runtime, account: Account, label: str) -> NewAppPassword:
    """Make a password for one device, named by `label`; return it with its secret."""
    label = clean_name(label, field="label")
    password = _generate()
    made = AppPassword(new_id("p"), account.id, label, stamp(rt.clock.now()), None)
    with rt.uow(write=True) as uow:
        if len(uow.app_passwords.of_account(account.id)) >= MAX_APP_PASSWORDS:
            raise ConflictError(
                f"at most {MAX_APP_PASSWORDS} app passwords: revoke one you no longer use"
            )
        uow.app_passwords.add(made, _hashed(rt.secret_key, password))
        uow.commit()
    return NewAppPassword(made, password)


def list_app_passwords(rt: Runtime, account: Account) -> list[AppPassword]:
    with rt.uow() as uow:
        return uow.app_passwords.of_account(account.id)


def revoke_app_password(rt: Runtime, account: Account, app_password_id: str) -> None:
    """Revoke one of the caller's app passwords; the device using it is refused from now on."""
    with rt.uow(write=True) as uow:
        if not is_wellformed(app_password_id) or not uow.app_passwords.remove(
            account.id, app_password_id
        ):
            raise NotFoundError("no such app password")
        uow.commit()


def login_key(rt: Runtime, user_name: str) -> str:
    """One spelling of a user name (E.164 phone, or account id), to count failures by.

    Without it, `+86 138...` and `138...` would each get their own allowance of wrong passwords.
    """
    name = user_name.strip()
    if is_wellformed(name):
        return name
    try:
        return normalize_phone(name, rt.policy.region)
    except InvalidPhoneError:
        return name.casefold()


def _account_named(uow: UnitOfWork, rt: Runtime, user_name: str) -> Account | None:
    key = login_key(rt, user_name)
    if is_wellformed(key):
        return uow.accounts.get(key)
    return uow.accounts.by_phone(key) if key.startswith("+") else None


def failure_key(rt: Runtime, user_name: str) -> str:
    """What wrong passwords are counted by: the account, whichever of its names is used
    (its phone in any spelling, or its id); a name of no account as it is spelled."""
    with rt.uow() as uow:
        account = _account_named(uow, rt, user_name)
    return account.id if account is not None else login_key(rt, user_name)


# An unknown user name is checked against this many stand-in hashes, as many as an
# account may hold: the answer then takes as long whether or not the name exists.
_STAND_IN = f"{'0' * 32}${'0' * 64}"


def _seen_key(rt: Runtime, user_name: str, password: str) -> str:
    return signing.sign_hex(
        rt.secret_key, Purpose.APP_PASSWORD_SEEN, user_name, _canonical(password)
    )


def recently_signed_in(rt: Runtime, user_name: str, password: str) -> Account | None:
    """The account these credentials signed in within the last second, if nothing has
    changed since in this process (see services.recent_sign_ins); no database read.

    None as well when the password's use is due to be noted: `authenticate_app_password`
    does that.
    """
    seen = _seen_key(rt, user_name, password)
    found = rt.app_passwords_seen.get(seen)
    if found is None:
        return None
    account, touch_due = found
    if rt.clock.now() >= touch_due:
        return None
    if rt.app_passwords_seen.due(seen):
        # Read again before it runs out, so that a steady poller never waits for it.
        rt.shared_reads.ahead(
            f"app-password\x1f{seen}",
            lambda: _authenticate(rt, user_name, password),
            lambda: rt.app_passwords_seen.forget(seen),
        )
    return account


def _needs_touch(used: AppPassword, now: datetime) -> bool:
    return used.last_used_at is None or parse_stamp(used.last_used_at) < now - _TOUCH_EVERY


def authenticate_app_password(rt: Runtime, user_name: str, password: str) -> Account:
    """The account whose phone (or id) is `user_name`, if `password` is one of its app passwords.

    Requests with the same credentials at once share one check (services.shared_reads).
    """
    return rt.shared_reads.read(
        f"app-password\x1f{_seen_key(rt, user_name, password)}",
        lambda: _authenticate(rt, user_name, password),
    )


def _authenticate(rt: Runtime, user_name: str, password: str) -> Account:
    now = rt.clock.now()
    mark = rt.app_passwords_seen.mark()
    with rt.uow() as uow:
        account = _account_named(uow, rt, user_name)
        # The same query whether or not the name is an account's.
        stored = uow.app_passwords.hashes(account.id if account else "a_nobody")
    # Every stored hash and stand-ins up to the most an account may hold are checked,
    # with no early exit: the work does not tell whether the account exists, nor how
    # many passwords it has.
    hashes = [h for _, h in stored] + [_STAND_IN] * (MAX_APP_PASSWORDS - len(stored))
    matched = [_matches(rt.secret_key, h, password) for h in hashes]
    used = next((p for (p, _), hit in zip(stored, matched, strict=False) if hit), None)
    if account is None or used is None:
        raise NotAuthenticatedError("wrong user name or app password")
    if _needs_touch(used, now):
        with rt.uow(write=True) as uow:
            uow.app_passwords.touch(used.id, stamp(now))
            uow.commit()
        return account
    assert used.last_used_at is not None  # noted just now, or within _TOUCH_EVERY
    touch_due = parse_stamp(used.last_used_at) + _TOUCH_EVERY
    rt.app_passwords_seen.put(_seen_key(rt, user_name, password), (account, touch_due), mark)
    return account
