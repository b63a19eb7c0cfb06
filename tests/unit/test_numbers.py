"""Numbers read from client text: ASCII digits parse exactly, everything else is refused cleanly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circlebook.client.errors import RateLimitedError, error_for
from circlebook.client.picking import PickError, parse_numbers
from circlebook.domain.errors import BadSyncTokenError
from circlebook.domain.numbers import MAX_DIGITS, whole_number
from circlebook.services import sync_tokens

SECRET = b"k" * 32
BOOK = "b_book"

# Digits of other scripts and superscripts (str.isdigit() is true for all of them),
# with signs, separators and spaces that int() would quietly accept.
TRICKY = (
    "0123456789²³¹⁰₂٣۴५"
    "\N{ARABIC-INDIC DIGIT ONE}\N{NKO DIGIT ZERO}\N{FULLWIDTH DIGIT TWO}"
    "\N{FULLWIDTH DIGIT ONE}\N{MATHEMATICAL BOLD DIGIT NINE}"
    " \t\n+-_.,e"
)
tricky_text = st.text(alphabet=TRICKY, max_size=25) | st.text(max_size=25)


@given(tricky_text)
def test_a_whole_number_is_only_ever_ascii_digits_read_exactly(text: str) -> None:
    number = whole_number(text)
    if re.fullmatch(r"[0-9]{1,18}", text, flags=re.ASCII):
        assert number == int(text)
    else:
        assert number is None


@given(st.integers(min_value=0, max_value=10**MAX_DIGITS - 1))
def test_every_number_of_up_to_max_digits_reads_back(n: int) -> None:
    assert whole_number(str(n)) == n
    assert whole_number(str(n).zfill(MAX_DIGITS)) == n


@pytest.mark.parametrize(
    "text", ["²", "٣", "\N{FULLWIDTH DIGIT ONE}", "-1", "+1", " 1", "1 ", "1_000", "", "9" * 19]
)
def test_a_whole_number_refuses_what_int_or_isdigit_would_take(text: str) -> None:
    assert whole_number(text) is None


def test_a_whole_number_may_be_allowed_fewer_digits() -> None:
    assert whole_number("123", max_digits=3) == 123
    assert whole_number("1234", max_digits=3) is None


@given(tricky_text, tricky_text)
def test_a_sync_token_is_read_or_refused_never_crashes(version: str, signature: str) -> None:
    try:
        read = sync_tokens.read(SECRET, BOOK, f"{version}.{signature}", current=10**18)
    except BadSyncTokenError:
        return
    assert read == int(version)
    assert re.fullmatch(r"[0-9]+", version, flags=re.ASCII)


@given(st.integers(min_value=0, max_value=10**MAX_DIGITS - 1))
def test_an_issued_sync_token_reads_back(version: int) -> None:
    token = sync_tokens.issue(SECRET, BOOK, version)
    assert sync_tokens.read(SECRET, BOOK, token, current=version) == version


@given(tricky_text)
def test_picked_numbers_are_parsed_or_refused_with_a_pick_error(text: str) -> None:
    try:
        picked = parse_numbers(text, 20)
    except PickError:
        return
    assert all(0 <= i < 20 for i in picked)


@given(tricky_text)
def test_a_retry_after_that_is_not_ascii_seconds_is_no_number(retry_after: str) -> None:
    error = error_for(429, {"type": "urn:circlebook:problem:rate-limited"}, retry_after)
    assert isinstance(error, RateLimitedError)
    if len(retry_after) <= 18 and retry_after.isascii() and retry_after.isdigit():
        assert error.retry_after == int(retry_after)
    else:
        assert error.retry_after is None


def test_thousands_of_digits_are_refused_before_int_sees_them() -> None:
    digits = "9" * 5000  # int() raises ValueError beyond 4,300 digits
    assert whole_number(digits) is None
    with pytest.raises(BadSyncTokenError):
        sync_tokens.read(SECRET, BOOK, f"{digits}.abc", current=10**18)
    with pytest.raises(PickError):
        parse_numbers(digits, 20)
    error = error_for(429, {"type": "urn:circlebook:problem:rate-limited"}, digits)
    assert isinstance(error, RateLimitedError) and error.retry_after is None
