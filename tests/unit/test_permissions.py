"""Who may rename, retag and remove an entry: every role of the one asking, against every
kind of entry (the owner's, its own, another member's), tagged or not."""

from __future__ import annotations

import itertools

import pytest

from circlebook.domain.model import Entry, Role
from circlebook.domain.visibility import Viewer, can_remove, can_rename, can_retag
from tests.conftest import an_entry


def _entry(account_id: str, role: Role, tags: frozenset[str]) -> Entry:
    return an_entry(
        id=f"e_{account_id}", account_id=account_id, name=account_id, role=role, tags=tags
    )


# (the asker's role, whose entry: "own" or "other", the entry's role, the entry's tags)
CASES = [
    (asker, whose, role, tags)
    for asker, whose, role, tags in itertools.product(
        Role, ("own", "other"), Role, (frozenset(), frozenset({"team"}))
    )
    # A book has one owner: an owner asking about another's entry asks about a member's,
    # and a member's own entry is a member's.
    if not (asker is Role.OWNER and whose == "other" and role is Role.OWNER)
    and not (whose == "own" and role is not asker)
]


def _ask(asker: Role, whose: str, role: Role, tags: frozenset[str]) -> tuple[Viewer, Entry]:
    viewer_tags = frozenset() if asker is Role.OWNER else frozenset({"team"})
    viewer = Viewer("a_me", "e_a_me", asker, viewer_tags, 1)
    entry = _entry("a_me" if whose == "own" else "a_other", role, tags)
    return viewer, entry


@pytest.mark.parametrize(("asker", "whose", "role", "tags"), CASES)
def test_the_owner_renames_any_entry_and_a_member_only_its_own(
    asker: Role, whose: str, role: Role, tags: frozenset[str]
) -> None:
    viewer, entry = _ask(asker, whose, role, tags)
    assert can_rename(viewer, entry) is (asker is Role.OWNER or whose == "own")


@pytest.mark.parametrize(("asker", "whose", "role", "tags"), CASES)
def test_only_the_owner_retags_not_even_a_member_its_own_entry(
    asker: Role, whose: str, role: Role, tags: frozenset[str]
) -> None:
    viewer, entry = _ask(asker, whose, role, tags)
    assert can_retag(viewer, entry) is (asker is Role.OWNER)


@pytest.mark.parametrize(("asker", "whose", "role", "tags"), CASES)
def test_the_owner_removes_any_member_a_member_leaves_and_the_owners_entry_stays(
    asker: Role, whose: str, role: Role, tags: frozenset[str]
) -> None:
    viewer, entry = _ask(asker, whose, role, tags)
    expected = role is Role.MEMBER and (asker is Role.OWNER or whose == "own")
    assert can_remove(viewer, entry) is expected


def test_every_pair_of_roles_is_asked() -> None:
    asked = {(asker, whose, role) for asker, whose, role, _ in CASES}
    assert asked == {
        (Role.OWNER, "own", Role.OWNER),
        (Role.OWNER, "other", Role.MEMBER),
        (Role.MEMBER, "own", Role.MEMBER),
        (Role.MEMBER, "other", Role.OWNER),
        (Role.MEMBER, "other", Role.MEMBER),
    }
