"""The circlebook SDK: typed clients for the JSON API, and a local copy kept by delta sync.

It imports nothing from the server side, so it can be used wherever httpx runs.
"""

from circlebook.client.async_sdk import AsyncClient
from circlebook.client.errors import (
    ApiError,
    AuthenticationError,
    ClientError,
    ConflictError,
    ContactsError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    ResyncRequiredError,
    TransportError,
)
from circlebook.client.events import ServerEvent
from circlebook.client.models import (
    Accepted,
    Account,
    AppPassword,
    Book,
    CreatedBook,
    EntriesPage,
    Entry,
    Invitation,
    Invitee,
    InviteLink,
    Joined,
    LedgerPage,
    NewAppPassword,
    Outcome,
    PendingInvitation,
    Reminder,
    Session,
)
from circlebook.client.sdk import Client
from circlebook.client.sync import LocalBook, SyncReport

__all__ = [
    "Accepted",
    "Account",
    "ApiError",
    "AppPassword",
    "AsyncClient",
    "AuthenticationError",
    "Book",
    "Client",
    "ClientError",
    "ConflictError",
    "ContactsError",
    "CreatedBook",
    "EntriesPage",
    "Entry",
    "ForbiddenError",
    "InvalidInputError",
    "Invitation",
    "InviteLink",
    "Invitee",
    "Joined",
    "LedgerPage",
    "LocalBook",
    "NewAppPassword",
    "NotFoundError",
    "Outcome",
    "PendingInvitation",
    "RateLimitedError",
    "Reminder",
    "ResyncRequiredError",
    "ServerEvent",
    "Session",
    "SyncReport",
    "TransportError",
]
