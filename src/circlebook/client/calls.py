"""Each API operation as a plain description (method, path, body, how to read the answer).

Both the blocking and the asyncio client send these, so every operation is
written once and the two clients cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from circlebook.client import models

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[Any], T]
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    raw: bool = False  # read gets the response text instead of parsed JSON


def _seg(value: str) -> str:
    """An id as one path segment: a slash or dot-dot in it cannot reach another route."""
    return quote(value, safe="")


def _none(_: Any) -> None:
    return None


def _invitees(invitees: Sequence[models.Invitee]) -> list[dict[str, Any]]:
    return [i.to_json() for i in invitees]


def _with_region(body: dict[str, Any], region: str | None) -> dict[str, Any]:
    return {**body, "region": region} if region else body


def health() -> Call[str]:
    return Call("GET", "/v1/health", lambda d: str(d["status"]))


def request_code(phone: str, region: str | None) -> Call[int]:
    body = _with_region({"phone": phone}, region)
    return Call("POST", "/v1/auth/codes", lambda d: int(d["expires_in"]), body)


def sign_in(
    phone: str, code: str, device: str, name: str | None, region: str | None
) -> Call[models.Session]:
    body: dict[str, Any] = _with_region({"phone": phone, "code": code, "device": device}, region)
    if name:
        body["name"] = name
    return Call(
        "POST",
        "/v1/auth/sessions",
        lambda d: models.Session(d["token"], models.Account.from_json(d["account"])),
        body,
    )


def sign_out() -> Call[None]:
    return Call("DELETE", "/v1/auth/sessions/current", _none)


def me() -> Call[models.Account]:
    return Call("GET", "/v1/me", models.Account.from_json)


def rename_me(name: str) -> Call[models.Account]:
    return Call("PATCH", "/v1/me", models.Account.from_json, {"name": name})


def create_book(
    title: str, invitees: Sequence[models.Invitee], name: str | None, region: str | None
) -> Call[models.CreatedBook]:
    body: dict[str, Any] = _with_region({"title": title, "invitees": _invitees(invitees)}, region)
    if name:
        body["name"] = name
    return Call(
        "POST",
        "/v1/books",
        lambda d: models.CreatedBook(
            models.Book.from_json(d), [models.Outcome.from_json(o) for o in d["outcomes"]]
        ),
        body,
    )


def books() -> Call[list[models.Book]]:
    return Call("GET", "/v1/books", lambda d: [models.Book.from_json(b) for b in d["books"]])


def book(book_id: str) -> Call[models.Book]:
    return Call("GET", f"/v1/books/{_seg(book_id)}", models.Book.from_json)


def hand_on(book_id: str, entry_id: str) -> Call[models.Book]:
    return Call(
        "POST", f"/v1/books/{_seg(book_id)}/owner", models.Book.from_json, {"entry_id": entry_id}
    )


def rename_book(book_id: str, title: str) -> Call[models.Book]:
    return Call("PATCH", f"/v1/books/{_seg(book_id)}", models.Book.from_json, {"title": title})


def dissolve_book(book_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/books/{_seg(book_id)}", _none)


def invite(
    book_id: str, invitees: Sequence[models.Invitee], region: str | None
) -> Call[list[models.Outcome]]:
    return Call(
        "POST",
        f"/v1/books/{_seg(book_id)}/invitations",
        lambda d: [models.Outcome.from_json(o) for o in d["outcomes"]],
        _with_region({"invitees": _invitees(invitees)}, region),
    )


def pending_invitations(book_id: str) -> Call[list[models.PendingInvitation]]:
    return Call(
        "GET",
        f"/v1/books/{_seg(book_id)}/invitations",
        lambda d: [models.PendingInvitation.from_json(i) for i in d["invitations"]],
    )


def revoke(book_id: str, invitation_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/books/{_seg(book_id)}/invitations/{_seg(invitation_id)}", _none)


def inbox() -> Call[list[models.Invitation]]:
    return Call(
        "GET",
        "/v1/invitations",
        lambda d: [models.Invitation.from_json(i) for i in d["invitations"]],
    )


def accept(invitation_id: str, name: str | None) -> Call[models.Accepted]:
    return Call(
        "POST",
        f"/v1/invitations/{_seg(invitation_id)}/accept",
        lambda d: models.Accepted(d["book_id"], d["entry_id"]),
        {"name": name} if name else {},
    )


def decline(invitation_id: str) -> Call[None]:
    return Call("POST", f"/v1/invitations/{_seg(invitation_id)}/decline", _none)


def entries(book_id: str, since: str | None, exclude_self: bool) -> Call[models.EntriesPage]:
    params = {"exclude_self": "true"} if exclude_self else {}
    if since:
        params["since"] = since
    return Call(
        "GET", f"/v1/books/{_seg(book_id)}/entries", models.EntriesPage.from_json, params=params
    )


def update_entry(
    book_id: str, entry_id: str, name: str | None, tags: Sequence[str] | None
) -> Call[models.Entry]:
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if tags is not None:
        body["tags"] = list(tags)
    return Call(
        "PATCH", f"/v1/books/{_seg(book_id)}/entries/{_seg(entry_id)}", models.Entry.from_json, body
    )


def remove_entry(book_id: str, entry_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/books/{_seg(book_id)}/entries/{_seg(entry_id)}", _none)


def export_vcf(book_id: str, version: str | None = None) -> Call[str]:
    params = {} if version is None else {"version": version}
    return Call("GET", f"/v1/books/{_seg(book_id)}/export.vcf", str, raw=True, params=params)


def create_app_password(label: str) -> Call[models.NewAppPassword]:
    return Call("POST", "/v1/app-passwords", models.NewAppPassword.from_json, {"label": label})


def app_passwords() -> Call[list[models.AppPassword]]:
    return Call(
        "GET",
        "/v1/app-passwords",
        lambda d: [models.AppPassword.from_json(p) for p in d["app_passwords"]],
    )


def audience() -> Call[list[models.BookAudience]]:
    return Call(
        "GET", "/v1/me/audience", lambda d: [models.BookAudience.from_json(b) for b in d["books"]]
    )


def ledger(after: int | None, limit: int | None) -> Call[models.LedgerPage]:
    params = {k: str(v) for k, v in (("after", after), ("limit", limit)) if v is not None}
    return Call("GET", "/v1/me/ledger", models.LedgerPage.from_json, params=params)


def export_me() -> Call[dict[str, Any]]:
    return Call("GET", "/v1/me/export", dict)


def delete_account(confirm: str) -> Call[None]:
    return Call("DELETE", "/v1/me", _none, {"confirm": confirm})


def sessions() -> Call[list[models.SignedInDevice]]:
    return Call(
        "GET",
        "/v1/me/sessions",
        lambda d: [models.SignedInDevice.from_json(s) for s in d["sessions"]],
    )


def end_session(session_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/me/sessions/{_seg(session_id)}", _none)


def end_other_sessions() -> Call[None]:
    return Call("DELETE", "/v1/me/sessions", _none)


def revoke_app_password(app_password_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/app-passwords/{_seg(app_password_id)}", _none)


def remind(book_id: str, invitation_id: str) -> Call[models.Reminder]:
    path = f"/v1/books/{_seg(book_id)}/invitations/{_seg(invitation_id)}/remind"
    return Call("POST", path, models.Reminder.from_json)


def invite_link(token: str) -> Call[models.InviteLink]:
    return Call("GET", f"/v1/invites/{_seg(token)}", models.InviteLink.from_json)


def request_invite_code(token: str) -> Call[int]:
    return Call("POST", f"/v1/invites/{_seg(token)}/code", lambda d: int(d["expires_in"]))


def accept_invite(token: str, code: str, name: str | None, device: str) -> Call[models.Joined]:
    body: dict[str, Any] = {"code": code, "device": device}
    if name:
        body["name"] = name
    return Call("POST", f"/v1/invites/{_seg(token)}/accept", models.Joined.from_json, body)


def answer_invite_no(token: str, code: str, *, stop: bool) -> Call[None]:
    action = "stop" if stop else "decline"
    return Call("POST", f"/v1/invites/{_seg(token)}/{action}", _none, {"code": code})


def do_not_invite() -> Call[bool]:
    return Call("GET", "/v1/me/do-not-invite", lambda d: bool(d["do_not_invite"]))


def set_do_not_invite(on: bool) -> Call[None]:
    return Call("PUT" if on else "DELETE", "/v1/me/do-not-invite", _none)
