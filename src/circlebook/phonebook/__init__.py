"""Phone numbers and contacts files, as the server and the client both read them.

One rule reads a number into E.164 and one shows it; one set of readers turns
vCard and CSV exports, given as bytes or text, into people and problems. Both
sides import this package, so it imports neither: only the standard library
and what the client's own install brings (phonenumbers, vobject).
Reading never stops at a bad record: each one becomes a `Problem` and the rest go on.
"""

from circlebook.phonebook.csvfiles import read_csv
from circlebook.phonebook.files import read_contacts
from circlebook.phonebook.merging import merge
from circlebook.phonebook.numbers import (
    MAX_PHONE_LENGTH,
    UnknownRegion,
    checked_region,
    display,
    e164,
    invalid_number,
    known_region,
    masked,
    region_of,
)
from circlebook.phonebook.records import Contact, ImportResult, Problem, UnreadableContacts
from circlebook.phonebook.vcards import read_vcards

__all__ = [
    "MAX_PHONE_LENGTH",
    "Contact",
    "ImportResult",
    "Problem",
    "UnknownRegion",
    "UnreadableContacts",
    "checked_region",
    "display",
    "e164",
    "invalid_number",
    "known_region",
    "masked",
    "merge",
    "read_contacts",
    "read_csv",
    "read_vcards",
    "region_of",
]
