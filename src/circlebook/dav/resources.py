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

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from circlebook.dav.carddav import AddressBookCollection, CardDavPrincipal, VCardResource
from circlebook.dav.properties import COLLECTION, Resource, SyncAnswer
from circlebook.domain import entity_tags
from circlebook.domain.errors import BadSyncTokenError, NotFoundError
from circlebook.domain.model import Account
from circlebook.services import books, entries, vcards
from circlebook.services.books import Membership
from circlebook.services.entries import VisibleEntry
from circlebook.services.runtime import Runtime
from circlebook.services.vcards import DEFAULT_VERSION, CardVersion

# RFC 6578 section 3.2 makes a sync token a URI; the book's delta token follows this.
SYNC_TOKEN_PREFIX = "urn:circlebook:sync:"  # noqa: S105 - a URI scheme, not a secret
CARD_SUFFIX = ".vcf"
# Separates the parts of a truncated sync's token; no sealed token or entry id holds it.
_PART = "~"


@dataclass(frozen=True, slots=True)
class Session:
    """One request's signed-in account, where the DAV tree is mounted (e.g. `/dav`), and
    the vCard version the request asked its cards in (RFC 6352 section 5.1.1)."""

    rt: Runtime
    account: Account
    base: str
    card_version: CardVersion = DEFAULT_VERSION

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
        path = f"{self.path}{entry.id}{CARD_SUFFIX}"
        return Card(path, self.principal, entry, self.session.card_version)

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

    def sync(self, token: str | None, limit: int | None = None) -> SyncAnswer:
        """The changes since `token`, at most `limit` of them (RFC 6578 sections 3.6, 3.7).

        A truncated answer sends changes in the order of their entry ids and ends with
        a token that says how far it got (see `_Position`): asked with it, the book
        sends the rest of those changes and everything that changed since.
        """
        at = _Position.read(token)
        view = self._changes(at.since)
        changed = {e.id: e for e in view.entries if e.id > at.sent_through}
        removed = {entry_id for entry_id in view.removed if entry_id > at.sent_through}
        if at.sent_at is not None:
            # Read after the rest, so that its token is the newer: everything up to
            # `sent_through` that changed since the last answer is sent again.
            view = self._changes(at.sent_at)
            for entry in view.entries:
                changed[entry.id] = entry
                removed.discard(entry.id)
            for entry_id in view.removed:
                changed.pop(entry_id, None)
                removed.add(entry_id)
        ids = sorted({*changed, *removed})
        truncated = limit is not None and len(ids) > limit
        if truncated:
            ids = ids[:limit]
            through = ids[-1] if ids else at.sent_through
            token = _Position(at.since, view.sync_token, through).uri()
        else:
            token = _token_uri(view.sync_token)
        return SyncAnswer(
            changed=[self.card(changed[i]) for i in ids if i in changed],
            removed=[f"{self.path}{i}{CARD_SUFFIX}" for i in ids if i in removed],
            token=token,
            truncated=truncated,
        )

    def _changes(self, since: str | None) -> entries.View:
        return entries.fetch_entries(
            self.session.rt, self.session.account, self.book_id, since=since
        )


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a sync stands: everything up to the token `since` (None: nothing), and of the
    rest, every entry whose id is at most `sent_through` as it stood at token `sent_at`.

    A whole answer's position is its token alone. A truncated one names all three,
    so the next request can send the rest of the first changes (ids after
    `sent_through`) and whatever changed after `sent_at`, without missing any.
    Every part is a token this server sealed or an entry id the member was sent,
    so the URI tells the member nothing it did not know.
    """

    since: str | None
    sent_at: str | None = None
    sent_through: str = ""

    @classmethod
    def read(cls, uri: str | None) -> _Position:
        if uri is None:
            return cls(None)
        parts = _token_of(uri).split(_PART)
        if len(parts) == 1:
            return cls(parts[0])
        if len(parts) != 3 or not parts[0]:
            raise BadSyncTokenError(
                "this sync token was not issued here: sync again from the start"
            )
        sent_at, since, through = parts
        return cls(since or None, sent_at, through)

    def uri(self) -> str:
        return _token_uri(_PART.join((self.sent_at or "", self.since or "", self.sent_through)))


class Card(VCardResource):
    """One entry's card in one vCard version: each version is a representation of its
    own, with an entity tag of its own."""

    def __init__(
        self, path: str, principal: str, entry: VisibleEntry, version: CardVersion
    ) -> None:
        super().__init__(path, principal)
        self.entry = entry
        self.version = version
        self._text: str | None = None

    def content_key(self) -> Hashable:
        # All that services.vcards.vcard and fingerprint read of a card.
        entry = self.entry
        return (self.version, entry.id, entry.name, entry.phone)

    def content_source(self) -> str | None:
        return self.entry.id

    def etag(self) -> str | None:
        return f'"{vcards.fingerprint(self.entry, self.version)}"'

    def vcard(self) -> str:
        # Written once: an addressbook-query reads it for the filter and again for the answer.
        if self._text is None:
            self._text = vcards.vcard(self.entry, self.version)
        return self._text


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


def _membership(session: Session, book_id: str) -> Membership:
    """The member's place in the book, from memory when read within the last second
    (services.books.recent_membership), else from the database.

    A phone polls a book's CTag, then syncs it: the REPORT after the poll needs no
    second read of the same membership. It is the access check and the book's title
    and token only; every card in an answer is read afresh (services.entries checks
    the member again in the transaction that reads them).
    """
    remembered = books.recent_membership(session.rt, session.account, book_id)
    if remembered is not None:
        return remembered
    return books.get_membership(session.rt, session.account, book_id)


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
    book = Book(session, _membership(session, rest[1]))
    if len(rest) == 2:
        return book
    if len(rest) == 3 and rest[2].endswith(CARD_SUFFIX):
        found = book.members_at([book.path + rest[2]])
        if found:
            return next(iter(found.values()))
    raise NotFoundError("no such card")
