"""Signing in with a one-time code, and the sessions it opens."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from circlebook.domain.errors import (
    InvalidCodeError,
    InvalidInputError,
    InvalidPhoneError,
    NotAuthenticatedError,
    NotFoundError,
    RateLimitedError,
)
from circlebook.services import auth
from circlebook.services.runtime import Runtime
from tests.conftest import FakeClock
from tests.services.world import World, phone

ME = phone(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_code_is_texted_to_the_number_and_valid_for_the_policys_time(
    rt: Runtime, world: World
) -> None:
    assert auth.request_code(rt, "138 0010 0001") == rt.policy.code_ttl_seconds
    (text,) = world.sms.texts_to(ME)
    assert world.sms.last_code(ME) in text
    assert f"{rt.policy.code_ttl_seconds // 60} minutes" in text


def test_a_code_is_texted_in_the_language_asked(rt: Runtime, world: World) -> None:
    auth.request_code(rt, ME, lang="zh-Hans")
    assert "验证码" in world.sms.texts_to(ME)[0]


def test_an_invalid_number_gets_no_code(rt: Runtime, world: World) -> None:
    with pytest.raises(InvalidPhoneError):
        auth.request_code(rt, "12345")
    assert world.sms.sent == []


def test_the_first_sign_in_opens_an_account_and_later_ones_find_it(
    rt: Runtime, world: World
) -> None:
    first = world.sign_in(ME, "Li Lei")
    again = world.sign_in(ME, "Another name")
    assert (first.created, again.created) == (True, False)
    assert again.account == first.account
    assert first.account.name == "Li Lei"
    assert world.read(lambda uow: uow.accounts.by_phone(ME)) == first.account


def test_a_session_token_signs_its_account_in_until_signed_out(rt: Runtime, world: World) -> None:
    signed = world.sign_in(ME, "Li Lei")
    assert auth.authenticate(rt, signed.token) == signed.account
    auth.sign_out(rt, signed.token)
    with pytest.raises(NotAuthenticatedError):
        auth.authenticate(rt, signed.token)


def test_a_wrong_code_is_refused_and_the_right_one_still_works(rt: Runtime, world: World) -> None:
    auth.request_code(rt, ME)
    code = world.sms.last_code(ME)
    with pytest.raises(InvalidCodeError):
        auth.sign_in(rt, ME, wrong(code), "test")
    assert auth.sign_in(rt, ME, code, "test").created


def test_a_code_works_once(rt: Runtime, world: World) -> None:
    auth.request_code(rt, ME)
    code = world.sms.last_code(ME)
    auth.sign_in(rt, ME, code, "test")
    with pytest.raises(InvalidCodeError):
        auth.sign_in(rt, ME, code, "test")


def test_an_expired_code_is_refused(rt: Runtime, world: World, clock: FakeClock) -> None:
    auth.request_code(rt, ME)
    clock.advance(seconds=rt.policy.code_ttl_seconds + 1)
    with pytest.raises(InvalidCodeError):
        auth.sign_in(rt, ME, world.sms.last_code(ME), "test")
    assert world.read(lambda uow: uow.accounts.by_phone(ME)) is None


def test_a_code_is_locked_once_its_attempts_are_spent(rt: Runtime, world: World) -> None:
    auth.request_code(rt, ME)
    code = world.sms.last_code(ME)
    for _ in range(rt.policy.code_max_attempts):
        with pytest.raises(InvalidCodeError):
            auth.sign_in(rt, ME, wrong(code), "test")
    with pytest.raises(InvalidCodeError):
        auth.sign_in(rt, ME, code, "test")


def test_a_code_that_is_not_six_digits_is_refused_as_bad_input(rt: Runtime) -> None:
    with pytest.raises(InvalidInputError) as caught:
        auth.sign_in(rt, ME, "12ab", "test")
    assert caught.value.field == "code"


def test_one_number_gets_only_so_many_codes_a_window(
    make_runtime: Callable[..., Runtime], world: World, clock: FakeClock
) -> None:
    rt = make_runtime(codes_per_window=2)
    auth.request_code(rt, ME)
    auth.request_code(rt, ME)
    with pytest.raises(RateLimitedError):
        auth.request_code(rt, ME)
    assert len(world.sms.texts_to(ME)) == 2
    clock.advance(seconds=rt.policy.code_window_seconds + 1)
    auth.request_code(rt, ME)


def test_wrong_codes_to_one_number_lock_it_for_a_while(
    make_runtime: Callable[..., Runtime], world: World, clock: FakeClock
) -> None:
    rt = make_runtime(signin_failures_per_phone=2)
    auth.request_code(rt, ME)
    code = world.sms.last_code(ME)
    for _ in range(2):
        with pytest.raises(InvalidCodeError):
            auth.sign_in(rt, ME, wrong(code), "test")
    with pytest.raises(RateLimitedError):
        auth.sign_in(rt, ME, code, "test")
    clock.advance(minutes=2)
    assert auth.sign_in(rt, ME, code, "test").created


def test_an_idle_session_ends(
    make_runtime: Callable[..., Runtime], world: World, clock: FakeClock
) -> None:
    world.rt = rt = make_runtime(session_idle_days=2)
    signed = world.sign_in(ME, "Li Lei")
    clock.advance(days=3)
    with pytest.raises(NotAuthenticatedError):
        auth.authenticate(rt, signed.token)


def test_signing_out_elsewhere_keeps_only_this_device(rt: Runtime, world: World) -> None:
    here = world.sign_in(ME)
    there = world.sign_in(ME)
    listed = auth.list_sessions(rt, here.account, here.token)
    assert sorted(v.current for v in listed) == [False, True]
    assert auth.end_other_sessions(rt, here.account, here.token) == 1
    assert auth.authenticate(rt, here.token) == here.account
    with pytest.raises(NotAuthenticatedError):
        auth.authenticate(rt, there.token)


def test_nobody_ends_another_accounts_session(rt: Runtime, world: World) -> None:
    mine = world.sign_in(ME)
    theirs = world.sign_in(phone(2))
    (session,) = auth.list_sessions(rt, theirs.account, theirs.token)
    with pytest.raises(NotFoundError):
        auth.end_session(rt, mine.account, session.session.id)
    assert auth.authenticate(rt, theirs.token) == theirs.account


def test_renaming_an_account_is_kept(rt: Runtime, world: World) -> None:
    account = world.person("Li Lei", ME)
    assert auth.rename_account(rt, account, "  Han  Meimei ").name == "Han Meimei"
    stored = world.read(lambda uow: uow.accounts.get(account.id))
    assert stored is not None
    assert stored.name == "Han Meimei"
