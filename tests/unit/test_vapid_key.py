"""The server's VAPID key: made once and kept private, given, or shared through the secret key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from circlebook.push import public_key_b64
from circlebook.settings import SettingsError, load_settings, vapid_key, vapid_subject

SECRET = b"s" * 40


def test_a_development_vapid_key_is_generated_once_beside_the_database_and_kept_private(
    tmp_path: Path,
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/data/cb.db")
    first = public_key_b64(vapid_key(settings, SECRET))
    assert public_key_b64(vapid_key(settings, SECRET)) == first
    key_file = tmp_path / "data" / "cb.db.vapid"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_given_vapid_key_is_used_in_either_form(tmp_path: Path) -> None:
    made = vapid_key(load_settings(database_url=f"sqlite:///{tmp_path}/cb.db"), SECRET)
    raw = made.private_numbers().private_value.to_bytes(32, "big")
    pem = made.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for given in (base64.urlsafe_b64encode(raw).decode().rstrip("="), pem):
        settings = load_settings(database_url="sqlite://", vapid_private_key=given)
        assert public_key_b64(vapid_key(settings, SECRET)) == public_key_b64(made)


def test_a_vapid_key_that_is_not_p256_stops_start_up() -> None:
    settings = load_settings(database_url="sqlite://", vapid_private_key="not a key!")
    with pytest.raises(SettingsError, match="CIRCLEBOOK_VAPID_PRIVATE_KEY"):
        vapid_key(settings, SECRET)


def test_instances_on_postgresql_derive_the_same_key_from_the_shared_secret() -> None:
    settings = load_settings(database_url="postgresql://x@127.0.0.1/y", secret_key="s" * 40)
    assert public_key_b64(vapid_key(settings, SECRET)) == public_key_b64(
        vapid_key(settings, SECRET)
    )
    assert public_key_b64(vapid_key(settings, SECRET)) != public_key_b64(
        vapid_key(settings, b"t" * 40)
    )


def test_the_vapid_subject_is_chosen_else_the_public_https_address() -> None:
    assert vapid_subject(load_settings(vapid_subject="mailto:ops@example.org")) == (
        "mailto:ops@example.org"
    )
    public = load_settings(public_url="https://book.example.org")
    assert vapid_subject(public) == "https://book.example.org"
    assert vapid_subject(load_settings()).startswith("mailto:")
