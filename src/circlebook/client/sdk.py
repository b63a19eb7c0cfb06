"""Client and AsyncClient: the circlebook JSON API over httpx, with typed results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from circlebook.client import calls
from circlebook.client.calls import Call
from circlebook.client.errors import TransportError, error_for
from circlebook.client.events import ServerEvent, aparse, parse
from circlebook.client.models import (
    Accepted,
    Account,
    AppPassword,
    Book,
    BookAudience,
    CreatedBook,
    EntriesPage,
    Entry,
    Invitation,
    Invitee,
    InviteLink,
    Joined,
    LedgerPage,
    NewAppPassword,
    Outcome,
    PendingInvitation,
    Reminder,
    Session,
    SignedInDevice,
)

T = TypeVar("T")
# A stream may stay quiet for long; the server's keep-alives arrive every 15 s.
_STREAM = httpx.Timeout(10.0, read=60.0)
DEFAULT_DEVICE = "circlebook SDK"


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _read(call: Call[T], response: httpx.Response) -> T:
    if response.status_code >= 400:
        try:
            problem: dict[str, Any] = response.json()
            if not isinstance(problem, dict):
                raise ValueError
        except ValueError:
            problem = {"title": response.reason_phrase, "detail": response.text[:200]}
        raise error_for(response.status_code, problem, response.headers.get("Retry-After"))
    if call.raw:
        return call.read(response.text)
    if response.status_code == 204 or not response.content:
        return call.read(None)
    return call.read(response.json())


def _request(call: Call[Any], token: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"headers": _headers(token), "params": call.params or None}
    if call.json is not None:
        kwargs["json"] = call.json
    return kwargs


class Client:
    """A blocking client. `token` may be given, or obtained with `sign_in`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.token = token
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call[T]) -> T:
        try:
            response = self._http.request(call.method, call.path, **_request(call, self.token))
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot reach {self._http.base_url}: {exc}") from exc
        return _read(call, response)

    def health(self) -> str:
        return self.send(calls.health())

    def events(self, *, last_event_id: str | None = None) -> Iterator[ServerEvent]:
        """Follow the account's events until the server or the caller closes the stream."""
        headers = _headers(self.token)
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        try:
            with self._http.stream("GET", "/v1/events", headers=headers, timeout=_STREAM) as r:
                if r.status_code >= 400:
                    r.read()
                    _read(calls.health(), r)
                yield from parse(r.iter_lines())
        except httpx.HTTPError as exc:
            raise TransportError(f"event stream from {self._http.base_url} ended: {exc}") from exc

    def request_code(self, phone: str, region: str | None = None) -> int:
        return self.send(calls.request_code(phone, region))

    def sign_in(
        self,
        phone: str,
        code: str,
        device: str = DEFAULT_DEVICE,
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> Session:
        session = self.send(calls.sign_in(phone, code, device, name, region))
        self.token = session.token
        return session

    def sign_out(self) -> None:
        self.send(calls.sign_out())
        self.token = None

    def me(self) -> Account:
        return self.send(calls.me())

    def rename_me(self, name: str) -> Account:
        return self.send(calls.rename_me(name))

    def create_book(
        self,
        title: str,
        invitees: Sequence[Invitee] = (),
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> CreatedBook:
        return self.send(calls.create_book(title, invitees, name, region))

    def books(self) -> list[Book]:
        return self.send(calls.books())

    def book(self, book_id: str) -> Book:
        return self.send(calls.book(book_id))

    def rename_book(self, book_id: str, title: str) -> Book:
        return self.send(calls.rename_book(book_id, title))

    def hand_on(self, book_id: str, entry_id: str) -> Book:
        """Make a member the book's owner; you stay as an untagged member."""
        return self.send(calls.hand_on(book_id, entry_id))

    def dissolve_book(self, book_id: str) -> None:
        self.send(calls.dissolve_book(book_id))

    def invite(
        self, book_id: str, invitees: Sequence[Invitee], *, region: str | None = None
    ) -> list[Outcome]:
        return self.send(calls.invite(book_id, invitees, region))

    def pending_invitations(self, book_id: str) -> list[PendingInvitation]:
        return self.send(calls.pending_invitations(book_id))

    def revoke(self, book_id: str, invitation_id: str) -> None:
        self.send(calls.revoke(book_id, invitation_id))

    def remind(self, book_id: str, invitation_id: str) -> Reminder:
        return self.send(calls.remind(book_id, invitation_id))

    def invite_link(self, token: str) -> InviteLink:
        """What an invitation link says; no sign-in needed (the token is the link's last part)."""
        return self.send(calls.invite_link(token))

    def request_invite_code(self, token: str) -> int:
        return self.send(calls.request_invite_code(token))

    def accept_invite(
        self, token: str, code: str, *, name: str | None = None, device: str = DEFAULT_DEVICE
    ) -> Joined:
        """Join through the link with the code texted to the invited number; signs in."""
        joined = self.send(calls.accept_invite(token, code, name, device))
        self.token = joined.session.token
        return joined

    def decline_invite(self, token: str, code: str, *, stop: bool = False) -> None:
        """Say no without an account; `stop` also asks never to be invited again."""
        self.send(calls.answer_invite_no(token, code, stop=stop))

    def do_not_invite(self) -> bool:
        return self.send(calls.do_not_invite())

    def set_do_not_invite(self, on: bool) -> None:
        self.send(calls.set_do_not_invite(on))

    def inbox(self) -> list[Invitation]:
        return self.send(calls.inbox())

    def accept(self, invitation_id: str, *, name: str | None = None) -> Accepted:
        return self.send(calls.accept(invitation_id, name))

    def decline(self, invitation_id: str) -> None:
        self.send(calls.decline(invitation_id))

    def entries(
        self, book_id: str, *, since: str | None = None, exclude_self: bool = False
    ) -> EntriesPage:
        return self.send(calls.entries(book_id, since, exclude_self))

    def update_entry(
        self,
        book_id: str,
        entry_id: str,
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Entry:
        return self.send(calls.update_entry(book_id, entry_id, name, tags))

    def remove_entry(self, book_id: str, entry_id: str) -> None:
        self.send(calls.remove_entry(book_id, entry_id))

    def export_vcf(self, book_id: str, version: str | None = None) -> str:
        """The book as one vCard file: 3.0 unless `version` asks for "4.0"."""
        return self.send(calls.export_vcf(book_id, version))

    def create_app_password(self, label: str) -> NewAppPassword:
        return self.send(calls.create_app_password(label))

    def app_passwords(self) -> list[AppPassword]:
        return self.send(calls.app_passwords())

    def revoke_app_password(self, app_password_id: str) -> None:
        self.send(calls.revoke_app_password(app_password_id))

    def audience(self) -> list[BookAudience]:
        """For each of my books, the people who can see my number."""
        return self.send(calls.audience())

    def ledger(self, after: int | None = None, limit: int | None = None) -> LedgerPage:
        """One page of my consent ledger, newest first; `after` a seq, to read older ones."""
        return self.send(calls.ledger(after, limit))

    def ledger_records(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every record of my consent ledger, newest first, fetching page after page."""
        after: int | None = None
        while True:
            page = self.ledger(after, limit)
            yield from page.records
            if page.next_after is None:
                return
            after = page.next_after

    def export_me(self) -> dict[str, Any]:
        """Everything the server holds about me, and every entry I can see (GDPR art. 20)."""
        return self.send(calls.export_me())

    def delete_account(self, confirm: str) -> None:
        """Erase my account (GDPR art. 17); `confirm` is my own number. This client signs out."""
        self.send(calls.delete_account(confirm))
        self.token = None

    def sessions(self) -> list[SignedInDevice]:
        """The devices signed in to this account; `current` is this client."""
        return self.send(calls.sessions())

    def end_session(self, session_id: str) -> None:
        self.send(calls.end_session(session_id))

    def end_other_sessions(self) -> None:
        """Sign out everywhere but here."""
        self.send(calls.end_other_sessions())


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
                call.method, call.path, **_request(call, self.token)
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot reach {self._http.base_url}: {exc}") from exc
        return _read(call, response)

    async def health(self) -> str:
        return await self.send(calls.health())

    async def events(self, *, last_event_id: str | None = None) -> AsyncIterator[ServerEvent]:
        """Follow the account's events until the server or the caller closes the stream."""
        headers = _headers(self.token)
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        try:
            async with self._http.stream(
                "GET", "/v1/events", headers=headers, timeout=_STREAM
            ) as r:
                if r.status_code >= 400:
                    await r.aread()
                    _read(calls.health(), r)
                async for event in aparse(r.aiter_lines()):
                    yield event
        except httpx.HTTPError as exc:
            raise TransportError(f"event stream from {self._http.base_url} ended: {exc}") from exc

    async def request_code(self, phone: str, region: str | None = None) -> int:
        return await self.send(calls.request_code(phone, region))

    async def sign_in(
        self,
        phone: str,
        code: str,
        device: str = DEFAULT_DEVICE,
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> Session:
        session = await self.send(calls.sign_in(phone, code, device, name, region))
        self.token = session.token
        return session

    async def sign_out(self) -> None:
        await self.send(calls.sign_out())
        self.token = None

    async def me(self) -> Account:
        return await self.send(calls.me())

    async def rename_me(self, name: str) -> Account:
        return await self.send(calls.rename_me(name))

    async def create_book(
        self,
        title: str,
        invitees: Sequence[Invitee] = (),
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> CreatedBook:
        return await self.send(calls.create_book(title, invitees, name, region))

    async def books(self) -> list[Book]:
        return await self.send(calls.books())

    async def book(self, book_id: str) -> Book:
        return await self.send(calls.book(book_id))

    async def rename_book(self, book_id: str, title: str) -> Book:
        return await self.send(calls.rename_book(book_id, title))

    async def hand_on(self, book_id: str, entry_id: str) -> Book:
        return await self.send(calls.hand_on(book_id, entry_id))

    async def dissolve_book(self, book_id: str) -> None:
        await self.send(calls.dissolve_book(book_id))

    async def invite(
        self, book_id: str, invitees: Sequence[Invitee], *, region: str | None = None
    ) -> list[Outcome]:
        return await self.send(calls.invite(book_id, invitees, region))

    async def pending_invitations(self, book_id: str) -> list[PendingInvitation]:
        return await self.send(calls.pending_invitations(book_id))

    async def revoke(self, book_id: str, invitation_id: str) -> None:
        await self.send(calls.revoke(book_id, invitation_id))

    async def remind(self, book_id: str, invitation_id: str) -> Reminder:
        return await self.send(calls.remind(book_id, invitation_id))

    async def invite_link(self, token: str) -> InviteLink:
        return await self.send(calls.invite_link(token))

    async def request_invite_code(self, token: str) -> int:
        return await self.send(calls.request_invite_code(token))

    async def accept_invite(
        self, token: str, code: str, *, name: str | None = None, device: str = DEFAULT_DEVICE
    ) -> Joined:
        joined = await self.send(calls.accept_invite(token, code, name, device))
        self.token = joined.session.token
        return joined

    async def decline_invite(self, token: str, code: str, *, stop: bool = False) -> None:
        await self.send(calls.answer_invite_no(token, code, stop=stop))

    async def do_not_invite(self) -> bool:
        return await self.send(calls.do_not_invite())

    async def set_do_not_invite(self, on: bool) -> None:
        await self.send(calls.set_do_not_invite(on))

    async def inbox(self) -> list[Invitation]:
        return await self.send(calls.inbox())

    async def accept(self, invitation_id: str, *, name: str | None = None) -> Accepted:
        return await self.send(calls.accept(invitation_id, name))

    async def decline(self, invitation_id: str) -> None:
        await self.send(calls.decline(invitation_id))

    async def entries(
        self, book_id: str, *, since: str | None = None, exclude_self: bool = False
    ) -> EntriesPage:
        return await self.send(calls.entries(book_id, since, exclude_self))

    async def update_entry(
        self,
        book_id: str,
        entry_id: str,
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Entry:
        return await self.send(calls.update_entry(book_id, entry_id, name, tags))

    async def remove_entry(self, book_id: str, entry_id: str) -> None:
        await self.send(calls.remove_entry(book_id, entry_id))

    async def export_vcf(self, book_id: str, version: str | None = None) -> str:
        return await self.send(calls.export_vcf(book_id, version))

    async def create_app_password(self, label: str) -> NewAppPassword:
        return await self.send(calls.create_app_password(label))

    async def app_passwords(self) -> list[AppPassword]:
        return await self.send(calls.app_passwords())

    async def revoke_app_password(self, app_password_id: str) -> None:
        await self.send(calls.revoke_app_password(app_password_id))

    async def audience(self) -> list[BookAudience]:
        return await self.send(calls.audience())

    async def ledger(self, after: int | None = None, limit: int | None = None) -> LedgerPage:
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

    async def sessions(self) -> list[SignedInDevice]:
        return await self.send(calls.sessions())

    async def end_session(self, session_id: str) -> None:
        await self.send(calls.end_session(session_id))

    async def end_other_sessions(self) -> None:
        await self.send(calls.end_other_sessions())
