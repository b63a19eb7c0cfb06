"""Rows read through a join of two tables, whose columns share names (id, created_at),
come back with each table's own values."""

from __future__ import annotations

from sqlalchemy import Engine

from circlebook.domain.model import Account, Book, Entry, Role, Session
from circlebook.storage.accounts import SqlAccounts
from circlebook.storage.books import SqlBooks
from circlebook.storage.entries import SqlEntries
from circlebook.storage.sessions import SqlSessions

SIGNED_UP = "2026-01-01T00:00:00.000000Z"
BEGUN = "2026-01-02T00:00:00.000000Z"
USED = "2026-01-03T00:00:00.000000Z"
JOINED = "2026-01-04T00:00:00.000000Z"


def test_a_session_found_by_token_or_listed_keeps_its_own_id_device_and_times(
    engine: Engine,
) -> None:
    account = Account("a_1", "+8613800000001", "Ann", SIGNED_UP)
    session = Session("s_1", account.id, "Ann's phone", BEGUN, USED)
    with engine.begin() as conn:
        SqlAccounts(conn).add(account)
        SqlSessions(conn).add(session, "token-hash")
    with engine.connect() as conn:
        assert SqlSessions(conn).account("token-hash") == (account, session)
        assert SqlSessions(conn).of_account(account.id) == [(session, "token-hash")]


def test_an_accounts_memberships_hold_each_book_with_its_own_entry(engine: Engine) -> None:
    owner = Account("a_owner", "+8613800000002", "Olga", SIGNED_UP)
    book = Book("b_1", "Choir", owner.id, 3, BEGUN, USED)
    entry = Entry(
        id="e_1",
        book_id=book.id,
        account_id=owner.id,
        phone=owner.phone,
        name="Olga the owner",
        tags=frozenset({"alto", "board"}),
        role=Role.OWNER,
        created_at=JOINED,
        updated_at=JOINED,
        version=2,
        tags_version=1,
    )
    with engine.begin() as conn:
        SqlAccounts(conn).add(owner)
        SqlBooks(conn).add(book)
        SqlEntries(conn).add(entry)
    with engine.connect() as conn:
        assert SqlBooks(conn).memberships(owner.id) == [(book, entry)]
        assert SqlEntries(conn).get(book.id, entry.id) == entry
