"""Accounts, sessions and sign-in codes, on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from circlebook.domain.model import Account, Session
from tests.storage.conftest import AT, Store, at


def test_an_account_is_found_by_id_and_by_phone(store: Store) -> None:
    account = store.account(1, "Ann")
    with store.read() as uow:
        assert uow.accounts.get(account.id) == account
        assert uow.accounts.by_phone(account.phone) == account
        assert uow.accounts.get("a_nobody0000") is None
        assert uow.accounts.by_phone("+8613899999999") is None


def test_an_account_is_renamed_and_removed(store: Store) -> None:
    account = store.account(1, "Ann")
    with store.write() as uow:
        uow.accounts.rename(account.id, "Anna")
    with store.read() as uow:
        assert uow.accounts.get(account.id) == Account(account.id, account.phone, "Anna", AT)
    with store.write() as uow:
        uow.accounts.remove(account.id)
    with store.read() as uow:
        assert uow.accounts.by_phone(account.phone) is None


def test_one_phone_holds_one_account(store: Store) -> None:
    first = store.account(1)
    with pytest.raises(IntegrityError), store.write() as uow:
        uow.accounts.add(Account("a_other000001", first.phone, "Twin", AT))


def session(n: int, account: Account, created: str = AT, used: str = AT) -> Session:
    return Session(f"s_session{n:04d}", account.id, f"device {n}", created, used)


def test_a_session_is_found_by_its_token_hash_with_its_account(store: Store) -> None:
    account = store.account(1)
    with store.write() as uow:
        uow.sessions.add(session(1, account), "hash-1")
    with store.read() as uow:
        assert uow.sessions.account("hash-1") == (account, session(1, account))
        assert uow.sessions.account("hash-2") is None


def test_an_accounts_sessions_are_listed_newest_first_and_touched(store: Store) -> None:
    account = store.account(1)
    with store.write() as uow:
        uow.sessions.add(session(1, account, at(1)), "hash-1")
        uow.sessions.add(session(2, account, at(2)), "hash-2")
        uow.sessions.touch("hash-1", at(3))
    with store.read() as uow:
        listed = uow.sessions.of_account(account.id)
    assert [(s.id, h, s.last_used_at) for s, h in listed] == [
        ("s_session0002", "hash-2", AT),
        ("s_session0001", "hash-1", at(3)),
    ]


def test_sessions_are_removed_one_by_id_only_by_their_account(store: Store) -> None:
    mine, theirs = store.account(1), store.account(2)
    with store.write() as uow:
        uow.sessions.add(session(1, mine), "hash-1")
        uow.sessions.add(session(2, theirs), "hash-2")
    with store.write() as uow:
        assert not uow.sessions.remove_by_id(mine.id, "s_session0002")
        assert uow.sessions.remove_by_id(mine.id, "s_session0001")
    with store.read() as uow:
        assert uow.sessions.account("hash-1") is None
        assert uow.sessions.account("hash-2") is not None


def test_all_other_sessions_or_all_of_them_are_removed(store: Store) -> None:
    account = store.account(1)
    with store.write() as uow:
        for n in range(1, 4):
            uow.sessions.add(session(n, account), f"hash-{n}")
    with store.write() as uow:
        assert uow.sessions.remove_others(account.id, "hash-2") == 2
    with store.read() as uow:
        assert [h for _, h in uow.sessions.of_account(account.id)] == ["hash-2"]
    with store.write() as uow:
        uow.sessions.remove_all(account.id)
    with store.read() as uow:
        assert uow.sessions.of_account(account.id) == []


def test_expired_sessions_are_removed_by_idleness_or_age(store: Store) -> None:
    account = store.account(1)
    with store.write() as uow:
        uow.sessions.add(session(1, account, at(1), at(1)), "old-and-idle")
        uow.sessions.add(session(2, account, at(1), at(9)), "old-but-used")
        uow.sessions.add(session(3, account, at(8), at(9)), "young")
    with store.write() as uow:
        assert uow.sessions.remove_expired(None, None) == 0
        assert uow.sessions.remove_expired(at(5), None) == 1
    with store.write() as uow:
        assert uow.sessions.remove_expired(None, at(5)) == 1
    with store.read() as uow:
        assert [h for _, h in uow.sessions.of_account(account.id)] == ["young"]


def test_the_newest_live_code_is_the_one_checked(store: Store) -> None:
    with store.write() as uow:
        uow.codes.add("phone", "first", at(1, 9), at(1, 10))
        uow.codes.add("phone", "second", at(1, 9), at(1, 10))
        uow.codes.add("phone", "expired", at(1, 8), at(1, 9))
    with store.read() as uow:
        live = uow.codes.live("phone", at(1, 9))
        assert live is not None
        assert live[1] == "second"
        assert uow.codes.live("phone", at(1, 10)) is None
        assert uow.codes.live("another phone", at(1, 9)) is None


def test_a_code_gives_its_attempts_then_none_and_is_used_once(store: Store) -> None:
    with store.write() as uow:
        uow.codes.add("phone", "code", AT, at(2))
    with store.write() as uow:
        live = uow.codes.live("phone", AT)
        assert live is not None
        code_id = live[0]
        assert [uow.codes.claim_attempt(code_id, 2) for _ in range(3)] == [True, True, False]
    with store.write() as uow:
        uow.codes.add("phone", "fresh", AT, at(2))
        fresh = uow.codes.live("phone", AT)
        assert fresh is not None
        assert (uow.codes.use(fresh[0]), uow.codes.use(fresh[0])) == (True, False)
        assert not uow.codes.claim_attempt(fresh[0], 5)
        assert uow.codes.live("phone", AT) == (code_id, "code")


def test_codes_are_purged_by_age_or_forgotten_by_phone(store: Store) -> None:
    with store.write() as uow:
        uow.codes.add("old", "code", at(1), at(9))
        uow.codes.add("young", "code", at(3), at(9))
        uow.codes.add("forgotten", "code", at(3), at(9))
    with store.write() as uow:
        uow.codes.purge_created_before(at(2))
        uow.codes.forget("forgotten")
    with store.read() as uow:
        assert uow.codes.live("old", at(4)) is None
        assert uow.codes.live("forgotten", at(4)) is None
        assert uow.codes.live("young", at(4)) is not None
