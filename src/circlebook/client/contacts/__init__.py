"""The local address book: contacts read from vCard or CSV files, kept in a private JSON file.

Numbers are stored in E.164 so that one person written three ways is one contact.
Reading never stops at a bad record: each one becomes a `Problem` and the rest go on.
"""

from circlebook.client.contacts.csvfiles import read_csv
from circlebook.client.contacts.files import read_file
from circlebook.client.contacts.merging import merge
from circlebook.client.contacts.records import Contact, ImportResult, Problem
from circlebook.client.contacts.store import AddressBook
from circlebook.client.contacts.vcards import read_vcards
from circlebook.client.errors import ContactsError

__all__ = [
    "AddressBook",
    "Contact",
    "ContactsError",
    "ImportResult",
    "Problem",
    "merge",
    "read_csv",
    "read_file",
    "read_vcards",
]
