"""circlebook's books as CardDAV resources, over the same services as the JSON API.

    {base}/                                            the root
    {base}/principals/{account_id}/                    the signed-in user
    {base}/addressbooks/{account_id}/                  its home: one address book per book
    {base}/addressbooks/{account_id}/{book_id}/        a book, as this member sees it
    {base}/addressbooks/{account_id}/{book_id}/{entry_id}.vcf

Every path under principals/ and addressbooks/ names the signed-in account, so
a card's URL (like its content) belongs to one viewer. Another account's paths,
a book the user is not in and an entry it may not see are all 404, exactly as
in the JSON API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circlebook.dav.carddav import AddressBookCollection, CardDavPrincipal, VCardResource
from circlebook.dav.properties import COLLECTION, Resource, SyncAnswer
from circlebook.domain import entity_tags
from circlebook.domain.errors import BadSyncTokenError, NotFoundError
from circlebook.domain.model import Account
from circlebook.services import books, entries, vcards
from circlebook.services.books import Membership
from circlebook.services.entries import VisibleEntry
from circlebook.services.ports import Runtime

# RFC 6578 section 3.2 makes a sync token a URI; the book's delta token follows this.
SYNC_TOKEN_PREFIX = "urn:circlebook:sync:"  # noqa: S105 - a URI scheme, not a secret
CARD_SUFFIX = ".vcf"


@dataclass(frozen=True, slots=True)
class Session:
    """One request's signed-in account, and where the DAV tree is mounted (e.g. `/dav`)."""

    rt: Runtime
    account: Account
    base: str

    @property
    def principal(self) -> str:
        return f"{self.base}/principals/{self.account.id}/"

    @property
    def home(self) -> str:
        return f"{self.base}/addressbooks/{self.account.id}/"


def _token_uri(token: str) -> str:
    return SYNC_TOKEN_PREFIX + token


def _token_of(uri: str) -> str:
    if not uri.startswith(SYNC_TOKEN_PREFIX):
        raise BadSyncTokenError("this sync token was not issued here: sync again from the start")
    return uri.removeprefix(SYNC_TOKEN_PREFIX)


class Root(Resource):
    resource_types = (COLLECTION,)

    def __init__(self, session: Session) -> None:
        super().__init__(f"{session.base}/", session.principal)
        self.session = session

    def displayname(self) -> str | None:
        return "circlebook"

    def members(self) -> Sequence[Resource]:
        return (Principal(self.session), Home(self.session))


class Principal(CardDavPrincipal):
    def __init__(self, session: Session) -> None:
        super().__init__(session.principal, session.principal)
        self.session = session

    def displayname(self) -> str | None:
        return self.session.account.name or self.session.account.phone

    def principal_url(self) -> str | None:
        return self.path

    def addressbook_home(self) -> str:
        return self.session.home


class Home(Resource):
    resource_types = (COLLECTION,)

    def __init__(self, session: Session) -> None:
        super().__init__(session.home, session.principal)
        self.session = session

    def displayname(self) -> str | None:
        return "circlebook books"

    def members(self) -> Sequence[Resource]:
        held = books.list_memberships(self.session.rt, self.session.account)
        return [Book(self.session, membership) for membership in held]


class Book(AddressBookCollection):
    """One book: the cards of the entries this member may see, kept current by sync tokens."""

    def __init__(self, session: Session, membership: Membership) -> None:
        super().__init__(f"{session.home}{membership.book.id}/", session.principal)
        self.session = session
        self.membership = membership

    @property
    def book_id(self) -> str:
        return self.membership.book.id

    def displayname(self) -> str | None:
        return self.membership.book.title

    def sync_token(self) -> str | None:
        return _token_uri(self.membership.sync_token)

    def view_tag(self, representation: str) -> str | None:
        # Read with the membership (see `resolve`): no entry but the member's own.
        return entity_tags.of_view(
            self.membership.sync_token, self.membership.me.id, representation
        )

    def card(self, entry: VisibleEntry) -> Card:
        return Card(f"{self.path}{entry.id}{CARD_SUFFIX}", self.principal, entry)

    def members(self) -> Sequence[Resource]:
        view = entries.fetch_entries(self.session.rt, self.session.account, self.book_id)
        return [self.card(entry) for entry in view.entries]

    def members_at(self, paths: Sequence[str]) -> dict[str, Resource]:
        ids = [
            path.removeprefix(self.path).removesuffix(CARD_SUFFIX)
            for path in paths
            if path.startswith(self.path) and path.endswith(CARD_SUFFIX)
        ]
        found = entries.fetch_entries_by_id(
            self.session.rt, self.session.account, self.book_id, ids
        )
        return {card.path: card for card in map(self.card, found)}

    def sync(self, token: str | None) -> SyncAnswer:
        since = None if token is None else _token_of(token)
        view = entries.fetch_entries(
            self.session.rt, self.session.account, self.book_id, since=since
        )
        return SyncAnswer(
            changed=[self.card(entry) for entry in view.entries],
            removed=[f"{self.path}{entry_id}{CARD_SUFFIX}" for entry_id in view.removed],
            token=_token_uri(view.sync_token),
        )


class Card(VCardResource):
    def __init__(self, path: str, principal: str, entry: VisibleEntry) -> None:
        super().__init__(path, principal)
        self.entry = entry

    def etag(self) -> str | None:
        return f'"{vcards.fingerprint(self.entry)}"'

    def vcard(self) -> str:
        return vcards.vcard(self.entry)


def _segments(relative: str) -> list[str]:
    """The path's segments; an empty, `.` or `..` segment never names anything here."""
    inner = relative.strip("/")
    parts = inner.split("/") if inner else []
    if any(part in ("", ".", "..") for part in parts):
        raise NotFoundError("no such resource")
    return parts


def remembered_book(session: Session, relative: str) -> Book | None:
    """The book at `relative` if this process read the signed-in member's place in it
    within the last second (services.books.recent_membership); None for any other path,
    or when the book must be read. What `resolve` would give, with no database read.
    """
    try:
        parts = _segments(relative)
    except NotFoundError:
        return None
    if len(parts) != 3 or parts[0] != "addressbooks" or parts[1] != session.account.id:
        return None
    membership = books.recent_membership(session.rt, session.account, parts[2])
    return None if membership is None else Book(session, membership)


def resolve(session: Session, relative: str) -> Resource:
    """The resource at `relative` (the path below the mount) for the signed-in account."""
    parts = _segments(relative)
    if not parts:
        return Root(session)
    kind, rest = parts[0], parts[1:]
    if not rest or rest[0] != session.account.id or kind not in ("principals", "addressbooks"):
        raise NotFoundError("no such resource")
    if kind == "principals":
        if len(rest) != 1:
            raise NotFoundError("no such resource")
        return Principal(session)
    if len(rest) == 1:
        return Home(session)
    book = Book(session, books.get_membership(session.rt, session.account, rest[1]))
    if len(rest) == 2:
        return book
    if len(rest) == 3 and rest[2].endswith(CARD_SUFFIX):
        found = book.members_at([book.path + rest[2]])
        if found:
            return next(iter(found.values()))
    raise NotFoundError("no such card")
