"""Signing in with a code sent by SMS, in the language of the page; signing out."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from circlebook.domain.errors import CirclebookError
from circlebook.services import auth
from circlebook.services.phones import normalize_phone
from circlebook.web import session
from circlebook.web.feedback import explain, notice
from circlebook.web.rendering import render
from circlebook.web.routes.home import local_path
from circlebook.web.routing import PageRoute, form_status, with_retry_after
from circlebook.web.visits import Visit, VisitDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DEVICE = "web browser"
TextField = Annotated[str, Form(max_length=1000)]


def _failed(exc: CirclebookError, default: str) -> dict[str, Any]:
    """How a page shows the error: its status, and the message beside the field at fault."""
    status = form_status(exc)
    return {"status": status, "errors": {exc.field or default: explain(exc)}}


def _signin_page(visit: Visit, **context: Any) -> Response:
    refused = session.cookies_refused(visit.request)
    return render(visit, "signin.html", cookies_refused=refused, **context)


@router.get("/signin", name="signin")
def signin_form(visit: VisitDep, next: str = "", done: str = "") -> Response:
    if visit.account is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return _signin_page(visit, phone="", next=next, errors={}, notice=notice(done))


@router.post("/signin")
def send_code(visit: VisitDep, phone: TextField = "", next: TextField = "") -> Response:
    try:
        lifetime = auth.request_code(visit.rt, phone, lang=visit.language, client=visit.client)
    except CirclebookError as exc:
        page = _signin_page(visit, phone=phone, next=next, notice=None, **_failed(exc, "phone"))
        return with_retry_after(page, exc)
    number = normalize_phone(phone, visit.rt.policy.region)
    target = "/signin/code" + (f"?{urlencode({'next': next})}" if next else "")
    response = RedirectResponse(target, status_code=303)
    session.remember_signin_phone(response, visit.request, visit.rt.secret_key, number, lifetime)
    return response


@router.get("/signin/code", name="signin_code")
def code_form(visit: VisitDep, next: str = "") -> Response:
    phone = session.signin_phone(visit.request, visit.rt.secret_key)
    if phone is None:  # the code's time is up, or cookies are off: start again
        return RedirectResponse("/signin" + (f"?{urlencode({'next': next})}" if next else ""), 303)
    return render(visit, "code.html", phone=phone, next=next, name="", errors={})


@router.post("/signin/code")
def check_code(
    visit: VisitDep,
    code: TextField = "",
    name: TextField = "",
    next: TextField = "",
) -> Response:
    phone = session.signin_phone(visit.request, visit.rt.secret_key)
    if phone is None:
        return RedirectResponse("/signin" + (f"?{urlencode({'next': next})}" if next else ""), 303)
    try:
        signed = auth.sign_in(
            visit.rt, phone, code.strip(), DEVICE, name=name.strip() or None, client=visit.client
        )
    except CirclebookError as exc:
        page = render(visit, "code.html", phone=phone, next=next, name=name, **_failed(exc, "code"))
        return with_retry_after(page, exc)
    response = RedirectResponse(local_path(next), status_code=303)
    session.keep_session(response, visit.request, signed.token)
    session.forget_signin_phone(response, visit.request)
    return response


@router.post("/signout")
def sign_out(visit: VisitDep) -> Response:
    if visit.token is not None:
        auth.sign_out(visit.rt, visit.token)
    response = RedirectResponse("/signin?done=signed_out", status_code=303)
    session.drop_session(response, visit.request)
    return response
