"""Who hears a book.changed: exactly the members whose view it changes."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from circlebook.domain.events import (
    BookChanged,
    Event,
    EventType,
    InvitationReceived,
    concerns,
    kinds_concerned,
)
from circlebook.domain.model import Role
from circlebook.domain.visibility import Viewer
from circlebook.notify.hub import Hub, Signal, Subscriber

RED = frozenset({"red"})
BLUE = frozenset({"blue"})
NONE: frozenset[str] = frozenset()


def viewer(account: str, tags: frozenset[str], role: Role = Role.MEMBER) -> Viewer:
    return Viewer(account, f"e_{account}", role, tags, 1)


def change(
    subject: str | None, old: frozenset[str] | None, new: frozenset[str] | None
) -> BookChanged:
    return BookChanged(
        book_id="b1", sync_token="2.x", subject_id=subject, old_tags=old, new_tags=new
    )


@pytest.mark.parametrize(
    ("who", "event", "hears"),
    [
        (viewer("owner", NONE, Role.OWNER), change("red1", RED, RED), True),
        (viewer("red2", RED), change("red1", RED, RED), True),
        (viewer("blue1", BLUE), change("red1", RED, RED), False),
        (viewer("plain", NONE), change("red1", RED, RED), False),
        (viewer("blue1", BLUE), change("red1", RED, BLUE), True),  # moved into blue's view
        (viewer("red2", RED), change("red1", RED, BLUE), True),  # moved out of red's view
        (viewer("plain", NONE), change("plain2", NONE, NONE), True),
        (viewer("blue1", BLUE), change("red1", None, RED), False),  # joined red
        (viewer("blue1", BLUE), change("red1", RED, None), False),  # left red
        (viewer("blue1", BLUE), change("blue1", BLUE, RED), True),  # its own entry
        (viewer("blue1", BLUE), change(None, None, None), True),  # the book's title
        (viewer("blue1", BLUE), change("owner", None, None), True),  # the owner's entry
    ],
)
def test_book_change_reaches_only_members_whose_view_it_changes(
    who: Viewer, event: BookChanged, hears: bool
) -> None:
    assert concerns(who, event) is hears


def test_hub_hands_account_events_to_that_account_and_book_events_by_scope() -> None:
    hub = Hub()
    red, blue, newcomer = Subscriber("red2"), Subscriber("blue1"), Subscriber("red1")
    for sub in (red, blue, newcomer):
        hub.attach(sub)
    hub.watch(red, "b1", viewer("red2", RED))
    hub.watch(blue, "b1", viewer("blue1", BLUE))
    hub.deliver(change("red1", None, RED))  # red1 joins: not yet following b1
    hub.deliver(InvitationReceived(account_id="blue1", invitation_id="i1", book_id="b1"))
    got = {s.account_id: [e.type for e in drain(s)] for s in (red, blue, newcomer)}
    assert got == {
        "red2": [EventType.BOOK_CHANGED],
        "blue1": [EventType.INVITATION_RECEIVED],
        "red1": [EventType.BOOK_CHANGED],
    }
    hub.detach(red)
    hub.deliver(change("red1", RED, RED))
    assert drain(red) == []
    assert hub.streams == 2


def drain(subscriber: Subscriber) -> list[Event]:
    out = []
    while (event := subscriber.take()) is not None:
        out.append(event)
    return out


def test_a_change_moves_the_views_of_exactly_the_kinds_that_hear_it() -> None:
    kinds = [RED, BLUE, NONE, RED | BLUE]
    assert kinds_concerned(kinds, change("red1", RED, RED)) == [RED, RED | BLUE]
    assert kinds_concerned(kinds, change("red1", RED, BLUE)) == [RED, BLUE, RED | BLUE]
    assert kinds_concerned(kinds, change("plain", NONE, None)) == [NONE]
    assert kinds_concerned(kinds, change(None, None, None)) == kinds  # the book itself


def test_a_replay_gives_a_member_nothing_from_before_its_place_in_the_book() -> None:
    joined_at_5 = Viewer("red2", "e_red2", Role.MEMBER, RED, 5)
    early, late = (replace(change("red1", RED, RED), version=v) for v in (4, 5))
    assert not concerns(joined_at_5, early)
    assert concerns(joined_at_5, late)
    subscriber = Subscriber("red2")
    subscriber.viewers["b1"] = joined_at_5
    own_early = replace(change("red2", None, RED), version=4)
    assert not subscriber.wants(own_early)


def test_a_waiting_stream_hears_events_then_keep_alives_from_the_hub_tick_then_its_close() -> None:
    async def listen() -> list[object]:
        hub = Hub(heartbeat=0.16)
        subscriber = Subscriber("red2")
        hub.attach(subscriber)
        hub.watch(subscriber, "b1", viewer("red2", RED))
        heard: list[object] = []
        hub.deliver(change("red1", RED, RED))
        heard.append((await subscriber.next()).__class__.__name__)
        # Nothing more to send: the tick's keep-alive (the bound only stops a hang).
        heard.append(await asyncio.wait_for(subscriber.next(), timeout=30))
        subscriber.close()
        heard.append(await subscriber.next())
        hub.detach(subscriber)
        assert hub.streams == 0
        return heard

    assert asyncio.run(listen()) == ["BookChanged", Signal.KEEP_ALIVE, Signal.CLOSED]
