"""The event stream: pushed across server instances, resumable, and scoped by tags."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from circlebook.client import Client, Invitee, LocalBook, ServerEvent, TransportError
from tests.conftest import SECRET
from tests.e2e.live import Server, live_server

OWNER, FRIEND, RED, BLUE = "+8615200152001", "+8615200152002", "+8615200152003", "+8615200152004"
WAIT = 10.0
# Keep-alives every second: a listener thread notices its closed client within a second.
QUICK = {"events_heartbeat_seconds": "1"}


class Listener:
    """Follows one account's event stream in a thread; events land in a queue."""

    def __init__(self, client: Client, last_event_id: str | None = None) -> None:
        self.client = client
        self.events: queue.Queue[ServerEvent] = queue.Queue()
        self.early: list[ServerEvent] = []
        self.thread = threading.Thread(target=self._run, args=(last_event_id,), daemon=True)
        self.thread.start()

    def _run(self, last_event_id: str | None) -> None:
        try:
            for event in self.client.events(last_event_id=last_event_id):
                self.events.put(event)
        except TransportError:
            pass  # closed by stop()

    def _get(self) -> ServerEvent:
        if self.early:
            return self.early.pop(0)
        try:
            return self.events.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no event arrived within {WAIT} s")

    def wait_ready(self) -> None:
        """Until the server says the stream is live; what came before it is kept."""
        while (event := self.events.get(timeout=WAIT)).type != "ready":
            self.early.append(event)

    def next(self, kind: str | None = None) -> ServerEvent:
        """The next event (of `kind`, skipping others), or fail after a few seconds."""
        while True:
            event = self._get()
            if event.type == "ready":
                continue
            if kind is None or event.type == kind:
                return event

    def stop(self) -> None:
        self.client.close()
        self.thread.join(timeout=WAIT)


@pytest.fixture
def clients() -> Iterator[ExitStack]:
    """Closes every client a test opened."""
    with ExitStack() as stack:
        yield stack


def person(stack: ExitStack, server: Server, phone: str, name: str) -> Client:
    client = stack.enter_context(Client(server.url))
    client.request_code(phone)
    client.sign_in(phone, server.code_for(phone), "test", name=name)
    return client


@contextmanager
def listening(client: Client, last_event_id: str | None = None) -> Iterator[Listener]:
    listener = Listener(Client(client.base_url, client.token), last_event_id)
    try:
        listener.wait_ready()
        yield listener
    finally:
        listener.stop()


def two_instances_share_events(tmp_path: Path, stack: ExitStack, **settings: str) -> None:
    a = stack.enter_context(live_server(tmp_path, "a", **QUICK, **settings))
    b = stack.enter_context(live_server(tmp_path, "b", **QUICK, **settings))
    owner_a = person(stack, a, OWNER, "Owner")
    friend_b = person(stack, b, FRIEND, "Friend")
    friend_hears = stack.enter_context(listening(friend_b))
    owner_hears = stack.enter_context(listening(owner_a))
    book = owner_a.create_book("Across", [Invitee(FRIEND)]).book
    received = friend_hears.next("invitation.received")
    assert received.data["book_id"] == book.id
    friend_b.accept(received.data["invitation_id"])
    accepted = owner_hears.next("invitation.accepted")
    assert accepted.data["book_id"] == book.id
    changed = owner_hears.next("book.changed")
    assert owner_a.entries(book.id).sync_token == changed.data["sync_token"]


@pytest.mark.postgres
def test_instances_sharing_postgres_push_each_others_events(
    tmp_path: Path, empty_postgres: str, run_channel: str, clients: ExitStack
) -> None:
    two_instances_share_events(
        tmp_path,
        clients,
        database_url=empty_postgres,
        secret_key=SECRET,
        broker_channel=run_channel,
    )


@pytest.mark.postgres
def test_instances_sharing_redis_push_each_others_events(
    tmp_path: Path, empty_postgres: str, redis_url: str, run_channel: str, clients: ExitStack
) -> None:
    two_instances_share_events(
        tmp_path,
        clients,
        database_url=empty_postgres,
        secret_key=SECRET,
        broker=redis_url,
        broker_channel=run_channel,
    )


def test_reconnecting_with_last_event_id_catches_up_to_a_full_fetch(
    tmp_path: Path, clients: ExitStack
) -> None:
    with live_server(tmp_path, **QUICK) as server:
        owner, friend, red = (
            person(clients, server, OWNER, "Owner"),
            person(clients, server, FRIEND, "Friend"),
            person(clients, server, RED, "Red"),
        )
        book = owner.create_book("Resume", [Invitee(FRIEND), Invitee(RED)]).book
        friend.accept(friend.inbox()[0].id)
        copy = LocalBook(book.id)
        copy.sync(friend)
        with listening(friend) as hears:
            red.accept(red.inbox()[0].id)
            last = hears.next("book.changed")
        copy.sync(friend)
        red_entry = next(e for e in owner.entries(book.id).entries if e.phone == RED)
        friend_entry = next(e for e in owner.entries(book.id).entries if e.phone == FRIEND)
        # While the friend is away: a rename, a removal and a rename of the book.
        owner.update_entry(book.id, friend_entry.id, name="Best Friend")
        owner.remove_entry(book.id, red_entry.id)
        owner.rename_book(book.id, "Resumed")
        with listening(friend, last_event_id=last.id) as hears:
            missed = [hears.next("book.changed") for _ in range(3)]
        assert int(missed[0].id or 0) > int(last.id or 0)
        copy.sync(friend)
        full = friend.entries(book.id)
        assert copy.entries == {e.id: e for e in full.entries}
        assert copy.sync_token == missed[-1].data["sync_token"] == full.sync_token


def test_a_replay_from_the_start_begins_at_the_members_own_joining(
    tmp_path: Path, clients: ExitStack
) -> None:
    with live_server(tmp_path, **QUICK) as server:
        owner, blue, red = (
            person(clients, server, OWNER, "Owner"),
            person(clients, server, BLUE, "Blue"),
            person(clients, server, RED, "Red"),
        )
        book = owner.create_book("Early", [Invitee(BLUE), Invitee(RED)]).book
        # All of this happened before Red was a member: none of it is Red's to hear.
        blue.accept(blue.inbox()[0].id)
        owner.rename_book(book.id, "Earlier")
        owner.rename_book(book.id, "Earliest")
        red.accept(red.inbox()[0].id)
        joined = red.entries(book.id).sync_token
        listener = Listener(Client(red.base_url, red.token), "0")
        try:
            listener.wait_ready()
            replayed = [e for e in listener.early if e.type == "book.changed"]
        finally:
            listener.stop()
        assert [e.data["sync_token"] for e in replayed] == [joined]
        # The owner's replay still has the book's whole history.
        with_owner = Listener(Client(owner.base_url, owner.token), "0")
        try:
            with_owner.wait_ready()
            assert len([e for e in with_owner.early if e.type == "book.changed"]) == 5
        finally:
            with_owner.stop()


def test_a_lost_log_tells_the_client_to_resync(tmp_path: Path, clients: ExitStack) -> None:
    with live_server(tmp_path, **QUICK) as server:
        owner = person(clients, server, OWNER, "Owner")
        with listening(owner, last_event_id="not-a-number") as hears:
            assert hears.next().type == "resync"


def test_member_of_another_tag_hears_nothing_of_changes_it_cannot_see(
    tmp_path: Path, clients: ExitStack
) -> None:
    with live_server(tmp_path, **QUICK) as server:
        owner, red, blue = (
            person(clients, server, OWNER, "Owner"),
            person(clients, server, RED, "Red"),
            person(clients, server, BLUE, "Blue"),
        )
        book = owner.create_book(
            "Scoped", [Invitee(RED, tags=("red",)), Invitee(BLUE, tags=("blue",))]
        ).book
        red.accept(red.inbox()[0].id)
        blue.accept(blue.inbox()[0].id)
        entries = {e.phone: e for e in owner.entries(book.id).entries}
        with listening(blue) as hears:
            owner.update_entry(book.id, entries[RED].id, name="Red renamed")
            owner.update_entry(book.id, entries[RED].id, tags=["red", "green"])
            owner.remove_entry(book.id, entries[RED].id)
            owner.update_entry(book.id, entries[BLUE].id, name="Blue renamed")
            heard = hears.next()
        # The first thing Blue hears is the change to its own entry, nothing before it.
        assert heard.type == "book.changed"
        assert heard.data["sync_token"] == blue.entries(book.id).sync_token
        delta = blue.entries(book.id, since=heard.data["sync_token"])
        assert delta.entries == []


def test_idle_streams_get_keep_alives_and_anonymous_ones_a_401(
    tmp_path: Path, clients: ExitStack
) -> None:
    with live_server(tmp_path, **QUICK) as server:
        owner = person(clients, server, OWNER, "Owner")
        headers = {"Authorization": f"Bearer {owner.token}"}
        with server.http.stream("GET", "/v1/events", headers=headers) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            seen = [next(lines) for _ in range(8)]
        assert ": keep-alive" in seen
        refused = server.http.get("/v1/events")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.postgres
def test_worker_processes_of_one_server_share_events(
    tmp_path: Path, empty_postgres: str, run_channel: str, clients: ExitStack
) -> None:
    settings = {"database_url": empty_postgres, "secret_key": SECRET, "broker_channel": run_channel}
    with live_server(tmp_path, workers=2, **QUICK, **settings) as server:
        owner = person(clients, server, OWNER, "Owner")
        friend = person(clients, server, FRIEND, "Friend")
        # With two workers, each of several streams lands on either process.
        with ExitStack() as streams:
            hearing = [streams.enter_context(listening(friend)) for _ in range(4)]
            book = owner.create_book("Workers", [Invitee(FRIEND)]).book
            for hears in hearing:
                assert hears.next("invitation.received").data["book_id"] == book.id


def _open_stream(stack: ExitStack, server: Server, token: str) -> httpx.Response:
    """An event stream held open (until `stack` closes), read up to its `ready` event."""
    http = stack.enter_context(httpx.Client(base_url=server.url, timeout=WAIT))
    response = stack.enter_context(
        http.stream("GET", "/v1/events", headers={"authorization": f"Bearer {token}"})
    )
    if response.status_code == 200:
        # Kept until `stack` closes: a line iterator collected early closes the stream.
        lines = response.iter_lines()
        stack.callback(lines.close)
        for line in lines:
            if line == "event: ready":
                break
    return response


def test_an_account_may_hold_only_so_many_streams_open_at_once(
    tmp_path: Path, clients: ExitStack
) -> None:
    with live_server(tmp_path, streams_per_account="2", **QUICK) as server:
        owner = person(clients, server, OWNER, "Owner")
        friend = person(clients, server, FRIEND, "Friend")
        assert owner.token and friend.token
        first = ExitStack()
        with first, ExitStack() as second:
            assert _open_stream(first, server, owner.token).status_code == 200
            assert _open_stream(second, server, owner.token).status_code == 200
            third = _open_stream(second, server, owner.token)
            assert third.status_code == 429
            assert int(third.headers["retry-after"]) > 0
            assert third.headers["content-type"] == "application/problem+json"
            assert "event streams" in json.loads(third.read())["detail"]
            # Another account has slots of its own.
            assert _open_stream(second, server, friend.token).status_code == 200
            first.close()  # closing a stream frees its slot
            deadline = time.monotonic() + WAIT
            while (again := _open_stream(second, server, owner.token)).status_code == 429:
                assert time.monotonic() < deadline, "the closed stream kept its slot"
                time.sleep(0.1)
            assert again.status_code == 200


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_last_event_id_that_is_not_an_ascii_number_gets_a_resync(
    tmp_path: Path, clients: ExitStack, request: pytest.FixtureRequest, backend: str
) -> None:
    settings = dict(QUICK)
    if backend == "postgres":
        settings.update(database_url=request.getfixturevalue("empty_postgres"), secret_key=SECRET)
    # Headers arrive as Latin-1: b"\xb2" is "²", which str.isdigit() calls a digit.
    odd_ids = ["²".encode("latin-1"), "³".encode("latin-1"), "٣".encode(), b"-1", b"+1", b"9" * 19]
    with live_server(tmp_path, **settings) as server:
        owner = person(clients, server, OWNER, "Owner")
        for odd in odd_ids:
            headers = {"Authorization": f"Bearer {owner.token}".encode(), "Last-Event-ID": odd}
            with server.http.stream("GET", "/v1/events", headers=headers) as response:
                assert response.status_code == 200
                lines = response.iter_lines()
                seen = [next(lines) for _ in range(9)]  # retry, resync, ready
            assert "event: resync" in seen, (odd, seen)
            assert "event: ready" in seen, (odd, seen)
