"""A remembered sync token is the one sealing would give, for that book, version and key only."""

from __future__ import annotations

from circlebook.services import sync_tokens

KEY, OTHER_KEY = b"k" * 32, b"o" * 32


def test_a_token_issued_again_is_the_same_and_reads_back_to_its_version() -> None:
    first = sync_tokens.issue(KEY, "b_one", 7)
    assert sync_tokens.issue(KEY, "b_one", 7) == first
    assert sync_tokens.read(KEY, "b_one", first, current=9) == 7


def test_no_remembered_token_answers_for_another_book_version_or_key() -> None:
    asked = [(KEY, "b_one", 7), (KEY, "b_one", 8), (KEY, "b_two", 7), (OTHER_KEY, "b_one", 7)]
    for _ in range(2):  # the second round is answered from memory
        tokens = [sync_tokens.issue(*one) for one in asked]
        assert len(set(tokens)) == len(asked)
    for (key, book, version), token in zip(asked, tokens, strict=True):
        assert sync_tokens.read(key, book, token, current=9) == version
