"""The SDK's exceptions: the server's RFC 9457 problem bodies mapped to classes, and local ones."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of everything the SDK raises."""


class TransportError(ClientError):
    """The server could not be reached, or answered with something that is not HTTP."""


class ContactsError(ClientError):
    """A file that cannot be read as contacts at all; the message says which and why."""


class ApiError(ClientError):
    """The server answered with a problem; `problem` is its body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.title = str(problem.get("title", "error"))
        self.detail = str(problem.get("detail", ""))
        super().__init__(self.detail or self.title)


class AuthenticationError(ApiError):
    """Not signed in, a token that is no longer valid, or a wrong one-time code."""


class NotFoundError(ApiError):
    """No such thing, or the caller may not know of it."""


class ForbiddenError(ApiError):
    """The caller may see the thing but not do this to it."""


class ConflictError(ApiError):
    """The request contradicts the current state."""


class InvalidInputError(ApiError):
    """A value sent was refused; `field` names it where the server said which."""

    @property
    def field(self) -> str | None:
        value = self.problem.get("field")
        return str(value) if value is not None else None


class RateLimitedError(ApiError):
    """Too many requests; `retry_after` says how many seconds to wait."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: int | None) -> None:
        super().__init__(status, problem)
        self.retry_after = retry_after


class ResyncRequiredError(ApiError):
    """A sync token the server can no longer answer from: fetch the book in full."""


_BY_SLUG: dict[str, type[ApiError]] = {
    "not-authenticated": AuthenticationError,
    "invalid-code": AuthenticationError,
    "not-found": NotFoundError,
    "forbidden": ForbiddenError,
    "conflict": ConflictError,
    "invalid-input": InvalidInputError,
    "invalid-phone": InvalidInputError,
    "too-large": InvalidInputError,
    "bad-sync-token": ResyncRequiredError,
    "stale-sync-token": ResyncRequiredError,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: ResyncRequiredError,
    413: InvalidInputError,
    422: InvalidInputError,
}


def _seconds(retry_after: str | None) -> int | None:
    # Retry-After may also be an HTTP date; "²".isdigit() is true but int("²") fails,
    # and so does int() of over 4,300 digits.
    if retry_after and len(retry_after) <= 18 and retry_after.isascii() and retry_after.isdigit():
        return int(retry_after)
    return None


def error_for(status: int, problem: dict[str, Any], retry_after: str | None) -> ApiError:
    """The exception for a problem answer: by its type, else by its status."""
    slug = str(problem.get("type", "")).rsplit(":", 1)[-1]
    if status == 429 or slug == "rate-limited":
        return RateLimitedError(status, problem, _seconds(retry_after))
    cls = _BY_SLUG.get(slug) or _BY_STATUS.get(status, ApiError)
    return cls(status, problem)
