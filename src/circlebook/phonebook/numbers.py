"""Phone numbers: the one rule that reads them into E.164, and the one that shows them.

A number typed at sign-in, sent in an invitation, found in an uploaded file or
imported by the terminal is read here, by the server and the client alike, so
that what one place accepts no other place refuses.
"""

from __future__ import annotations

import phonenumbers

# Longer than any number with its separators: refused before phonenumbers works on it.
MAX_PHONE_LENGTH = 40
_E164 = phonenumbers.PhoneNumberFormat.E164


class UnknownRegion(ValueError):
    """A region code that phonenumbers has no metadata for."""


def known_region(region: str) -> str | None:
    """`region` as an upper-case ISO 3166 code phonenumbers knows, else None."""
    code = region.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def checked_region(region: str) -> str:
    """`region` as `known_region` reads it; UnknownRegion if phonenumbers does not know it."""
    code = known_region(region)
    if code is None:
        raise UnknownRegion(f"{region!r} is not a region code phonenumbers knows, such as CN or US")
    return code


def region_of(phone: str) -> str | None:
    """The region an E.164 number belongs to, to read the numbers its owner types.

    None where there is none to read in: a number phonenumbers cannot place ("ZZ"),
    or one of no country, such as +800 freephone ("001").
    """
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return None
    return known_region(region or "")


def _spellings(raw: str) -> list[str]:
    """What `raw` may stand for, in the order to try: as written, then with 00 read as +."""
    text = raw.strip()
    if text[:4].lower() == "tel:":
        # RFC 3966: parameters such as ;ext= or ;phone-context= follow the number.
        text = text[4:].split(";", 1)[0].strip()
    if not text or len(text) > MAX_PHONE_LENGTH:
        return []
    if text.startswith("00"):
        # 00 is the international prefix almost everywhere, but phonenumbers only
        # reads it so where it is the region's own (not in US, where that is 011).
        return [text, "+" + text[2:]]
    return [text]


def e164(raw: str, region: str) -> str | None:
    """`raw` in E.164, read in `region` unless it carries its own country; None if invalid.

    Accepts a `tel:` URI, a leading `+` or `00`, and the separators people write
    (spaces, dashes, dots, parentheses); refuses whatever phonenumbers does not
    judge a valid number.
    """
    code = region.strip().upper()
    for spelling in _spellings(raw):
        try:
            number = phonenumbers.parse(spelling, code)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, _E164)
    return None


def invalid_number(raw: str, region: str) -> str:
    """Why `raw` was refused, shortened if long, naming `region` if it was read in it."""
    shown = raw.strip()
    if len(shown) > MAX_PHONE_LENGTH:
        shown = shown[:MAX_PHONE_LENGTH] + "..."
    own_country = shown.startswith(("+", "00")) or shown.lower().startswith("tel:+")
    where = "" if own_country else f" in {region.strip().upper()}"
    return f"'{shown}' is not a valid phone number{where}"


def display(phone: str) -> str:
    """+8613800138000 as +86 138 0013 8000, for reading; what is not E.164 is shown as it is."""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def masked(phone: str) -> str:
    """An E.164 number to show a stranger: `+86 138 **** 8001`, its middle digits hidden."""
    number = phonenumbers.parse(phone)
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{number.country_code}"
    national = shown.removeprefix(prefix)
    digits = sum(c.isdigit() for c in national)
    # Enough to recognise one's own number, too little to dial a stranger's.
    keep_head = 3 if digits >= 10 else 2
    keep_tail = 4 if digits >= 9 else 2
    shown_digits, seen = [], 0
    for char in national:
        if char.isdigit():
            hidden = keep_head <= seen < digits - keep_tail
            shown_digits.append("*" if hidden else char)
            seen += 1
        else:
            shown_digits.append(char)
    return prefix + "".join(shown_digits)
