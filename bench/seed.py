"""Putting data in place: people and books through the API, bulk rows straight into the tables.

Bulk rows are written exactly as the services write them: an accepted member's
entry as in `services.answers.accept` (one book version per accept, the
invitation's id kept on the entry, the views of the members who see it moved),
tags with `join_tags`, times with `stamp`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
from sqlalchemy import Engine, insert, select, update

from circlebook.domain.model import Role
from circlebook.domain.tags import join_tags
from circlebook.services.auth import token_hash
from circlebook.services.clock import stamp
from circlebook.services.ids import new_id
from circlebook.storage.database import WRITE
from circlebook.storage.schema import accounts, books, entries, sessions
from circlebook.storage.views import SqlBookViews

OWNER_PHONE = "+8613800000000"
MEMBER_PHONE = "+8613800000001"
# Everyone in a benchmark book shares this tag, so the measuring member sees the
# whole book; each also holds one of a few group tags, which it is not told.
COMMON_TAG = "class-2012"
GROUP_TAGS = ("team-a", "team-b", "team-c", "team-d")
BATCH = 2000


def member_phone(n: int) -> str:
    """A valid Chinese mobile number for bulk member `n`."""
    return f"+86137{n:08d}"


def joiner_phone(n: int) -> str:
    """A valid Chinese mobile number for invitee `n`, who accepts during the benchmark."""
    return f"+86139{n:08d}"


def check_phones(*phones: str) -> None:
    for phone in phones:
        if not phonenumbers.is_valid_number(phonenumbers.parse(phone)):
            raise ValueError(f"{phone} is not a valid phone number")


def tags_of(n: int) -> frozenset[str]:
    return frozenset({COMMON_TAG, GROUP_TAGS[n % len(GROUP_TAGS)]})


@dataclass(frozen=True)
class Person:
    phone: str
    account_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class PoolAccount:
    id: str
    phone: str
    name: str


@dataclass(frozen=True)
class SeededBook:
    id: str
    size: int
    member_entry_id: str
    # The id of one bulk member's entry, for a change to sync.
    other_entry_id: str


def _ok(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text[:500]}"
        )
    return response.json() if response.content else None


def last_code(outbox: Path, phone: str) -> str:
    for line in reversed(outbox.read_text().splitlines()):
        message = json.loads(line)
        if message["to"] == phone:
            return str(message["text"].split("code is ")[1][:6])
    raise RuntimeError(f"no SMS to {phone} in {outbox}")


def sign_in(client: httpx.Client, outbox: Path, phone: str, name: str) -> Person:
    """Sign in through the API: ask for a code, read it from the file outbox, trade it."""
    _ok(client.post("/v1/auth/codes", json={"phone": phone}), 202)
    body = {"phone": phone, "code": last_code(outbox, phone), "device": "bench", "name": name}
    data = _ok(client.post("/v1/auth/sessions", json=body), 201)
    return Person(phone, data["account"]["id"], data["token"])


def create_book(client: httpx.Client, owner: Person, member: Person, size: int) -> tuple[str, str]:
    """A book made by `owner` with `member` invited and accepted, all through the API."""
    created = _ok(
        client.post(
            "/v1/books",
            headers=owner.headers,
            json={
                "title": f"Benchmark book of {size}",
                "name": "Bench Owner",
                "invitees": [{"phone": member.phone, "name": "Bench Member", "tags": [COMMON_TAG]}],
            },
        ),
        201,
    )
    (outcome,) = created["outcomes"]
    if outcome["status"] != "invited":
        raise RuntimeError(f"inviting the measuring member failed: {outcome}")
    accepted = _ok(
        client.post(f"/v1/invitations/{outcome['invitation_id']}/accept", headers=member.headers),
        200,
    )
    return str(created["id"]), str(accepted["entry_id"])


def insert_pool(engine: Engine, count: int) -> list[PoolAccount]:
    """`count` accounts for bulk members, as a first sign-in with a name creates them."""
    at = stamp(datetime.now(UTC))
    pool = [PoolAccount(new_id("a"), member_phone(n), f"Member {n:05d}") for n in range(count)]
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        for start in range(0, count, BATCH):
            conn.execute(
                insert(accounts),
                [
                    {"id": a.id, "phone": a.phone, "name": a.name, "created_at": at}
                    for a in pool[start : start + BATCH]
                ],
            )
    return pool


def insert_members(engine: Engine, book_id: str, pool: list[PoolAccount]) -> str:
    """Add every account of `pool` to the book as an accepted member; return one entry id.

    Each entry gets the next book version, as one accept after another would, and
    the book's version is moved to the last of them.
    """
    first_id = ""
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        version = int(
            conn.execute(select(books.c.version).where(books.c.id == book_id)).scalar_one()
        )
        base = datetime.now(UTC)
        at = stamp(base)
        for start in range(0, len(pool), BATCH):
            rows = []
            for n in range(start, min(start + BATCH, len(pool))):
                account = pool[n]
                version += 1
                at = stamp(base + timedelta(microseconds=n))
                rows.append(
                    {
                        "id": new_id("e"),
                        "book_id": book_id,
                        "account_id": account.id,
                        "name": account.name,
                        "tags": join_tags(tags_of(n)),
                        "role": Role.MEMBER.value,
                        "invitation_id": new_id("i"),
                        "created_at": at,
                        "updated_at": at,
                        "version": version,
                        "tags_version": version,
                    }
                )
            first_id = first_id or str(rows[0]["id"])
            conn.execute(insert(entries), rows)
        conn.execute(
            update(books).where(books.c.id == book_id).values(version=version, updated_at=at)
        )
        # Everyone shares COMMON_TAG, so every kind of member saw the last of these
        # joins: each view stands where the book does, as the accepts would leave it.
        views = SqlBookViews(conn)
        views.advance(
            book_id, [*views.kinds(book_id), *map(tags_of, range(len(pool)))], version, at
        )
    return first_id


def insert_signed_in(engine: Engine, count: int) -> list[Person]:
    """`count` fresh accounts, each with a session, as if each had signed in once."""
    at = stamp(datetime.now(UTC))
    people = []
    account_rows, session_rows = [], []
    for n in range(count):
        account_id, token = new_id("a"), secrets.token_urlsafe(32)
        phone = joiner_phone(n)
        people.append(Person(phone, account_id, token))
        account_rows.append({"id": account_id, "phone": phone, "name": "", "created_at": at})
        session_rows.append(
            {
                "token_hash": token_hash(token),
                "id": new_id("s"),
                "account_id": account_id,
                "device": "bench",
                "created_at": at,
                "last_used_at": at,
            }
        )
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        conn.execute(insert(accounts), account_rows)
        conn.execute(insert(sessions), session_rows)
    return people


def invite(
    client: httpx.Client, owner: Person, book_id: str, people: list[Person]
) -> dict[str, str]:
    """Invite `people` to the book through the API; their invitation ids by phone."""
    ids: dict[str, str] = {}
    for start in range(0, len(people), 1000):
        chunk = people[start : start + 1000]
        invitees = [
            {"phone": p.phone, "name": f"Joiner {start + i}", "tags": sorted(tags_of(start + i))}
            for i, p in enumerate(chunk)
        ]
        answer = _ok(
            client.post(
                f"/v1/books/{book_id}/invitations",
                headers=owner.headers,
                json={"invitees": invitees},
            ),
            200,
        )
        for outcome in answer["outcomes"]:
            if outcome["status"] != "invited":
                raise RuntimeError(f"an invitation failed: {outcome}")
            ids[outcome["phone"]] = outcome["invitation_id"]
    return ids


def analyze(engine: Engine) -> None:
    """Refresh PostgreSQL's planner statistics after the bulk load.

    A production server's autovacuum does this on its own within a minute of a
    big change; without it the planner would still think the book held a handful
    of rows (and the test server here runs with autovacuum off).
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE accounts, entries, books, sessions, invitations")
