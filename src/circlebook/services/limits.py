"""Abuse limits on signing in: per client address, per number, and the deployment's texts.

A code can be guessed one try at a time and a text costs money and annoys its
recipient, so beyond the limits on one code (its attempts) and one number (its
codes per window) a client address may ask for only so many codes and make only
so many wrong guesses per window, wrong guesses to one number across all its
codes lock it out for a time that doubles with each further one, and the whole
deployment sends at most so many texts an hour. Every count is an atomic claim.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

from circlebook.domain.errors import RateLimitedError, TextBudgetSpentError
from circlebook.services.clock import parse_stamp, stamp
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Policy, Runtime

HOUR = timedelta(hours=1)
# Wrong guesses to one number are counted over a day; the first lockout lasts this
# long and each further wrong guess doubles it, up to the day.
PHONE_WINDOW = timedelta(days=1)
FIRST_LOCKOUT = timedelta(minutes=1)


def client_of(address: str | None) -> str:
    """Who a limit counts: the IPv4 address, or the /64 of an IPv6 one (one household)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:60]  # not an address (an in-process test client): as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def _wait(window_start: str, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil((parse_stamp(window_start) + window - now).total_seconds()))


def _claim(uow: UnitOfWork, key: str, cap: int, window: timedelta, now: datetime) -> int | None:
    """Count one more against `cap`; None if counted, else the seconds until there is room."""
    cutoff = stamp(now - window)
    if uow.counters.claim(key, stamp(now), cutoff, cap):
        return None
    held = uow.counters.peek(key, cutoff)
    return _wait(held.window_start, window, now) if held else 1


def claim_code_request(
    uow: UnitOfWork, policy: Policy, phone_hash: str, client: str | None, now: datetime
) -> None:
    """Count a code request against the number, the client and the hour's texts, or refuse it."""
    window = timedelta(seconds=policy.code_window_seconds)
    minutes = policy.code_window_seconds // 60
    wait = _claim(uow, f"codes:{phone_hash}", policy.codes_per_window, window, now)
    if wait is not None:
        raise RateLimitedError(
            f"at most {policy.codes_per_window} codes per {minutes} minutes for one number",
            retry_after=wait,
        )
    if client is not None and policy.code_requests_per_client:
        cap = policy.code_requests_per_client
        wait = _claim(uow, f"codes-from:{client}", cap, window, now)
        if wait is not None:
            raise RateLimitedError(
                f"at most {cap} code requests per {minutes} minutes from one address",
                retry_after=wait,
            )
    if policy.sms_per_hour:
        wait = _claim(uow, "texts-this-hour", policy.sms_per_hour, HOUR, now)
        if wait is not None:
            raise TextBudgetSpentError(
                "the server has sent all the texts it may this hour: try again later",
                retry_after=wait,
            )


def check_guess_allowed(
    uow: UnitOfWork, policy: Policy, phone_hash: str, client: str | None, now: datetime
) -> None:
    """Refuse a guess from a client with too many wrong ones, or at a number locked out."""
    if client is not None and policy.signin_failures_per_client:
        window = timedelta(seconds=policy.code_window_seconds)
        held = uow.counters.peek(f"wrong-from:{client}", stamp(now - window))
        if held is not None and held.hits >= policy.signin_failures_per_client:
            raise RateLimitedError(
                "too many wrong codes from this address: wait before trying again",
                retry_after=_wait(held.window_start, window, now),
            )
    if policy.signin_failures_per_phone:
        held = uow.counters.peek(f"wrong-to:{phone_hash}", stamp(now - PHONE_WINDOW))
        until = _locked_until(held.hits, held.last_at, policy) if held else None
        if until is not None and now < until:
            raise RateLimitedError(
                "too many wrong codes for this number: it is locked for a while",
                retry_after=max(1, math.ceil((until - now).total_seconds())),
            )


def _locked_until(wrong: int, last_at: str, policy: Policy) -> datetime | None:
    beyond = wrong - policy.signin_failures_per_phone
    if beyond < 0:
        return None
    lockout: timedelta = min(FIRST_LOCKOUT * (2 ** min(beyond, 20)), PHONE_WINDOW)
    until: datetime = parse_stamp(last_at) + lockout
    return until


def count_wrong_guess(
    uow: UnitOfWork, policy: Policy, phone_hash: str, client: str | None, now: datetime
) -> None:
    """Count a wrong code against the client and the number (the caller commits)."""
    if client is not None and policy.signin_failures_per_client:
        window = timedelta(seconds=policy.code_window_seconds)
        uow.counters.hit(f"wrong-from:{client}", stamp(now), stamp(now - window))
    if policy.signin_failures_per_phone:
        uow.counters.hit(f"wrong-to:{phone_hash}", stamp(now), stamp(now - PHONE_WINDOW))


def keys_of_number(phone_hash: str) -> list[str]:
    """The counters kept under a number's keyed hash."""
    return [f"codes:{phone_hash}", f"wrong-to:{phone_hash}"]


def prune(rt: Runtime) -> None:
    """Forget counters nobody touched for a day: every window is shorter."""
    with rt.uow(write=True) as uow:
        uow.counters.purge_before(stamp(rt.clock.now() - PHONE_WINDOW))
        uow.commit()
