"""Phone numbers: parsed with phonenumbers and kept in E.164 form."""

from __future__ import annotations

import phonenumbers

from circlebook.domain.errors import InvalidPhoneError

MAX_PHONE_LENGTH = 40


def normalize_phone(raw: str, region: str, *, field: str = "phone") -> str:
    """Return `raw` in E.164, reading a number without a country code in `region`."""
    text = raw.strip()
    if not text or len(text) > MAX_PHONE_LENGTH:
        raise InvalidPhoneError(f"{raw!r} is not a phone number", field=field)
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(f"{raw!r} is not a phone number: {exc}", field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError(f"{raw!r} is not a valid phone number", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_known_region(region: str) -> bool:
    """Whether `region` is an ISO 3166 code that phonenumbers has metadata for."""
    return region.upper() in phonenumbers.SUPPORTED_REGIONS


def region_of(phone: str) -> str | None:
    """The region an E.164 number belongs to, to read the numbers its owner types."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "ZZ" else None
