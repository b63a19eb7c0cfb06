"""The invitee's side: pending invitations, each answered with one tap."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from circlebook.domain.errors import CirclebookError
from circlebook.services import answers, invite_links
from circlebook.web.feedback import Message, explain, notice
from circlebook.web.rendering import render
from circlebook.web.routing import PageRoute
from circlebook.web.visits import MemberVisit, Visit

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _inbox(
    visit: Visit,
    *,
    status: int = 200,
    done: str = "",
    problem: Message | None = None,
    errors: dict[str, Message] | None = None,
) -> Response:
    return render(
        visit,
        "inbox.html",
        status=status,
        items=answers.inbox(visit.rt, visit.me),
        opted_out=invite_links.is_opted_out(visit.rt, visit.me),
        notice=notice(done),
        problem=problem,
        errors=errors or {},
    )


@router.get("/inbox", name="inbox")
def inbox(visit: MemberVisit, done: str = "") -> Response:
    return _inbox(visit, done=done)


@router.post("/inbox/{invitation_id}/accept")
def accept(
    visit: MemberVisit, invitation_id: str, name: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    try:
        entry = answers.accept(visit.rt, visit.me, invitation_id, name.strip() or None)
    except CirclebookError as exc:
        if exc.field == "name":
            return _inbox(visit, status=422, errors={invitation_id: explain(exc)})
        return _inbox(visit, status=404, problem=explain(exc))
    return RedirectResponse(f"/books/{entry.book_id}?done=accepted", status_code=303)


@router.post("/inbox/{invitation_id}/decline")
def decline(visit: MemberVisit, invitation_id: str) -> Response:
    try:
        answers.decline(visit.rt, visit.me, invitation_id)
    except CirclebookError as exc:
        return _inbox(visit, status=404, problem=explain(exc))
    return RedirectResponse("/inbox?done=declined", status_code=303)


@router.post("/inbox/do-not-invite")
def do_not_invite(
    visit: MemberVisit, invitations_off: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """The switch: nobody may invite this number any more, or people may again."""
    off = invitations_off == "yes"
    invite_links.set_opted_out(visit.rt, visit.me, off)
    return RedirectResponse(
        f"/inbox?done={'invitations_off' if off else 'invitations_on'}", status_code=303
    )
