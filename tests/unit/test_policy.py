"""The limits the use cases enforce are the settings', built in one place."""

from __future__ import annotations

from dataclasses import MISSING, fields

from circlebook.composition import policy_from
from circlebook.services.runtime import Policy
from circlebook.settings import load_settings

# Policy fields whose value is read from a setting rather than copied as it is.
DERIVED = {"public_url", "invite_sms", "push_public_key"}


def test_a_policy_has_no_defaults_of_its_own() -> None:
    assert [f.name for f in fields(Policy) if f.default is not MISSING] == []
    assert [f.name for f in fields(Policy) if f.default_factory is not MISSING] == []


def test_each_limit_is_the_setting_of_its_name() -> None:
    settings = load_settings(
        database_url="sqlite://",
        max_invitees_per_request=7,
        invites_per_day=11,
        region="DE",
        public_url="https://book.example",
        invite_sms="on",
    )
    policy = policy_from(settings, "key")
    for name in {f.name for f in fields(Policy)} - DERIVED:
        assert getattr(policy, name) == getattr(settings, name), name
    assert (policy.max_invitees_per_request, policy.invites_per_day, policy.region) == (7, 11, "DE")
    assert (policy.public_url, policy.invite_sms, policy.push_public_key) == (
        "https://book.example",
        True,
        "key",
    )


def test_settings_left_empty_turn_the_derived_limits_off() -> None:
    policy = policy_from(load_settings(database_url="sqlite://", public_url="", invite_sms="off"))
    assert (policy.public_url, policy.invite_sms, policy.push_public_key) == (None, False, None)
