"""The kept rows of books: by version, bounded, off at 0."""

from __future__ import annotations

from circlebook.services.book_rows import BookRows
from circlebook.services.ports import EntryRow


def rows(n: int, name: str = "Li Lei") -> list[EntryRow]:
    return [
        (f"e_{i:012d}", f"a_{i:09d}", "+8613800138000", name, "", "member", "", "")
        for i in range(n)
    ]


def test_rows_are_answered_for_the_version_they_were_read_at_only() -> None:
    kept = BookRows(10)
    kept.put("b_1", 7, rows(2))
    assert kept.get("b_1", 7) == rows(2)
    assert kept.get("b_1", 8) is None and kept.get("b_2", 7) is None


def test_a_newer_version_replaces_the_older_and_a_late_older_one_is_ignored() -> None:
    kept = BookRows(10)
    kept.put("b_1", 7, rows(2))
    kept.put("b_1", 8, rows(3, "Han Meimei"))
    assert kept.get("b_1", 7) is None and kept.get("b_1", 8) == rows(3, "Han Meimei")
    kept.put("b_1", 7, rows(2))  # a fetch that read version 7 finished after one read 8
    assert kept.get("b_1", 8) == rows(3, "Han Meimei") and len(kept) == 3


def test_at_most_max_rows_are_held_the_book_kept_longest_ago_going_first() -> None:
    kept = BookRows(5)
    kept.put("b_1", 1, rows(2))
    kept.put("b_2", 1, rows(2))
    kept.put("b_3", 1, rows(2))
    assert kept.get("b_1", 1) is None and len(kept) == 4
    kept.put("b_4", 1, rows(6))  # larger than the whole cache: not kept
    assert kept.get("b_4", 1) is None and len(kept) == 4


def test_a_forgotten_book_is_read_again() -> None:
    kept = BookRows(10)
    kept.put("b_1", 1, rows(2))
    kept.forget("b_1")
    assert kept.get("b_1", 1) is None and len(kept) == 0


def test_a_size_of_zero_keeps_nothing() -> None:
    kept = BookRows(0)
    kept.put("b_1", 1, rows(1))
    assert kept.get("b_1", 1) is None and len(kept) == 0
