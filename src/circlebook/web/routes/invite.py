"""Inviting more people to a book that exists: the owner's, by the same three steps as creating."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from starlette.responses import Response

from circlebook.domain.errors import CirclebookError, ForbiddenError
from circlebook.domain.model import Role
from circlebook.services import books, invitations
from circlebook.services.books import BookSummary
from circlebook.web.feedback import N_, Message, explain
from circlebook.web.rendering import render
from circlebook.web.routes.create import (
    ListField,
    PeopleRefused,
    TextField,
    gather_people,
    picked_invitees,
)
from circlebook.web.routing import PageRoute, form_status
from circlebook.web.visits import MemberVisit, Visit

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _owned(visit: Visit, book_id: str) -> BookSummary:
    """The book, if the visitor owns it; a member is refused, a stranger told it is not here."""
    summary = books.get_book(visit.rt, visit.me, book_id)
    if summary.me.role != Role.OWNER:
        raise ForbiddenError("only the owner invites people to this book")
    return summary


@router.get("/books/{book_id}/invite", name="invite_more")
def invite_form(visit: MemberVisit, book_id: str) -> Response:
    summary = _owned(visit, book_id)
    return render(visit, "invite.html", book=summary.book, numbers="", errors={})


@router.post("/books/{book_id}/invite")
def pick_people(
    visit: MemberVisit,
    book_id: str,
    numbers: TextField = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    book = _owned(visit, book_id).book
    try:
        people, problems = gather_people(visit, numbers, file)
    except PeopleRefused as exc:
        return render(
            visit, "invite.html", status=422, book=book, numbers=numbers, errors=exc.errors
        )
    return render(
        visit,
        "pick.html",
        book=book,
        people=people,
        tags=[""] * len(people),
        problems=problems,
        errors={},
        problem=None,
    )


@router.post("/books/{book_id}/invite/send")
def send(
    visit: MemberVisit,
    book_id: str,
    phone: ListField = [],  # noqa: B006 - FastAPI copies defaults per request
    person: ListField = [],  # noqa: B006
    tags: ListField = [],  # noqa: B006
    pick: ListField = [],  # noqa: B006
) -> Response:
    summary = _owned(visit, book_id)
    people, invitees = picked_invitees(phone, person, tags, pick)
    again: dict[str, Any] = {"book": summary.book, "people": people, "tags": tags, "problems": []}
    if not invitees:
        problem = Message(N_("Tick at least one person to invite."))
        return render(visit, "pick.html", status=422, errors={}, problem=problem, **again)
    try:
        outcomes = invitations.invite(visit.rt, visit.me, book_id, invitees, visit.reach)
    except CirclebookError as exc:  # such as too many people, or the day's invitations spent
        status = form_status(exc)
        return render(visit, "pick.html", status=status, errors={}, problem=explain(exc), **again)
    return render(
        visit,
        "created.html",
        summary=summary,
        intro=Message(N_("This is what became of each person:")),
        results=list(zip(invitees, outcomes, strict=True)),
    )
