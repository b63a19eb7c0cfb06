import pytest

from circlebook.domain.errors import InvalidPhoneError
from circlebook.services.phones import normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("13812345678", "CN", "+8613812345678"),
        ("138 1234 5678", "CN", "+8613812345678"),
        ("+86 138-1234-5678", "US", "+8613812345678"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("0044 20 7946 0958", "CN", "+442079460958"),
    ],
)
def test_numbers_are_stored_in_e164_read_in_the_callers_region(
    raw: str, region: str, expected: str
) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "   ", "12", "not a number", "+86 1", "9" * 41])
def test_numbers_phonenumbers_rejects_raise_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidPhoneError) as info:
        normalize_phone(raw, "CN", field="invitees[2].phone")
    assert info.value.field == "invitees[2].phone"
