"""RFC 9457 problem details: the one table mapping errors to HTTP answers."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from circlebook.domain import errors
from circlebook.edge.errors import nearest
from circlebook.observe.requests import route_of
from circlebook.services.ports import DeliveryError

log = logging.getLogger("circlebook.api")

PROBLEM_JSON = "application/problem+json"

# Looked up by the error's classes, nearest first (see edge.errors.nearest).
PROBLEMS: dict[type[errors.CirclebookError], tuple[int, str, str]] = {
    errors.InvalidPhoneError: (422, "invalid-phone", "Invalid phone number"),
    errors.InvalidInputError: (422, "invalid-input", "Invalid input"),
    errors.NotAuthenticatedError: (401, "not-authenticated", "Not signed in"),
    errors.InvalidCodeError: (401, "invalid-code", "Wrong or expired code"),
    errors.NotFoundError: (404, "not-found", "Not found"),
    errors.ForbiddenError: (403, "forbidden", "Forbidden"),
    errors.ConflictError: (409, "conflict", "Conflict"),
    errors.LimitReachedError: (403, "limit-reached", "Limit reached"),
    errors.TextBudgetSpentError: (503, "sms-budget-spent", "No texts can go out just now"),
    errors.RateLimitedError: (429, "rate-limited", "Too many requests"),
    errors.BadSyncTokenError: (400, "bad-sync-token", "Fetch the book in full"),
    errors.StaleSyncTokenError: (410, "stale-sync-token", "Fetch the book in full"),
    DeliveryError: (503, "sms-unavailable", "The code could not be sent"),
}

# Starlette's own errors (an unknown route, a wrong method, a body too large). Where one
# means what a domain error means, it takes that error's row: one type, one title.
_HTTP_SLUGS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: PROBLEMS[errors.NotAuthenticatedError][1:],
    404: PROBLEMS[errors.NotFoundError][1:],
    405: ("method-not-allowed", "Method not allowed"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:circlebook:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)


def from_error(exc: errors.CirclebookError, instance: str | None = None) -> Response:
    status, slug, title = nearest(PROBLEMS, exc) or (400, *_HTTP_SLUGS[400])
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {"field": exc.field}
    if isinstance(exc, errors.RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
        extra["retry_after"] = exc.retry_after
    if isinstance(exc, errors.NotAuthenticatedError | errors.InvalidCodeError):
        headers["WWW-Authenticate"] = "Bearer"
    return problem(status, slug, title, exc.detail, instance=instance, headers=headers, **extra)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.CirclebookError)
    async def _domain(request: Request, exc: errors.CirclebookError) -> Response:
        return from_error(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": "body", "message": "the body is not valid JSON"}
            if err.get("type") == "json_invalid"
            else {"field": _field(tuple(err.get("loc", ()))), "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"field": "body", "message": "invalid"}
        return problem(
            422,
            "invalid-input",
            "Invalid input",
            f"{first['field']}: {first['message']}",
            instance=request.url.path,
            field=first["field"],
            errors=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        slug, title = _HTTP_SLUGS.get(exc.status_code, ("error", "Error"))
        return problem(
            exc.status_code,
            slug,
            title,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # By route template: the path itself may hold a phone number or an invitation token.
        log.exception("unexpected error on %s %s", request.method, route_of(request.scope))
        return problem(
            500,
            "internal",
            "Internal server error",
            "the server failed; the request was not carried out",
            instance=request.url.path,
        )
