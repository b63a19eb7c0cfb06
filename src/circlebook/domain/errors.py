"""Every error the domain and the services raise; each edge maps them to its wire form."""

from __future__ import annotations


class CirclebookError(Exception):
    """Base of every error a client can cause."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInputError(CirclebookError):
    """A value a client sent is not acceptable (the field names which)."""


class InvalidPhoneError(InvalidInputError):
    """A phone number that phonenumbers does not judge valid."""


class TooManyInviteesError(InvalidInputError):
    """One request asks more people than a request may; `limit` is how many it may."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} invitees per request", field="invitees")
        self.limit = limit


class NotAuthenticatedError(CirclebookError):
    """No valid credentials came with a request that needs them."""


class InvalidCodeError(CirclebookError):
    """A one-time code is wrong, used, expired or locked out."""


class NotFoundError(CirclebookError):
    """The thing does not exist, or the caller may not know that it does."""


class ForbiddenError(CirclebookError):
    """The caller may see the thing but may not do this to it."""


class ConflictError(CirclebookError):
    """The request contradicts the current state."""


class LimitReachedError(CirclebookError):
    """The caller holds as many of these as one account may: it must drop one first."""


class RateLimitedError(CirclebookError):
    """Too many requests of this kind; retry after the given seconds."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TextBudgetSpentError(RateLimitedError):
    """The deployment's texts for this hour are spent: no code can go until it turns."""


class StaleSyncTokenError(CirclebookError):
    """A sync token the server can no longer answer from; fetch in full."""


class BadSyncTokenError(CirclebookError):
    """A sync token that was not issued for this book; fetch in full."""
