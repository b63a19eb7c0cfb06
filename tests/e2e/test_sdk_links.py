"""The SDK's invitation-link calls against a real `circlebook serve` that texts invitees itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from circlebook.client import AsyncClient, Client, Invitee, NotFoundError, RateLimitedError
from tests.e2e.live import Server, live_server

OWNER, NEWCOMER, DECLINER = "+8613800138601", "+8613800138602", "+8613800138603"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("links")
    with live_server(workdir, invite_sms="on", public_url="https://book.example.org") as running:
        yield running


def wait_for_text(server: Server, phone: str) -> str:
    deadline = time.monotonic() + 20
    while not (texts := server.texts_to(phone)):
        assert time.monotonic() < deadline, f"nothing was texted to {phone}"
        time.sleep(0.05)
    return texts[0]


def test_an_sdk_user_invites_and_a_newcomer_answers_through_the_link(server: Server) -> None:
    with Client(server.url) as owner:
        owner.sign_in(OWNER, server.send_code(OWNER), name="Li Lei")
        created = owner.create_book("Class of 2012", [Invitee(NEWCOMER, "Meimei")])
        outcome = created.outcomes[0]
        assert outcome.status == "invited" and outcome.text_sent is True
        assert outcome.invite_url is not None
        assert outcome.invite_url.startswith("https://book.example.org/i/")
        # The server texted the same link, after the invitation was made, with a way out.
        assert wait_for_text(server, NEWCOMER) == f"{outcome.invite_text} 回复TD退订"
        pending = owner.pending_invitations(created.book.id)
        assert [p.invite_url for p in pending] == [outcome.invite_url]
        with pytest.raises(RateLimitedError):
            owner.remind(created.book.id, pending[0].id)  # not before a day has passed
    token = outcome.invite_url.rsplit("/", 1)[1]
    with Client(server.url) as newcomer:
        link = newcomer.invite_link(token)
        assert (link.book_title, link.owner_name, link.phone_hint) == (
            "Class of 2012",
            "Li Lei",
            "+86 138 **** 8602",
        )
        before = len(server.texts_to(NEWCOMER))
        newcomer.request_invite_code(token)
        joined = newcomer.accept_invite(token, server.code_for(NEWCOMER, after=before))
        assert joined.book_id == created.book.id and joined.entry.name == "Meimei"
        assert newcomer.me().phone == NEWCOMER  # the client is signed in now
        with pytest.raises(NotFoundError):
            newcomer.invite_link(token)


def test_the_async_client_declines_and_stops(server: Server) -> None:
    async def play() -> None:
        async with AsyncClient(server.url) as owner:
            await owner.sign_in(OWNER, server.send_code(OWNER), name="Li Lei")
            created = await owner.create_book("Team", [Invitee(DECLINER)])
            url = created.outcomes[0].invite_url or ""
        token = url.rsplit("/", 1)[1]
        async with AsyncClient(server.url) as stranger:
            before = len(server.texts_to(DECLINER))
            await stranger.request_invite_code(token)
            code = await asyncio.to_thread(server.code_for, DECLINER, after=before)
            await stranger.decline_invite(token, code, stop=True)
            assert stranger.token is None
        async with AsyncClient(server.url) as owner:
            await owner.sign_in(OWNER, server.send_code(OWNER))
            again = await owner.create_book("Again", [Invitee(DECLINER)])
            assert again.outcomes[0].status == "opted_out"

    asyncio.run(play())
