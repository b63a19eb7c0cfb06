"""What a person may know about their own number: who sees it, book by book."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from circlebook.services import audience
from circlebook.web.rendering import render
from circlebook.web.routing import PageRoute
from circlebook.web.visits import MemberVisit

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/audience", name="audience")
def who_sees_me(visit: MemberVisit) -> Response:
    return render(visit, "audience.html", books=audience.who_sees_me(visit.rt, visit.me))
