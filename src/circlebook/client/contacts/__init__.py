"""The local address book: contacts read from vCard or CSV files, kept in a private JSON file.

Numbers are stored in E.164 so that one person written three ways is one contact.
The readers and the number rule are `circlebook.phonebook`'s, which the server
reads uploads with too; here they raise the SDK's `ContactsError`.
"""

from circlebook.client.contacts.files import read_csv, read_file, read_vcards
from circlebook.client.contacts.store import AddressBook
from circlebook.client.errors import ContactsError
from circlebook.phonebook import Contact, ImportResult, Problem, merge

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
