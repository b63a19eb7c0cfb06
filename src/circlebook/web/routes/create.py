"""Creating a book: a title, then people picked from an uploaded file or typed numbers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.responses import Response

from circlebook.domain.errors import CirclebookError
from circlebook.domain.numbers import whole_number
from circlebook.services import books
from circlebook.services.invitations import Invitee, reading_region
from circlebook.web.contacts import (
    Candidate,
    Problem,
    TooManyContacts,
    UnreadableContacts,
    read_typed,
    read_upload,
    typed_tags,
)
from circlebook.web.feedback import N_, Message, explain
from circlebook.web.rendering import render
from circlebook.web.routing import PageRoute, form_status
from circlebook.web.visits import MemberVisit, Visit

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TextField = Annotated[str, Form(max_length=100_000)]
ListField = Annotated[list[str], Form()]


def max_people(visit: Visit) -> int:
    """How many people one request may invite: more are not worth reading from a file."""
    return visit.rt.policy.max_invitees_per_request


@router.get("/books/new", name="new_book")
def new_book(visit: MemberVisit) -> Response:
    return render(visit, "create.html", title="", name=visit.me.name, numbers="", errors={})


class PeopleRefused(Exception):
    """The form named nobody to invite, or too many; `errors` says where, by field."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__("no people to offer")
        self.errors = errors


def gather_people(
    visit: Visit, numbers: str, file: UploadFile | None
) -> tuple[list[Candidate], list[Problem]]:
    """Everyone an upload and the typed box name, for the pick-and-tag step."""
    people: list[Candidate] = []
    problems: list[Problem] = []
    if file is not None and file.filename:
        region = reading_region(visit.rt, visit.me, None)
        try:
            people, problems = read_upload(
                file.filename, file.file.read(), region, max_people(visit)
            )
        except UnreadableContacts:
            message = Message(N_("This file could not be read: upload a vCard (.vcf) or CSV file."))
            raise PeopleRefused({"file": message}) from None
        except TooManyContacts:
            message = Message(
                N_("This file holds more than %(limit)s people: upload at most that many at once."),
                {"limit": max_people(visit)},
            )
            raise PeopleRefused({"file": message}) from None
    people += read_typed(numbers)
    if not people:
        message = Message(N_("Add someone: upload a contacts file, or type a number."))
        raise PeopleRefused({"numbers": message})
    return people, problems


def picked_invitees(
    phone: list[str], person: list[str], tags: list[str], pick: list[str]
) -> tuple[list[Candidate], list[Invitee]]:
    """The checklist as sent back: every person offered, and the ticked ones to invite."""
    count = min(len(phone), len(person), len(tags))
    picked = {n for n in map(whole_number, pick) if n is not None and n < count}
    people = [Candidate(phone[i], person[i], i in picked) for i in range(count)]
    invitees = [
        Invitee(phone[i], _name(person[i], phone[i]), typed_tags(tags[i])) for i in sorted(picked)
    ]
    return people, invitees


@router.post("/books/new")
def pick_people(
    visit: MemberVisit,
    title: TextField = "",
    name: TextField = "",
    numbers: TextField = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Step two: everyone found, as a checklist with a tag box each."""
    form: dict[str, Any] = {"title": title, "name": name, "numbers": numbers}
    try:
        people, problems = gather_people(visit, numbers, file)
    except PeopleRefused as exc:
        return render(visit, "create.html", status=422, errors=exc.errors, **form)
    return render(
        visit,
        "pick.html",
        book=None,
        title=title,
        name=name,
        people=people,
        tags=[""] * len(people),
        problems=problems,
        errors={},
        problem=None,
    )


def _name(name: str, phone: str) -> str | None:
    """The name the owner has for someone; a contact without one shows its number instead."""
    name = name.strip()
    return name if name and name != phone else None


@router.post("/books/new/create")
def create(
    visit: MemberVisit,
    title: TextField = "",
    name: TextField = "",
    phone: ListField = [],  # noqa: B006 - FastAPI copies defaults per request
    person: ListField = [],  # noqa: B006
    tags: ListField = [],  # noqa: B006
    pick: ListField = [],  # noqa: B006
) -> Response:
    """Step three: ask everyone picked; the page says what became of each."""
    people, invitees = picked_invitees(phone, person, tags, pick)
    again: dict[str, Any] = {
        "book": None,
        "title": title,
        "name": name,
        "people": people,
        "tags": tags,
    }
    try:
        summary, outcomes = books.create_book(
            visit.rt, visit.me, title, invitees, visit.reach, name=name.strip() or None
        )
    except CirclebookError as exc:
        field = exc.field if exc.field in ("title", "name") else None
        errors = {field: explain(exc)} if field else {}
        problem = None if field else explain(exc)  # such as too many people, or the day's spent
        status = form_status(exc)
        return render(
            visit, "pick.html", status=status, problems=[], errors=errors, problem=problem, **again
        )
    return render(
        visit,
        "created.html",
        summary=summary,
        intro=Message(N_("The book is made. This is what became of each person:")),
        results=list(zip(invitees, outcomes, strict=True)),
    )
