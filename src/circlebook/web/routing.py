"""The route class of every page: CSRF-checked posts, errors as pages, protective headers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from circlebook.domain import errors
from circlebook.edge.deps import get_runtime, get_settings
from circlebook.edge.errors import nearest
from circlebook.web import session
from circlebook.web.feedback import N_, Message, explain
from circlebook.web.rendering import render
from circlebook.web.visits import current_visit

# Scripts and styles come only from this server (no inline script, no CDN); the
# pages may not be framed, and forms post only here. The service worker and the
# manifest are this server's own files too (routes/homescreen.py).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; worker-src 'self'; manifest-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# Looked up by the error's classes, nearest first (see edge.errors.nearest).
STATUS: dict[type[errors.CirclebookError], int] = {
    errors.NotFoundError: 404,
    errors.ForbiddenError: 403,
    errors.TextBudgetSpentError: 503,
    errors.RateLimitedError: 429,
    errors.ConflictError: 409,
}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def sign_in_first(request: Request) -> Response:
    target = "/signin"
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?next=" + quote(here, safe="")
    response = RedirectResponse(target, status_code=303)
    session.drop_session(response, request)
    return response


def form_status(exc: errors.CirclebookError) -> int:
    """The status of a form page shown again with an error: a limit's, else 422."""
    if isinstance(exc, errors.RateLimitedError):
        return 503 if isinstance(exc, errors.TextBudgetSpentError) else 429
    return 422


def with_retry_after(response: Response, exc: Exception) -> Response:
    """A page refused by a limit says, as the API does, when to try again."""
    if isinstance(exc, errors.RateLimitedError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def error_page(request: Request, exc: Exception) -> Response:
    visit = current_visit(request)
    if isinstance(exc, session.CsrfError):
        message = Message(N_("This form is out of date. Go back, reload the page and try again."))
        return render(visit, "error.html", status=403, message=message)
    if isinstance(exc, RequestValidationError):
        message = Message(N_("This form was not filled in as expected. Please try again."))
        return render(visit, "error.html", status=400, message=message)
    assert isinstance(exc, errors.CirclebookError)
    status = nearest(STATUS, exc) or 400
    return with_retry_after(render(visit, "error.html", status=status, message=explain(exc)), exc)


def too_large_page(request: Request) -> Response:
    message = Message(N_("This is too much to send at once. Send fewer people, or a smaller file."))
    return render(current_visit(request), "error.html", status=413, message=message)


async def too_large(request: Request, limit: int) -> Response:
    """The pages' answer to a body over the limit (see edge.bodies.BodyLimit): a page."""
    response = await run_in_threadpool(too_large_page, request)
    response.headers.update(SECURITY_HEADERS)
    session.settle_cookies(response, request)
    return response


class PageRoute(APIRoute):
    """A web page: kept out of the OpenAPI document by its router."""

    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()

        async def handle(request: Request) -> Response:
            response: Response
            try:
                if request.method == "POST":
                    # A checklist of a whole address book has thousands of fields; the
                    # body limit already bounds the work. The parsed form is kept on
                    # the request, where the route's own parameters are read from.
                    limit = get_settings(request).max_body_bytes // 4
                    form = await request.form(max_fields=limit)
                    secret = get_runtime(request).secret_key
                    session.check_csrf(request, secret, form.get(session.CSRF_FIELD))
                response = await inner(request)
            except errors.NotAuthenticatedError:
                response = sign_in_first(request)
            except (errors.CirclebookError, session.CsrfError, RequestValidationError) as exc:
                response = await run_in_threadpool(error_page, request, exc)
            response.headers.update(SECURITY_HEADERS)
            session.settle_cookies(response, request)
            return response

        return handle
