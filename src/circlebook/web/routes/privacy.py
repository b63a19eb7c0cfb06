"""A person's own data: who sees their number, the record of their consent, a copy of all
of it, and erasing it."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from circlebook.domain.errors import InvalidInputError
from circlebook.services import audience, ledger, privacy
from circlebook.web import session
from circlebook.web.feedback import explain
from circlebook.web.rendering import render
from circlebook.web.routing import PageRoute
from circlebook.web.visits import MemberVisit

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/audience", name="audience")
def who_sees_me(visit: MemberVisit) -> Response:
    return render(visit, "audience.html", books=audience.who_sees_me(visit.rt, visit.me))


@router.get("/ledger", name="ledger")
def my_ledger(
    visit: MemberVisit, after: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    return render(visit, "ledger.html", page=ledger.page(visit.rt, visit.me, after, None))


@router.get("/me", name="my_data")
def my_data(visit: MemberVisit) -> Response:
    return render(visit, "my_data.html")


@router.get("/me/export")
def export_me(visit: MemberVisit) -> Response:
    """The same file as GET /v1/me/export, for the session cookie."""
    document = privacy.export_account(visit.rt, visit.me, visit.token)
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{privacy.export_filename(document)}"'
        },
    )


@router.get("/me/delete", name="delete_account")
def delete_form(visit: MemberVisit) -> Response:
    return render(visit, "delete_account.html", confirm="", errors={})


@router.post("/me/delete")
def delete_me(visit: MemberVisit, confirm: Annotated[str, Form(max_length=1000)] = "") -> Response:
    try:
        privacy.delete_account(visit.rt, visit.me, confirm)
    except InvalidInputError as exc:
        errors = {"confirm": explain(exc)}
        return render(visit, "delete_account.html", status=422, confirm=confirm, errors=errors)
    response = RedirectResponse("/signin?done=account_deleted", status_code=303)
    session.drop_session(response, visit.request)
    return response
