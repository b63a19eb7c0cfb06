"""Phone numbers a client sends, read by the one rule in `circlebook.phonebook`."""

from __future__ import annotations

from circlebook.domain.errors import InvalidPhoneError
from circlebook.phonebook.numbers import e164, invalid_number


def normalize_phone(raw: str, region: str, *, field: str = "phone") -> str:
    """Return `raw` in E.164, reading a number without a country code in `region`.

    InvalidPhoneError, naming `field`, for whatever the rule refuses.
    """
    phone = e164(raw, region)
    if phone is None:
        raise InvalidPhoneError(invalid_number(raw, region), field=field)
    return phone
