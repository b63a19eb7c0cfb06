"""`circlebook serve` refuses unsafe settings before it listens: nothing is bound here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from circlebook import serving

# Never bound: serve is stopped before it listens, or the host only judged.
ALL = "0.0.0.0"  # noqa: S104


@pytest.fixture
def listened(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """The calls serve made to uvicorn.run (recorded, not run), over a fresh SQLite file."""
    for name in ("CIRCLEBOOK_SMS", "CIRCLEBOOK_HOST", "CIRCLEBOOK_BROKER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIRCLEBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'circlebook.db'}")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serving.uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.setattr(serving, "_frozen", lambda app: app)  # keep this process's gc as it is
    return calls


def test_serve_refuses_the_default_console_sms_beyond_loopback(
    listened: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as stopped:
        serving.serve(ALL, 0)
    assert stopped.value.exit_code == 2
    assert listened == []
    said = " ".join(capsys.readouterr().err.split())
    assert "refusing to listen on 0.0.0.0 with the console SMS sender" in said
    assert "CIRCLEBOOK_SMS" in said


def test_serve_starts_with_console_sms_chosen_on_purpose_and_warns(
    listened: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIRCLEBOOK_SMS", "console")
    serving.serve(ALL, 0)
    assert [call["host"] for call in listened] == [ALL]
    assert "every sign-in code is written to the log" in " ".join(capsys.readouterr().err.split())


def test_serve_on_loopback_keeps_the_console_sms_default(
    listened: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    serving.serve("127.0.0.1", 0)
    assert [call["host"] for call in listened] == ["127.0.0.1"]
    assert "console" not in capsys.readouterr().err


def test_serve_runs_on_the_standard_event_loop_with_one_worker_or_several(
    listened: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvloop took in one new connection per turn of its loop under load (see serving).
    serving.serve("127.0.0.1", 0)
    monkeypatch.setenv("CIRCLEBOOK_BROKER", "redis://127.0.0.1:6379/0")
    serving.serve("127.0.0.1", 0, workers=2)
    assert [call.get("workers", 1) for call in listened] == [1, 2]
    assert [call["loop"] for call in listened] == ["asyncio", "asyncio"]
