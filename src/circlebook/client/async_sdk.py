"""AsyncClient: the same operations as `Client`, for asyncio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from circlebook.client import calls, models, transport
from circlebook.client.calls import Call
from circlebook.client.events import ServerEvent, aparse

T = TypeVar("T")


class AsyncClient:
    """The same operations as `Client`, for asyncio."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.token = token
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(
                call.method, call.path, **transport.request_args(call, self.token)
            )
        except httpx.HTTPError as exc:
            raise transport.unreachable(self._http.base_url, exc) from exc
        return transport.read(call, response)

    async def health(self) -> str:
        return await self.send(calls.health())

    async def events(self, *, last_event_id: str | None = None) -> AsyncIterator[ServerEvent]:
        """Follow the account's events until the server or the caller closes the stream."""
        headers = transport.headers(self.token, last_event_id)
        try:
            async with self._http.stream(
                "GET", transport.EVENTS_PATH, headers=headers, timeout=transport.STREAM_TIMEOUT
            ) as r:
                if r.status_code >= 400:
                    await r.aread()
                    transport.check(r)
                async for event in aparse(r.aiter_lines()):
                    yield event
        except httpx.HTTPError as exc:
            raise transport.stream_ended(self._http.base_url, exc) from exc

    async def request_code(self, phone: str, region: str | None = None) -> int:
        return await self.send(calls.request_code(phone, region))

    async def sign_in(
        self,
        phone: str,
        code: str,
        device: str = transport.DEFAULT_DEVICE,
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> models.Session:
        session = await self.send(calls.sign_in(phone, code, device, name, region))
        self.token = session.token
        return session

    async def sign_out(self) -> None:
        await self.send(calls.sign_out())
        self.token = None

    async def me(self) -> models.Account:
        return await self.send(calls.me())

    async def rename_me(self, name: str) -> models.Account:
        return await self.send(calls.rename_me(name))

    async def create_book(
        self,
        title: str,
        invitees: Sequence[models.Invitee] = (),
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> models.CreatedBook:
        return await self.send(calls.create_book(title, invitees, name, region))

    async def books(self) -> list[models.Book]:
        return await self.send(calls.books())

    async def book(self, book_id: str) -> models.Book:
        return await self.send(calls.book(book_id))

    async def rename_book(self, book_id: str, title: str) -> models.Book:
        return await self.send(calls.rename_book(book_id, title))

    async def hand_on(self, book_id: str, entry_id: str) -> models.Book:
        return await self.send(calls.hand_on(book_id, entry_id))

    async def dissolve_book(self, book_id: str) -> None:
        await self.send(calls.dissolve_book(book_id))

    async def invite(
        self, book_id: str, invitees: Sequence[models.Invitee], *, region: str | None = None
    ) -> list[models.Outcome]:
        return await self.send(calls.invite(book_id, invitees, region))

    async def pending_invitations(self, book_id: str) -> list[models.PendingInvitation]:
        return await self.send(calls.pending_invitations(book_id))

    async def revoke(self, book_id: str, invitation_id: str) -> None:
        await self.send(calls.revoke(book_id, invitation_id))

    async def remind(self, book_id: str, invitation_id: str) -> models.Reminder:
        return await self.send(calls.remind(book_id, invitation_id))

    async def invite_link(self, token: str) -> models.InviteLink:
        return await self.send(calls.invite_link(token))

    async def request_invite_code(self, token: str) -> int:
        return await self.send(calls.request_invite_code(token))

    async def accept_invite(
        self,
        token: str,
        code: str,
        *,
        name: str | None = None,
        device: str = transport.DEFAULT_DEVICE,
    ) -> models.Joined:
        joined = await self.send(calls.accept_invite(token, code, name, device))
        self.token = joined.session.token
        return joined

    async def decline_invite(self, token: str, code: str, *, stop: bool = False) -> None:
        await self.send(calls.answer_invite_no(token, code, stop=stop))

    async def do_not_invite(self) -> bool:
        return await self.send(calls.do_not_invite())

    async def set_do_not_invite(self, on: bool) -> None:
        await self.send(calls.set_do_not_invite(on))

    async def inbox(self) -> list[models.Invitation]:
        return await self.send(calls.inbox())

    async def accept(self, invitation_id: str, *, name: str | None = None) -> models.Accepted:
        return await self.send(calls.accept(invitation_id, name))

    async def decline(self, invitation_id: str) -> None:
        await self.send(calls.decline(invitation_id))

    async def entries(
        self, book_id: str, *, since: str | None = None, exclude_self: bool = False
    ) -> models.EntriesPage:
        return await self.send(calls.entries(book_id, since, exclude_self))

    async def update_entry(
        self,
        book_id: str,
        entry_id: str,
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> models.Entry:
        return await self.send(calls.update_entry(book_id, entry_id, name, tags))

    async def remove_entry(self, book_id: str, entry_id: str) -> None:
        await self.send(calls.remove_entry(book_id, entry_id))

    async def export_vcf(self, book_id: str, version: str | None = None) -> str:
        return await self.send(calls.export_vcf(book_id, version))

    async def create_app_password(self, label: str) -> models.NewAppPassword:
        return await self.send(calls.create_app_password(label))

    async def app_passwords(self) -> list[models.AppPassword]:
        return await self.send(calls.app_passwords())

    async def revoke_app_password(self, app_password_id: str) -> None:
        await self.send(calls.revoke_app_password(app_password_id))

    async def audience(self) -> list[models.BookAudience]:
        return await self.send(calls.audience())

    async def ledger(self, after: int | None = None, limit: int | None = None) -> models.LedgerPage:
        return await self.send(calls.ledger(after, limit))

    async def ledger_records(self, limit: int | None = None) -> AsyncIterator[dict[str, Any]]:
        after: int | None = None
        while True:
            page = await self.ledger(after, limit)
            for record in page.records:
                yield record
            if page.next_after is None:
                return
            after = page.next_after

    async def export_me(self) -> dict[str, Any]:
        return await self.send(calls.export_me())

    async def delete_account(self, confirm: str) -> None:
        await self.send(calls.delete_account(confirm))
        self.token = None

    async def sessions(self) -> list[models.SignedInDevice]:
        return await self.send(calls.sessions())

    async def end_session(self, session_id: str) -> None:
        await self.send(calls.end_session(session_id))

    async def end_other_sessions(self) -> None:
        await self.send(calls.end_other_sessions())
