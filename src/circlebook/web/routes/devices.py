"""Devices: the browsers and apps signed in with a code, and the app passwords a phone's
contacts app signs in with over CardDAV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from circlebook.domain.errors import CirclebookError, ConflictError
from circlebook.services import app_passwords, auth
from circlebook.services.app_passwords import MAX_APP_PASSWORDS, NewAppPassword
from circlebook.web.feedback import N_, Message, explain, notice
from circlebook.web.rendering import render
from circlebook.web.routing import PageRoute
from circlebook.web.visits import MemberVisit, Visit

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def carddav_url(visit: Visit) -> str:
    """Where a contacts app finds the books (RFC 6764, section 5)."""
    return str(visit.request.base_url) + ".well-known/carddav"


def _devices(
    visit: Visit,
    *,
    status: int = 200,
    made: NewAppPassword | None = None,
    label: str = "",
    errors: dict[str, Message] | None = None,
    done: str = "",
) -> Response:
    return render(
        visit,
        "devices.html",
        status=status,
        passwords=app_passwords.list_app_passwords(visit.rt, visit.me),
        sessions=auth.list_sessions(visit.rt, visit.me, visit.token),
        idle_days=visit.rt.policy.session_idle_days,
        made=made,
        label=label,
        errors=errors or {},
        notice=notice(done),
        carddav_url=carddav_url(visit),
    )


@router.get("/devices", name="devices")
def devices(visit: MemberVisit, done: str = "") -> Response:
    return _devices(visit, done=done)


@router.post("/devices")
def make_password(
    visit: MemberVisit, label: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    """Make one; the page that answers is the only one that ever shows it."""
    try:
        made = app_passwords.create_app_password(visit.rt, visit.me, label)
    except ConflictError:
        message = Message(
            N_("At most %(limit)s app passwords: revoke one you no longer use."),
            {"limit": MAX_APP_PASSWORDS},
        )
        return _devices(visit, status=409, label=label, errors={"label": message})
    except CirclebookError as exc:
        return _devices(visit, status=422, label=label, errors={"label": explain(exc)})
    return _devices(visit, made=made)


@router.post("/devices/{app_password_id}/revoke")
def revoke(visit: MemberVisit, app_password_id: str) -> Response:
    app_passwords.revoke_app_password(visit.rt, visit.me, app_password_id)
    return RedirectResponse("/devices?done=device_revoked", status_code=303)


@router.post("/devices/sessions/{session_id}/end")
def end_session(visit: MemberVisit, session_id: str) -> Response:
    auth.end_session(visit.rt, visit.me, session_id)
    return RedirectResponse("/devices?done=session_ended", status_code=303)


@router.post("/devices/sessions/end-others")
def end_other_sessions(visit: MemberVisit) -> Response:
    if visit.token is not None:
        auth.end_other_sessions(visit.rt, visit.me, visit.token)
    return RedirectResponse("/devices?done=others_signed_out", status_code=303)
