"""The SDK's typed exceptions, raised from the problem bodies a real server process answers."""

from __future__ import annotations

import ast
import asyncio
import importlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import circlebook.client
from circlebook.client import (
    ApiError,
    AsyncClient,
    AuthenticationError,
    Client,
    ClientError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    Invitee,
    LocalBook,
    NotFoundError,
    RateLimitedError,
    ResyncRequiredError,
    TransportError,
)
from tests.e2e.live import Server, live_server
from tests.e2e.test_server_process import free_port

OWNER = ("+8615100151021", "Owner")
MEMBER = ("+8615100151022", "Member")
HASTY = "+8615100151023"  # asks for one code too many
MISTYPED = "+8615100151024"
UNKNOWN_BOOK = "b_" + "A" * 24
E = TypeVar("E", bound=ClientError)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


def signed_in(server: Server, who: tuple[str, str]) -> Client:
    client = Client(server.url)
    client.sign_in(who[0], server.send_code(who[0]), name=who[1])
    return client


@pytest.fixture(scope="module")
def owner(server: Server) -> Iterator[Client]:
    with signed_in(server, OWNER) as client:
        yield client


@pytest.fixture(scope="module")
def member(server: Server) -> Iterator[Client]:
    with signed_in(server, MEMBER) as client:
        yield client


@pytest.fixture(scope="module")
def book(owner: Client, member: Client) -> str:
    """A book of `owner` that `member` has joined."""
    created = owner.create_book("Shared", [Invitee(MEMBER[0], "Member")])
    member.accept(created.outcomes[0].invitation_id or "")
    return created.book.id


def raised(kind: type[E], call: Callable[[], Any], status: int | None = None) -> E:
    """The exception `call` raised, which must be a `kind` (with `status`, for API errors)."""
    with pytest.raises(kind) as info:
        call()
    if status is not None:
        assert isinstance(info.value, ApiError)
        assert (info.value.status, info.value.problem["status"]) == (status, status)
        assert info.value.problem["type"].startswith("urn:circlebook:problem:")
        assert str(info.value) == info.value.detail != ""
    return info.value


# -- each problem as its exception ------------------------------------------------------------


def test_an_unknown_book_is_not_found(owner: Client) -> None:
    error = raised(NotFoundError, lambda: owner.book(UNKNOWN_BOOK), 404)
    assert error.problem["type"] == "urn:circlebook:problem:not-found"


def test_a_member_renaming_the_book_is_forbidden(member: Client, book: str) -> None:
    raised(ForbiddenError, lambda: member.rename_book(book, "Mine now"), 403)


def test_the_owner_removing_its_own_entry_is_a_conflict(owner: Client, book: str) -> None:
    own = next(e for e in owner.entries(book).entries if e.role == "owner")
    error = raised(ConflictError, lambda: owner.remove_entry(book, own.id), 409)
    assert "dissolved" in error.detail


def test_a_bad_phone_is_invalid_input_naming_the_phone_field(server: Server) -> None:
    with Client(server.url) as anonymous:
        error = raised(InvalidInputError, lambda: anonymous.request_code("12"), 422)
    assert error.field == "phone"


@pytest.mark.parametrize(
    ("invitee", "field"),
    [
        (Invitee(""), "invitees[0].phone"),
        (Invitee(MEMBER[0], tags=("x" * 33,)), "invitees[0].tags[0]"),
        (Invitee(MEMBER[0], tags=tuple(f"t{i}" for i in range(17))), "invitees[0].tags"),
    ],
)
def test_a_bad_invitee_list_is_invalid_input_naming_the_invitee(
    owner: Client, invitee: Invitee, field: str
) -> None:
    error = raised(InvalidInputError, lambda: owner.create_book("Refused", [invitee]), 422)
    assert error.field == field
    assert "Refused" not in {b.title for b in owner.books()}


def test_a_fourth_code_within_fifteen_minutes_is_rate_limited_with_retry_after(
    server: Server,
) -> None:
    with Client(server.url) as anonymous:
        for _ in range(3):
            anonymous.request_code(HASTY)
        error = raised(RateLimitedError, lambda: anonymous.request_code(HASTY), 429)
    assert error.retry_after is not None
    assert 0 < error.retry_after <= 15 * 60
    assert error.problem["retry_after"] == error.retry_after


def test_a_bad_token_is_an_authentication_error(server: Server) -> None:
    with Client(server.url, "not-a-token") as stranger:
        raised(AuthenticationError, stranger.me, 401)


def test_a_wrong_code_is_an_authentication_error(server: Server) -> None:
    code = server.send_code(MISTYPED)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with Client(server.url) as anonymous:
        error = raised(AuthenticationError, lambda: anonymous.sign_in(MISTYPED, wrong), 401)
        assert anonymous.token is None
    assert error.problem["field"] == "code"


def test_a_garbage_sync_token_asks_for_a_full_fetch(owner: Client, book: str) -> None:
    error = raised(ResyncRequiredError, lambda: owner.entries(book, since="garbage"), 400)
    assert error.problem["field"] == "since"
    copy = LocalBook(book, sync_token="garbage")
    report = copy.sync(owner)
    assert (report.full, report.changed, len(copy.entries)) == (True, 2, 2)


def test_a_closed_port_is_a_transport_error() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with Client(closed) as nowhere:
        error = raised(TransportError, nowhere.health)
    assert not isinstance(error, ApiError)
    assert str(error).startswith(f"cannot reach {closed}")


# -- the asyncio client maps them the same way --------------------------------------------------


def test_the_async_client_raises_the_same_exceptions(
    server: Server, owner: Client, member: Client, book: str
) -> None:
    async def scenario() -> list[ClientError]:
        caught: list[ClientError] = []
        async with (
            AsyncClient(server.url, owner.token) as owner_async,
            AsyncClient(server.url, member.token) as member_async,
            AsyncClient(f"http://127.0.0.1:{free_port()}") as nowhere,
        ):
            attempts: list[Callable[[], Awaitable[Any]]] = [
                lambda: owner_async.book(UNKNOWN_BOOK),
                lambda: member_async.rename_book(book, "Mine now"),
                lambda: owner_async.entries(book, since="garbage"),
                nowhere.health,
            ]
            for attempt in attempts:
                try:
                    await attempt()
                except ClientError as exc:
                    caught.append(exc)
        return caught

    caught = asyncio.run(scenario())
    assert [type(e) for e in caught] == [
        NotFoundError,
        ForbiddenError,
        ResyncRequiredError,
        TransportError,
    ]
    assert [getattr(e, "status", None) for e in caught] == [404, 403, 400, None]


# -- the package's surface ----------------------------------------------------------------------

EXPECTED_ALL = [
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
SERVER_SIDE = {
    "domain",
    "services",
    "storage",
    "api",
    "app",
    "settings",
    "sms",
    "serving",
    "__main__",
}
# The consent ledger's hash chain, which the terminal checks with the very code the server
# chains with, belongs to neither side (as circlebook.phonebook, the number rule and contacts
# readers, does not): tests/unit/test_architecture.py keeps it standard library only.
SHARED = "circlebook.hashchain"


def test_the_client_package_exports_exactly_its_public_names() -> None:
    assert circlebook.client.__all__ == EXPECTED_ALL
    namespace: dict[str, Any] = {}
    exec("from circlebook.client import *", namespace)  # noqa: S102 - a fixed string
    assert sorted(set(namespace) - {"__builtins__"}) == EXPECTED_ALL
    module = importlib.import_module("circlebook.client")
    assert all(getattr(module, name) is namespace[name] for name in EXPECTED_ALL)


def imported_modules(path: Path, package: str) -> Iterator[str]:
    """Every module `path` imports, relative imports resolved against `package`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def test_the_client_package_imports_nothing_from_the_server_side() -> None:
    root = Path(circlebook.client.__file__).parent
    wrong: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        package = ".".join(path.relative_to(root.parent.parent).parent.parts)
        for module in imported_modules(path, package):
            seen.add(module)
            names = module.split(".")
            if module == SHARED or module.startswith(f"{SHARED}."):
                continue
            if names[0] == "circlebook" and len(names) > 1 and names[1] in SERVER_SIDE:
                wrong.append((path.name, module))
    assert wrong == []
    # The walk does see the client's own imports, relative ones resolved.
    assert {"httpx", "circlebook.client.errors", "circlebook.client.contacts"} <= seen
