"""GET /metrics: the Prometheus text format, for a scraper, only when CIRCLEBOOK_METRICS=on."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from circlebook.api.problems import problem
from circlebook.edge.deps import SettingsDep
from circlebook.observe.metrics import Metrics
from circlebook.services import signing

router = APIRouter(include_in_schema=False)


def _allowed(request: Request, token: str) -> bool:
    if not token:
        return True
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    # Constant time: how far a guess matched must not show in how long the answer takes.
    return scheme.lower() == "bearer" and signing.matches(token, presented.strip())


@router.get("/metrics")
async def metrics(request: Request, settings: SettingsDep) -> Response:
    if not _allowed(request, settings.metrics_token.get_secret_value()):
        return problem(
            401,
            "not-authenticated",
            "Not signed in",
            "send the metrics token as Authorization: Bearer",
            instance=request.url.path,
            headers={"WWW-Authenticate": "Bearer"},
        )
    source: Metrics = request.app.state.metrics
    # With several workers this reads every worker's files: off the event loop.
    body = await run_in_threadpool(source.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
