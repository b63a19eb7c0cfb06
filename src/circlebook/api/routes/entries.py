"""A book's entries: the member's view, delta sync, changes, removal, vCard export."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response, status

from circlebook.api.deps import AccountDep, RuntimeDep
from circlebook.api.schemas import EntriesOut, EntryOut, EntryPatch
from circlebook.domain.model import Entry
from circlebook.services import entries, vcards

router = APIRouter(prefix="/v1/books/{book_id}", tags=["entries"])


def _entries_json(view: entries.View) -> list[dict[str, Any]]:
    # Plain dicts dumped by orjson: a pydantic model per entry would cost more
    # than the database read for a book of 10,000.
    return [
        {
            "id": e.id,
            "phone": e.phone,
            "name": e.name,
            "tags": e.tags,
            "role": e.role,
            "created_at": e.created_at,
            "updated_at": e.updated_at,
        }
        for e in view.entries
    ]


@router.get("/entries", response_model=EntriesOut)
def list_entries(
    book_id: str,
    rt: RuntimeDep,
    account: AccountDep,
    since: Annotated[str | None, Query(max_length=64, description="a sync token")] = None,
    exclude_self: bool = False,
) -> Response:
    """The entries the caller may see, or with `since` only what changed in its view."""
    view = entries.fetch_entries(rt, account, book_id, since=since, exclude_self=exclude_self)
    body = {"entries": _entries_json(view), "removed": view.removed, "sync_token": view.sync_token}
    return Response(orjson.dumps(body), media_type="application/json")


def entry_out(entry: Entry) -> EntryOut:
    return EntryOut(
        id=entry.id,
        phone=entry.phone,
        name=entry.name,
        tags=sorted(entry.tags),
        role=entry.role.value,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


@router.patch("/entries/{entry_id}")
def update_entry(
    book_id: str, entry_id: str, body: EntryPatch, rt: RuntimeDep, account: AccountDep
) -> EntryOut:
    """The owner renames or retags any entry; a member renames its own."""
    entry = entries.update_entry(rt, account, book_id, entry_id, name=body.name, tags=body.tags)
    return entry_out(entry)


@router.delete("/entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_entry(book_id: str, entry_id: str, rt: RuntimeDep, account: AccountDep) -> Response:
    """The owner removes a member; a member removing its own entry leaves the book."""
    entries.remove_entry(rt, account, book_id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/export.vcf", response_class=Response)
def export_vcf(book_id: str, rt: RuntimeDep, account: AccountDep) -> Response:
    """The caller's view as vCard 3.0, to import into a phone's contacts app."""
    return Response(
        vcards.export_vcards(rt, account, book_id),
        media_type="text/vcard; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="circlebook.vcf"'},
    )
