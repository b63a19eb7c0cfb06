"""Phone numbers as written in contacts, read into E.164 with phonenumbers."""

from __future__ import annotations

import phonenumbers

from circlebook.client.errors import ContactsError

_SHOWN_RAW = 40


def checked_region(region: str) -> str:
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ContactsError(f"{region!r} is not a region code phonenumbers knows, such as CN or US")
    return code


def e164(raw: str, region: str) -> str | None:
    """`raw` in E.164, read in `region` unless it carries its own country; None if invalid."""
    text = raw.strip()
    if text.lower().startswith("tel:"):
        # RFC 3966: parameters such as ;ext= or ;phone-context= follow the number.
        text = text[4:].split(";", 1)[0]
    candidates = [text]
    if text.startswith("00"):
        # 00 is the international prefix almost everywhere, but phonenumbers only
        # reads it so where it is the region's own (not in US, where that is 011).
        candidates.append("+" + text[2:])
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def invalid_number(raw: str, region: str) -> str:
    """Why `raw` was refused, shortened if long, naming `region` if it was read in it."""
    shown = raw.strip()
    if len(shown) > _SHOWN_RAW:
        shown = shown[:_SHOWN_RAW] + "..."
    own_country = shown.startswith(("+", "00")) or shown.lower().startswith("tel:+")
    return f"'{shown}' is not a valid phone number" + ("" if own_country else f" in {region}")
