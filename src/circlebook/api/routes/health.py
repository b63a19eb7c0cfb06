"""Liveness for load balancers and scripts: answers when the server can reach its database."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from circlebook.api.deps import RuntimeDep

router = APIRouter(prefix="/v1", tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/health")
def health(rt: RuntimeDep) -> Health:
    with rt.uow():
        pass  # opening a transaction proves the database answers
    return Health(status="ok")
