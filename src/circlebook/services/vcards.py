"""Exporting a member's view of a book as vCard 3.0, for a phone's contacts app."""

from __future__ import annotations

import vobject

from circlebook.domain.model import Account
from circlebook.services.entries import fetch_entries
from circlebook.services.ports import Runtime


def export_vcards(rt: Runtime, account: Account, book_id: str) -> str:
    """One vCard 3.0 (FN, N, TEL, UID) per entry the caller may see."""
    view = fetch_entries(rt, account, book_id)
    cards = []
    for row in view.entries:
        card = vobject.vCard()
        card.add("version").value = "3.0"
        card.add("uid").value = f"{row.id}@circlebook"
        card.add("fn").value = row.name
        # A display name is one string; keep it whole as the family name rather
        # than guess where a Chinese or Western name splits.
        card.add("n").value = vobject.vcard.Name(family=row.name)
        tel = card.add("tel")
        tel.value = row.phone
        tel.type_param = "CELL"
        cards.append(card.serialize())
    return "".join(cards)
