"""An invitation's personal link, opened by someone who may have no account at all.

The page says who invites to what; the person asks for a code sent to the
invited number, then accepts (and lands signed in on the book), declines, or
stops every invitation to the number. Saying no leaves nothing behind.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from circlebook.domain.errors import (
    CirclebookError,
    NotFoundError,
)
from circlebook.services import auth, invite_links
from circlebook.services.invite_links import LinkView
from circlebook.web import session
from circlebook.web.feedback import N_, Message, explain
from circlebook.web.rendering import render
from circlebook.web.routing import PageRoute, form_status, with_retry_after
from circlebook.web.visits import Visit, VisitDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DEVICE = "web browser"
TextField = Annotated[str, Form(max_length=1000)]
ANSWERS = ("accept", "decline", "stop")


def _gone(visit: Visit) -> Response:
    """An unknown, answered or expired link: a page that says so, with what to do next."""
    return render(visit, "link_gone.html", status=404)


def _page(
    visit: Visit, token: str, link: LinkView, *, status: int = 200, **context: Any
) -> Response:
    values: dict[str, Any] = {"step": "start", "name": "", "errors": {}, "problem": None}
    values.update(context)
    return render(visit, "link.html", status=status, token=token, link=link, **values)


def _failed(exc: CirclebookError) -> tuple[int, dict[str, Message], Message | None]:
    """The status, field errors and page-wide problem a failed step shows."""
    status = form_status(exc)
    if exc.field in ("code", "name"):
        return status, {exc.field: explain(exc)}, None
    return status, {}, explain(exc)


@router.get("/i/{token}", name="invite_link")
def open_link(visit: VisitDep, token: str, step: str = "") -> Response:
    try:
        link = invite_links.view(visit.rt, token)
    except NotFoundError:
        return _gone(visit)
    return _page(visit, token, link, step="code" if step == "code" else "start")


@router.post("/i/{token}/code")
def send_code(visit: VisitDep, token: str) -> Response:
    try:
        link = invite_links.view(visit.rt, token)
        invite_links.request_code(visit.rt, token, lang=visit.language, client=visit.client)
    except NotFoundError:
        return _gone(visit)
    except CirclebookError as exc:
        status, _, problem = _failed(exc)
        page = _page(visit, token, link, status=status, problem=problem or explain(exc))
        return with_retry_after(page, exc)
    # Post, then get: reloading the code form never texts another code.
    return RedirectResponse(f"/i/{token}?step=code", status_code=303)


@router.post("/i/{token}/answer")
def answer(
    visit: VisitDep,
    token: str,
    code: TextField = "",
    name: TextField = "",
    answer: TextField = "",
) -> Response:
    try:
        link = invite_links.view(visit.rt, token)
    except NotFoundError:
        return _gone(visit)
    if answer not in ANSWERS:
        choose = Message(N_("Choose whether to join the book or not."))
        return _page(visit, token, link, status=422, step="code", name=name, problem=choose)
    code = code.strip()
    try:
        if answer == "accept":
            joined = invite_links.accept(
                visit.rt, token, code, name.strip() or None, DEVICE, visit.client
            )
        elif answer == "decline":
            invite_links.decline(visit.rt, token, code, visit.client)
        else:
            invite_links.stop(visit.rt, token, code, visit.client)
    except NotFoundError:  # answered a moment ago, in another tab or by a racing request
        return _gone(visit)
    except CirclebookError as exc:
        status, errors, problem = _failed(exc)
        page = _page(
            visit,
            token,
            link,
            status=status,
            step="code",
            name=name,
            errors=errors,
            problem=problem,
        )
        return with_retry_after(page, exc)
    if answer == "accept":
        if visit.token is not None:  # signed in as someone else here: that session ends
            auth.sign_out(visit.rt, visit.token)
        response = RedirectResponse(f"/books/{joined.entry.book_id}?done=accepted", status_code=303)
        session.keep_session(response, visit.request, joined.token)
        return response
    return render(visit, "link_answered.html", link=link, stopped=answer == "stop")
