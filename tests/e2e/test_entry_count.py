"""A book's `entry_count` is the number of entries its caller sees, counted in the database."""

from __future__ import annotations

from typing import Any

from tests.e2e.dav import book_with

OWNER = "+8613500135000"
# Tags that a careless count would confuse: `_` is a LIKE wildcard, and one tag
# may be the start or the end of another.
TAGS: list[list[str]] = [
    ["a_b"],
    ["axb"],
    ["team"],
    ["team-a"],
    ["a_b", "team"],
    [],
    [],
    ["b"],
]


def test_each_member_counts_exactly_the_entries_it_fetches(people: Any) -> None:
    owner = people(OWNER, "Olga")
    members = [people(f"+86135001350{n + 10:02d}", f"M{n}") for n in range(len(TAGS))]
    book_id, _ = book_with(owner, "Club", list(zip(members, TAGS, strict=True)))
    counted = {}
    for person in (owner, *members):
        shown = person.get(f"/v1/books/{book_id}")
        assert shown.status_code == 200, shown.text
        fetched = len(person.entries(book_id)["entries"])
        listed = [b for b in person.get("/v1/books").json()["books"] if b["id"] == book_id]
        assert shown.json()["entry_count"] == listed[0]["entry_count"] == fetched, person.phone
        counted[person.phone] = fetched
    # By the visibility rule: the owner sees all 9; a_b sees itself, the owner and
    # a_b+team (not axb); team sees team and a_b+team (not team-a); the untagged see
    # each other and the owner.
    assert counted[OWNER] == 9
    assert [counted[m.phone] for m in members] == [3, 2, 3, 2, 4, 3, 3, 2]
