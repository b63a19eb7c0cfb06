"""A book's entries: the member's view, delta sync, changes, removal, vCard export."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Response, status

from circlebook.api.schemas import EntriesOut, EntryOut, EntryPatch
from circlebook.domain import entity_tags
from circlebook.domain.model import Entry
from circlebook.edge.deps import AccountDep, RuntimeDep
from circlebook.services import entries, vcards

router = APIRouter(prefix="/v1/books/{book_id}", tags=["entries"])

CardVersionQuery = Annotated[
    vcards.CardVersion,
    Query(description="the vCard version of every card: 3.0 (RFC 2426) or 4.0 (RFC 6350)"),
]
IfNoneMatch = Annotated[
    str | None,
    Header(description="entity tags of copies the client holds (RFC 9110 section 13.1.2)"),
]
# Part of each full fetch's entity tag: changing how a representation is written
# must change every tag of it.
JSON_FORMAT = "application/json;entries/1"


def _json_representation(exclude_self: bool) -> str:
    return f"{JSON_FORMAT};exclude_self={int(exclude_self)}"


def _not_modified(etag: str) -> Response:
    """RFC 9110 section 15.4.5: no body, and the tag the client already holds."""
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "the copy named in If-None-Match is current: no body"}
}


@router.get("/entries", response_model=EntriesOut, responses=NOT_MODIFIED)
def list_entries(
    book_id: str,
    rt: RuntimeDep,
    account: AccountDep,
    since: Annotated[str | None, Query(max_length=64, description="a sync token")] = None,
    exclude_self: bool = False,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The entries the caller may see, or with `since` only what changed in its view.

    The full view carries an ETag; sent back in If-None-Match, it is answered 304
    when nothing the caller may see changed, without reading the entries.
    """
    representation = _json_representation(exclude_self)
    if since is None and if_none_match is not None:
        current = entries.view_tag(rt, account, book_id, representation)
        if entity_tags.matches_any(if_none_match, current):
            return _not_modified(current)
    view = entries.fetch_entries(rt, account, book_id, since=since, exclude_self=exclude_self)
    # orjson writes each entry (a dataclass) as an object with EntryOut's fields, in
    # their order: a pydantic model, or even a dict, per entry would cost more than
    # the database read for a book of 10,000.
    body = {"entries": view.entries, "removed": view.removed, "sync_token": view.sync_token}
    headers = {} if since is not None else {"ETag": view.etag(representation)}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


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


@router.get("/export.vcf", response_class=Response, responses=NOT_MODIFIED)
def export_vcf(
    book_id: str,
    rt: RuntimeDep,
    account: AccountDep,
    version: CardVersionQuery = vcards.DEFAULT_VERSION,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The caller's view as vCard 3.0 (or 4.0), for a phone's contacts app; with an ETag,
    one per version, as entries."""
    if if_none_match is not None:
        current = entries.view_tag(rt, account, book_id, vcards.representation(version))
        if entity_tags.matches_any(if_none_match, current):
            return _not_modified(current)
    export = vcards.export_vcards(rt, account, book_id, version)
    return Response(
        export.text,
        media_type="text/vcard; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="circlebook.vcf"',
            "ETag": export.etag,
        },
    )
