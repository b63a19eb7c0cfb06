"""The sweep keeps each table to what the README's "Data we keep" promises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from circlebook.services.sweep import sweep
from circlebook.storage.schema import metadata
from tests.conftest import FakeClock, sign_in

OWNER, A, B = "+8613800138301", "+8613800138302", "+8613800138303"


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(metadata.tables[table])
        return int(conn.execute(query).scalar_one())


def test_the_sweep_forgets_day_old_sign_in_codes_and_past_days_invitation_counts(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock, engine: Engine
) -> None:
    client = make_client()
    owner = sign_in(client, outbox, OWNER, "Owner")
    made = owner.post("/v1/books", json={"title": "Club", "invitees": [{"phone": A}]})
    assert made.status_code == 201, made.text
    assert count(engine, "auth_codes") == 1
    assert count(engine, "invite_quota") == 1
    sweep(client.app.state.runtime)  # type: ignore[attr-defined]
    assert (count(engine, "auth_codes"), count(engine, "invite_quota")) == (1, 1)

    clock.advance(days=2, seconds=1)
    sweep(client.app.state.runtime)  # type: ignore[attr-defined]
    # Nobody asked for a code or invited anyone since: the sweep alone forgot both.
    assert (count(engine, "auth_codes"), count(engine, "invite_quota")) == (0, 0)
    sign_in(client, outbox, B, "Bee")
    sweep(client.app.state.runtime)  # type: ignore[attr-defined]
    assert count(engine, "auth_codes") == 1  # today's code stays its day
