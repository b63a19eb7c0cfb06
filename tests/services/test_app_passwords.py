"""App passwords: made once and shown once, checked by phone or account id, revoked one by one."""

from __future__ import annotations

import pytest

from circlebook.domain.errors import ConflictError, NotAuthenticatedError, NotFoundError
from circlebook.services import app_passwords
from circlebook.services.app_passwords import MAX_APP_PASSWORDS
from circlebook.services.runtime import Runtime
from tests.services.world import World


def test_an_app_password_signs_its_account_in_by_phone_or_id(rt: Runtime, world: World) -> None:
    me = world.person("Me")
    made = app_passwords.create_app_password(rt, me, "Phone contacts")
    assert made.app_password.label == "Phone contacts"
    for user_name in (me.phone, me.phone.removeprefix("+86"), me.id):
        assert app_passwords.authenticate_app_password(rt, user_name, made.password) == me


def test_an_app_password_is_forgiving_of_case_dashes_and_spaces(rt: Runtime, world: World) -> None:
    me = world.person("Me")
    made = app_passwords.create_app_password(rt, me, "Laptop")
    typed = " ".join(made.password.replace("-", "").upper())
    assert app_passwords.authenticate_app_password(rt, me.phone, typed) == me


def test_a_wrong_password_or_another_accounts_is_refused(rt: Runtime, world: World) -> None:
    me, other = world.person("Me"), world.person("Other")
    app_passwords.create_app_password(rt, me, "Laptop")
    theirs = app_passwords.create_app_password(rt, other, "Laptop")
    with pytest.raises(NotAuthenticatedError):
        app_passwords.authenticate_app_password(rt, me.phone, theirs.password)
    with pytest.raises(NotAuthenticatedError):
        app_passwords.authenticate_app_password(rt, "+8613899999999", theirs.password)


def test_the_secret_is_not_kept_and_a_listing_shows_labels_only(rt: Runtime, world: World) -> None:
    me = world.person("Me")
    made = app_passwords.create_app_password(rt, me, "Laptop")
    assert app_passwords.list_app_passwords(rt, me) == [made.app_password]
    stored = world.read(lambda uow: uow.app_passwords.hashes(me.id))
    assert [p.id for p, _ in stored] == [made.app_password.id]
    assert all(made.password not in h for _, h in stored)


def test_a_revoked_app_password_no_longer_signs_in(rt: Runtime, world: World) -> None:
    me = world.person("Me")
    kept = app_passwords.create_app_password(rt, me, "Kept")
    gone = app_passwords.create_app_password(rt, me, "Gone")
    app_passwords.revoke_app_password(rt, me, gone.app_password.id)
    with pytest.raises(NotAuthenticatedError):
        app_passwords.authenticate_app_password(rt, me.phone, gone.password)
    assert app_passwords.authenticate_app_password(rt, me.phone, kept.password) == me
    (listed,) = app_passwords.list_app_passwords(rt, me)
    # The one left, with the moment of its use just now noted.
    assert (listed.id, listed.last_used_at) == (kept.app_password.id, listed.created_at)


def test_nobody_revokes_another_accounts_app_password(rt: Runtime, world: World) -> None:
    me, other = world.person("Me"), world.person("Other")
    theirs = app_passwords.create_app_password(rt, other, "Laptop")
    with pytest.raises(NotFoundError):
        app_passwords.revoke_app_password(rt, me, theirs.app_password.id)
    assert app_passwords.authenticate_app_password(rt, other.phone, theirs.password) == other


def test_an_account_holds_a_bounded_number_of_app_passwords(rt: Runtime, world: World) -> None:
    me = world.person("Me")
    for n in range(MAX_APP_PASSWORDS):
        app_passwords.create_app_password(rt, me, f"Device {n}")
    with pytest.raises(ConflictError):
        app_passwords.create_app_password(rt, me, "One too many")
    assert len(app_passwords.list_app_passwords(rt, me)) == MAX_APP_PASSWORDS
