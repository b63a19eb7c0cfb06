"""Client: the circlebook JSON API over httpx, blocking, with typed results."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from circlebook.client import calls, models, transport
from circlebook.client.calls import Call
from circlebook.client.events import ServerEvent, parse

T = TypeVar("T")


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
            response = self._http.request(
                call.method, call.path, **transport.request_args(call, self.token)
            )
        except httpx.HTTPError as exc:
            raise transport.unreachable(self._http.base_url, exc) from exc
        return transport.read(call, response)

    def health(self) -> str:
        return self.send(calls.health())

    def events(self, *, last_event_id: str | None = None) -> Iterator[ServerEvent]:
        """Follow the account's events until the server or the caller closes the stream."""
        headers = transport.headers(self.token, last_event_id)
        try:
            with self._http.stream(
                "GET", transport.EVENTS_PATH, headers=headers, timeout=transport.STREAM_TIMEOUT
            ) as r:
                if r.status_code >= 400:
                    r.read()
                    transport.check(r)
                yield from parse(r.iter_lines())
        except httpx.HTTPError as exc:
            raise transport.stream_ended(self._http.base_url, exc) from exc

    def request_code(self, phone: str, region: str | None = None) -> int:
        return self.send(calls.request_code(phone, region))

    def sign_in(
        self,
        phone: str,
        code: str,
        device: str = transport.DEFAULT_DEVICE,
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> models.Session:
        session = self.send(calls.sign_in(phone, code, device, name, region))
        self.token = session.token
        return session

    def sign_out(self) -> None:
        self.send(calls.sign_out())
        self.token = None

    def me(self) -> models.Account:
        return self.send(calls.me())

    def rename_me(self, name: str) -> models.Account:
        return self.send(calls.rename_me(name))

    def create_book(
        self,
        title: str,
        invitees: Sequence[models.Invitee] = (),
        *,
        name: str | None = None,
        region: str | None = None,
    ) -> models.CreatedBook:
        return self.send(calls.create_book(title, invitees, name, region))

    def books(self) -> list[models.Book]:
        return self.send(calls.books())

    def book(self, book_id: str) -> models.Book:
        return self.send(calls.book(book_id))

    def rename_book(self, book_id: str, title: str) -> models.Book:
        return self.send(calls.rename_book(book_id, title))

    def hand_on(self, book_id: str, entry_id: str) -> models.Book:
        """Make a member the book's owner; you stay as an untagged member."""
        return self.send(calls.hand_on(book_id, entry_id))

    def dissolve_book(self, book_id: str) -> None:
        self.send(calls.dissolve_book(book_id))

    def invite(
        self, book_id: str, invitees: Sequence[models.Invitee], *, region: str | None = None
    ) -> list[models.Outcome]:
        return self.send(calls.invite(book_id, invitees, region))

    def pending_invitations(self, book_id: str) -> list[models.PendingInvitation]:
        return self.send(calls.pending_invitations(book_id))

    def revoke(self, book_id: str, invitation_id: str) -> None:
        self.send(calls.revoke(book_id, invitation_id))

    def remind(self, book_id: str, invitation_id: str) -> models.Reminder:
        return self.send(calls.remind(book_id, invitation_id))

    def invite_link(self, token: str) -> models.InviteLink:
        """What an invitation link says; no sign-in needed (the token is the link's last part)."""
        return self.send(calls.invite_link(token))

    def request_invite_code(self, token: str) -> int:
        return self.send(calls.request_invite_code(token))

    def accept_invite(
        self,
        token: str,
        code: str,
        *,
        name: str | None = None,
        device: str = transport.DEFAULT_DEVICE,
    ) -> models.Joined:
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

    def inbox(self) -> list[models.Invitation]:
        return self.send(calls.inbox())

    def accept(self, invitation_id: str, *, name: str | None = None) -> models.Accepted:
        return self.send(calls.accept(invitation_id, name))

    def decline(self, invitation_id: str) -> None:
        self.send(calls.decline(invitation_id))

    def entries(
        self, book_id: str, *, since: str | None = None, exclude_self: bool = False
    ) -> models.EntriesPage:
        return self.send(calls.entries(book_id, since, exclude_self))

    def update_entry(
        self,
        book_id: str,
        entry_id: str,
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> models.Entry:
        return self.send(calls.update_entry(book_id, entry_id, name, tags))

    def remove_entry(self, book_id: str, entry_id: str) -> None:
        self.send(calls.remove_entry(book_id, entry_id))

    def export_vcf(self, book_id: str, version: str | None = None) -> str:
        """The book as one vCard file: 3.0 unless `version` asks for "4.0"."""
        return self.send(calls.export_vcf(book_id, version))

    def create_app_password(self, label: str) -> models.NewAppPassword:
        return self.send(calls.create_app_password(label))

    def app_passwords(self) -> list[models.AppPassword]:
        return self.send(calls.app_passwords())

    def revoke_app_password(self, app_password_id: str) -> None:
        self.send(calls.revoke_app_password(app_password_id))

    def audience(self) -> list[models.BookAudience]:
        """For each of my books, the people who can see my number."""
        return self.send(calls.audience())

    def ledger(self, after: int | None = None, limit: int | None = None) -> models.LedgerPage:
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

    def sessions(self) -> list[models.SignedInDevice]:
        """The devices signed in to this account; `current` is this client."""
        return self.send(calls.sessions())

    def end_session(self, session_id: str) -> None:
        self.send(calls.end_session(session_id))

    def end_other_sessions(self) -> None:
        """Sign out everywhere but here."""
        self.send(calls.end_other_sessions())
