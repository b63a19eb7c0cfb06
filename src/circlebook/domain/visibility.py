"""Who sees whom in a book, and who may change what: the patent's tags, made into rules.

The owner sees every entry; every member sees the owner's entry and its own; a
member sees another member's entry when they share a tag, or when neither has a tag.
The owner renames, retags and removes any member's entry; a member renames or
removes (leaves with) its own; the owner's entry goes only with the book.
"""

from __future__ import annotations

from dataclasses import dataclass

from circlebook.domain.model import Entry, Role


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in member looking at one book."""

    account_id: str
    entry_id: str
    role: Role
    tags: frozenset[str]
    tags_version: int

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @classmethod
    def of(cls, entry: Entry) -> Viewer:
        return cls(entry.account_id, entry.id, entry.role, entry.tags, entry.tags_version)

    @classmethod
    def kind(cls, tags: frozenset[str]) -> Viewer:
        """Any member holding exactly these tags: all of them see the same entries."""
        return cls("", "", Role.MEMBER, tags, 0)


def can_see(viewer: Viewer, account_id: str, role: Role | str, tags: frozenset[str]) -> bool:
    """Whether `viewer` may see an entry of `account_id` with `role` and `tags`."""
    if viewer.role is Role.OWNER or role == Role.OWNER or account_id == viewer.account_id:
        return True
    if not tags:
        return not viewer.tags
    return not viewer.tags.isdisjoint(tags)


def shown_tags(viewer: Viewer, tags: frozenset[str]) -> frozenset[str]:
    """The tags of an entry that `viewer` is told: a member never learns a tag it lacks."""
    if viewer.role is Role.OWNER:
        return tags
    return tags & viewer.tags


def can_rename(viewer: Viewer, entry: Entry) -> bool:
    """Whether `viewer` may rename `entry`: the owner any, a member its own."""
    return viewer.is_owner or entry.account_id == viewer.account_id


def can_retag(viewer: Viewer, entry: Entry) -> bool:
    """Whether `viewer` may change the tags of `entry`: the owner alone decides who sees whom.

    (The owner's own entry takes no tags, which is a rule of the tags given, not of who asks.)
    """
    return viewer.is_owner


def can_remove(viewer: Viewer, entry: Entry) -> bool:
    """Whether `viewer` may remove `entry`: the owner any member's, a member its own (leaving).

    Nobody removes the owner's entry: it goes only when the book is dissolved.
    """
    if entry.role is Role.OWNER:
        return False
    return viewer.is_owner or entry.account_id == viewer.account_id
