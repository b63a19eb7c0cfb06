"""The owner's page of a book (rename, members and their tags, invitations, dissolve); leaving."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from circlebook.domain.errors import CirclebookError
from circlebook.services import books, entries, invitations, pages
from circlebook.web.contacts import typed_tags
from circlebook.web.feedback import N_, Message, explain, notice
from circlebook.web.rendering import render
from circlebook.web.routing import PageRoute
from circlebook.web.visits import MemberVisit, Visit

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TextField = Annotated[str, Form(max_length=1000)]


def _manage(
    visit: Visit,
    book_id: str,
    *,
    status: int = 200,
    done: str = "",
    errors: dict[str, Message] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The page; `errors` and `typed` are keyed by the form at fault ("title", an entry id)."""
    # The owner's only: anyone else is refused here.
    page = pages.manage_page(visit.rt, visit.me, book_id, visit.reach)
    return render(
        visit,
        "manage.html",
        status=status,
        summary=page.summary,
        members=page.members,
        pending_invitations=page.pending,
        notice=notice(done),
        errors=errors or {},
        typed=typed or {},
    )


def _back(book_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/books/{book_id}/manage?done={done}", status_code=303)


@router.get("/books/{book_id}/manage", name="manage")
def manage(visit: MemberVisit, book_id: str, done: str = "") -> Response:
    return _manage(visit, book_id, done=done)


@router.post("/books/{book_id}/rename")
def rename(visit: MemberVisit, book_id: str, title: TextField = "") -> Response:
    try:
        books.rename_book(visit.rt, visit.me, book_id, title)
    except CirclebookError as exc:
        if exc.field != "title":
            raise
        errors = {"title": explain(exc)}
        return _manage(visit, book_id, status=422, errors=errors, typed={"title": title})
    return _back(book_id, "renamed")


@router.post("/books/{book_id}/entries/{entry_id}/tags")
def retag(visit: MemberVisit, book_id: str, entry_id: str, tags: TextField = "") -> Response:
    try:
        entries.update_entry(visit.rt, visit.me, book_id, entry_id, tags=typed_tags(tags))
    except CirclebookError as exc:
        if exc.field != "tags":
            raise
        errors = {entry_id: explain(exc)}
        return _manage(visit, book_id, status=422, errors=errors, typed={entry_id: tags})
    return _back(book_id, "tags")


@router.post("/books/{book_id}/entries/{entry_id}/remove")
def remove(visit: MemberVisit, book_id: str, entry_id: str) -> Response:
    entries.remove_entry(visit.rt, visit.me, book_id, entry_id)
    return _back(book_id, "removed")


@router.post("/books/{book_id}/entries/{entry_id}/owner")
def hand_on(visit: MemberVisit, book_id: str, entry_id: str) -> Response:
    """The member becomes the owner; this page is then no longer the visitor's."""
    books.hand_on(visit.rt, visit.me, book_id, entry_id)
    return RedirectResponse(f"/books/{book_id}?done=handed_on", status_code=303)


@router.post("/books/{book_id}/invitations/{invitation_id}/revoke")
def revoke(visit: MemberVisit, book_id: str, invitation_id: str) -> Response:
    invitations.revoke(visit.rt, visit.me, book_id, invitation_id)
    return _back(book_id, "revoked")


@router.post("/books/{book_id}/dissolve")
def dissolve(visit: MemberVisit, book_id: str, confirm: TextField = "") -> Response:
    if confirm != "yes":
        errors = {"confirm": Message(N_("Tick the box to confirm that the book should go."))}
        return _manage(visit, book_id, status=422, errors=errors)
    books.dissolve_book(visit.rt, visit.me, book_id)
    return RedirectResponse("/books?done=dissolved", status_code=303)


@router.post("/books/{book_id}/leave")
def leave(visit: MemberVisit, book_id: str) -> Response:
    """A member removes its own entry, and so leaves; the owner dissolves instead."""
    entries.leave_book(visit.rt, visit.me, book_id)
    return RedirectResponse("/books?done=left", status_code=303)
