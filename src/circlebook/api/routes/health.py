"""Liveness and readiness for load balancers and scripts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from circlebook.api.problems import problem
from circlebook.observe.readiness import Liveness, Readiness
from circlebook.services.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["health"])


class Health(BaseModel):
    status: str


def database_answers(rt: Runtime) -> None:
    with rt.uow():
        pass  # opening a transaction proves the database answers


@router.get("/health")
async def health(request: Request) -> Health:
    """Alive: the server answers and can reach its database."""
    liveness: Liveness = request.app.state.liveness
    await liveness.check()
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Health,
    responses={503: {"description": "a check failed", "content": {"application/problem+json": {}}}},
)
async def ready(request: Request) -> Health | Response:
    """Ready for traffic: the database answers, its migrations are current, the broker answers.

    Otherwise 503, with a problem body whose `checks` say which failed and why.
    """
    readiness: Readiness = request.app.state.readiness
    failed = await readiness.failures()
    if not failed:
        return Health(status="ok")
    return problem(
        503,
        "not-ready",
        "Not ready",
        "; ".join(f"{f.check}: {f.detail}" for f in failed),
        instance=request.url.path,
        checks=[{"check": f.check, "detail": f.detail} for f in failed],
    )
