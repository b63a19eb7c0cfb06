"""The one phone number rule: read into E.164 with a default region, and shown for reading.

The server (sign-in, invitations, uploads) and the terminal (its address book)
both read numbers with `circlebook.phonebook.numbers`, so it is tested here once.
"""

from __future__ import annotations

import pytest

from circlebook.domain.errors import InvalidPhoneError
from circlebook.phonebook.numbers import (
    UnknownRegion,
    checked_region,
    display,
    e164,
    invalid_number,
    known_region,
    masked,
    region_of,
)
from circlebook.services.phones import normalize_phone

UK = "+442079460958"
# As a Chinese input method may type it: full-width digits (U+FF10 to U+FF19).
FULL_WIDTH = "138 1234 5678".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # A leading +: the number's own country, whatever the region.
        ("+86 138-1234-5678", "US", "+8613812345678"),
        ("+442079460958", "CN", UK),
        # 00, the international prefix almost everywhere: read so even where the region's
        # own is another (011 in US), after the region's reading found no number.
        ("0044 20 7946 0958", "CN", UK),
        ("0044 20 7946 0958", "US", UK),
        ("011 44 20 7946 0958", "US", UK),
        # A tel: URI (RFC 3966), global or local, its parameters dropped.
        ("tel:+44-20-7946-0958", "CN", UK),
        ("TEL:+1-415-555-2671;ext=12", "CN", "+14155552671"),
        ("tel:(415) 555-2671", "US", "+14155552671"),
        # National numbers, read in the region.
        ("13812345678", "CN", "+8613812345678"),
        ("(415) 555-2671", "us", "+14155552671"),
        # The separators people write: spaces, dashes, dots, parentheses, slashes.
        (" 138 1234 5678 ", "CN", "+8613812345678"),
        ("415.555.2671", "US", "+14155552671"),
        ("+86/138/1234/5678", "US", "+8613812345678"),
        (FULL_WIDTH, "CN", "+8613812345678"),
        # Junk, too short, too long, wrong length, a letter among the digits.
        ("", "CN", None),
        ("   ", "CN", None),
        ("tel:", "CN", None),
        ("not a number", "CN", None),
        ("12", "CN", None),
        ("+86 1", "CN", None),
        ("138 1234 567", "CN", None),
        ("9" * 41, "CN", None),
        ("13800l38000", "CN", None),
        # A national number in a region phonenumbers does not know cannot be read.
        ("13812345678", "XX", None),
        ("+8613812345678", "XX", "+8613812345678"),
    ],
)
def test_numbers_are_read_into_e164_or_refused_by_one_rule(
    raw: str, region: str, expected: str | None
) -> None:
    assert e164(raw, region) == expected
    if expected is None:
        with pytest.raises(InvalidPhoneError) as info:
            normalize_phone(raw, region, field="invitees[2].phone")
        assert info.value.field == "invitees[2].phone"
        assert info.value.detail == invalid_number(raw, region)
    else:
        assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("12", "cn", "'12' is not a valid phone number in CN"),
        ("+86 1", "CN", "'+86 1' is not a valid phone number"),
        ("0086 1", "US", "'0086 1' is not a valid phone number"),
        ("tel:+86 1", "US", "'tel:+86 1' is not a valid phone number"),
        ("9" * 50, "CN", f"'{'9' * 40}...' is not a valid phone number in CN"),
    ],
)
def test_a_refusal_names_the_region_only_where_the_number_was_read_in_it(
    raw: str, region: str, reason: str
) -> None:
    assert invalid_number(raw, region) == reason


@pytest.mark.parametrize(
    ("phone", "shown", "hidden"),
    [
        ("+8613800138000", "+86 138 0013 8000", "+86 138 **** 8000"),
        ("+14155552671", "+1 415-555-2671", "+1 415-***-2671"),
        (UK, "+44 20 7946 0958", "+44 20 7*** 0958"),
    ],
)
def test_numbers_are_shown_grouped_and_to_strangers_with_the_middle_hidden(
    phone: str, shown: str, hidden: str
) -> None:
    assert display(phone) == shown
    assert masked(phone) == hidden


def test_what_is_not_a_number_is_shown_as_it_is() -> None:
    assert display("not a number") == "not a number"


def test_regions_are_known_by_phonenumbers_in_any_case_or_refused() -> None:
    assert known_region(" us ") == checked_region("us") == "US"
    assert known_region("XX") is None
    assert known_region("001") is None  # phonenumbers' name for no country at all
    with pytest.raises(UnknownRegion, match="'XX' is not a region code"):
        checked_region("XX")


def test_a_numbers_region_is_where_its_owner_types_national_numbers() -> None:
    assert region_of("+8613800138000") == "CN"
    assert region_of(UK) == "GB"
    assert region_of("+80012345678") is None  # freephone: valid, but of no country
    assert region_of("junk") is None
