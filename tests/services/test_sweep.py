"""The hourly sweep: what the server no longer needs goes, and what it still needs stays."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from circlebook.domain.errors import StaleSyncTokenError
from circlebook.services import auth, entries, events
from circlebook.services.invitations import Invitee
from circlebook.services.runtime import Runtime
from circlebook.services.sweep import sweep
from tests.conftest import FakeClock
from tests.services.world import World


def test_the_sweep_deletes_expired_invitations_and_keeps_live_ones(
    rt: Runtime, world: World, clock: FakeClock
) -> None:
    owner = world.person("Owner")
    _, (old,) = world.book(owner, Invitee(world.new_phone()))
    clock.advance(days=rt.policy.invitation_ttl_days - 1)
    _, (young,) = world.book(owner, Invitee(world.new_phone()))
    clock.advance(days=1, seconds=1)
    sweep(rt)
    kept = world.read(lambda uow: uow.invitations.sent_by(owner.id, "0"))
    assert [i.id for i in kept] == [young.invitation_id]
    assert old.invitation_id != young.invitation_id


def test_the_sweep_ends_idle_sessions(
    make_runtime: Callable[..., Runtime], world: World, clock: FakeClock
) -> None:
    world.rt = rt = make_runtime(session_idle_days=2)
    idle = world.sign_in(world.new_phone())
    clock.advance(days=1)
    busy = world.sign_in(world.new_phone())
    clock.advance(days=1, seconds=1)
    sweep(rt)
    assert world.read(lambda uow: uow.sessions.of_account(idle.account.id)) == []
    assert len(world.read(lambda uow: uow.sessions.of_account(busy.account.id))) == 1


def test_the_sweep_forgets_sign_in_codes_after_a_day(
    rt: Runtime, world: World, clock: FakeClock
) -> None:
    number = world.new_phone()
    auth.request_code(rt, number)
    key = auth.phone_key(rt.secret_key, number)
    clock.advance(days=1, seconds=1)
    sweep(rt)
    # Even read as if it were still live, the code is gone.
    assert world.read(lambda uow: uow.codes.live(key, "0")) is None


def test_the_sweep_drops_events_older_than_a_week_and_replay_then_asks_for_a_resync(
    rt: Runtime, world: World, clock: FakeClock
) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    assert events.missed(rt, owner, 0, [summary.book.id])
    clock.advance(days=8)
    sweep(rt)
    assert events.missed(rt, owner, 0, [summary.book.id]) == []
    world.book(owner, title="Later")
    assert events.missed(rt, owner, 0, [summary.book.id]) is None


def test_the_sweep_forgets_departures_past_the_token_lifetime_and_old_tokens_must_resync(
    make_runtime: Callable[..., Runtime], world: World, clock: FakeClock
) -> None:
    world.rt = rt = make_runtime(sync_token_days=10)
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    _, theirs = world.member(owner, summary.book.id, "Member")
    token = entries.fetch_entries(rt, owner, summary.book.id).sync_token
    entries.remove_entry(rt, owner, summary.book.id, theirs.id)
    clock.advance(days=5)
    sweep(rt)
    assert entries.fetch_entries(rt, owner, summary.book.id, since=token).removed == [theirs.id]
    clock.advance(days=6)
    sweep(rt)
    assert world.read(lambda uow: uow.departures.since(summary.book.id, 0)) == []
    with pytest.raises(StaleSyncTokenError):
        entries.fetch_entries(rt, owner, summary.book.id, since=token)
