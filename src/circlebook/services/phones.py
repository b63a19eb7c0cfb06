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


def mask_phone(phone: str) -> str:
    """An E.164 number to show a stranger: `+86 138 **** 8001`, its middle digits hidden."""
    number = phonenumbers.parse(phone)
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{number.country_code}"
    national = shown.removeprefix(prefix)
    digits = sum(c.isdigit() for c in national)
    # Enough to recognise one's own number, too little to dial a stranger's.
    keep_head = 3 if digits >= 10 else 2
    keep_tail = 4 if digits >= 9 else 2
    masked, seen = [], 0
    for char in national:
        if char.isdigit():
            hidden = keep_head <= seen < digits - keep_tail
            masked.append("*" if hidden else char)
            seen += 1
        else:
            masked.append(char)
    return prefix + "".join(masked)
