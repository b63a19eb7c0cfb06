"""Settings refuse what cannot run, and keep a development key beside the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from circlebook.settings import (
    SettingsError,
    console_sms_exposure,
    is_loopback,
    load_settings,
    secret_key_bytes,
)

# Only judged as a setting, never bound.
ALL = "0.0.0.0"  # noqa: S104


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"region": "XX"}, "CIRCLEBOOK_REGION"),
        ({"database_url": "mysql://x/y"}, "CIRCLEBOOK_DATABASE_URL"),
        ({"database_url": "not a url"}, "CIRCLEBOOK_DATABASE_URL"),
        ({"sms": "pigeon"}, "CIRCLEBOOK_SMS"),
        ({"port": 70000}, "CIRCLEBOOK_PORT"),
        ({"invites_per_day": 0}, "CIRCLEBOOK_INVITES_PER_DAY"),
        ({"dav_push_interval_seconds": 0}, "CIRCLEBOOK_DAV_PUSH_INTERVAL_SECONDS"),
        ({"dav_push_max_days": 2}, "CIRCLEBOOK_DAV_PUSH_MAX_DAYS"),
        ({"dav_push_max_registrations": -1}, "CIRCLEBOOK_DAV_PUSH_MAX_REGISTRATIONS"),
        ({"secret_key": "short"}, "must be at least 32"),
        ({"database_url": "postgresql://u@h/db"}, "CIRCLEBOOK_SECRET_KEY"),
    ],
)
def test_bad_settings_stop_with_a_message_naming_them(
    overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(**overrides)


def test_settings_come_from_circlebook_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCLEBOOK_REGION", "us")
    monkeypatch.setenv("CIRCLEBOOK_PORT", "9001")
    settings = load_settings()
    assert (settings.region, settings.port) == ("US", 9001)


def test_development_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/data/cb.db")
    first = secret_key_bytes(settings)
    assert secret_key_bytes(settings) == first
    key_file = tmp_path / "data" / "cb.db.secret"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 32


def test_given_key_is_used_as_is() -> None:
    settings = load_settings(database_url="sqlite://", secret_key="k" * 40)
    assert secret_key_bytes(settings) == b"k" * 40


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"])
def test_loopback_hosts_keep_the_server_to_this_machine(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", [ALL, "::", "192.168.1.5", "book.example.org", ""])
def test_other_hosts_reach_beyond_this_machine(host: str) -> None:
    assert not is_loopback(host)


def test_the_default_console_sms_is_refused_beyond_loopback_and_chosen_console_warned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CIRCLEBOOK_SMS", raising=False)
    assert console_sms_exposure(load_settings(host="127.0.0.1")) is None
    assert console_sms_exposure(load_settings(host=ALL)) == "refuse"
    assert console_sms_exposure(load_settings(host=ALL, sms="file:/tmp/o")) is None
    monkeypatch.setenv("CIRCLEBOOK_SMS", "console")
    assert console_sms_exposure(load_settings(host=ALL)) == "warn"
    assert console_sms_exposure(load_settings(host="::1")) is None
