"""What a person may know about their own data, take a copy of, or erase."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response, status

from circlebook.api.schemas import (
    AccountDelete,
    AudienceOut,
    BookAudienceOut,
    LedgerOut,
    SeerOut,
)
from circlebook.edge.deps import AccountDep, RuntimeDep, TokenDep
from circlebook.services import audience, ledger, privacy

router = APIRouter(prefix="/v1/me", tags=["privacy"])


@router.get("/audience")
def who_sees_me(rt: RuntimeDep, account: AccountDep) -> AudienceOut:
    """For each book holding my entry, exactly the people who can see my number."""
    return AudienceOut(
        books=[
            BookAudienceOut(
                book_id=a.book_id,
                title=a.title,
                role=a.role,
                seen_by=[SeerOut(name=s.name, role=s.role) for s in a.seen_by],
                count=a.count,
            )
            for a in audience.who_sees_me(rt, account)
        ]
    )


@router.get("/ledger", response_model=LedgerOut)
def my_ledger(
    rt: RuntimeDep,
    account: AccountDep,
    after: Annotated[
        str | None, Query(max_length=20, description="a seq: list only older records")
    ] = None,
    limit: Annotated[str | None, Query(max_length=20, description="1 to 200; 50 if absent")] = None,
) -> Response:
    """My consent ledger, newest first: every invitation, answer, departure and change to a
    book I was in, each record chained to the one before by its hash."""
    found = ledger.page(rt, account, after, limit)
    body = {"records": found.records, "next_after": found.next_after}
    return Response(orjson.dumps(body), media_type="application/json")


def export_response(document: privacy.Document) -> Response:
    """The export as a file to keep: the API and the web page answer with the same one."""
    filename = privacy.export_filename(document)
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/export", response_class=Response)
def export_me(rt: RuntimeDep, token: TokenDep, account: AccountDep) -> Response:
    """Everything the server holds about me, and every entry I can see, as one JSON file."""
    return export_response(privacy.export_account(rt, account, token))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def delete_me(body: AccountDelete, rt: RuntimeDep, account: AccountDep) -> Response:
    """Erase my account: books I own are dissolved, my entries leave the others, my
    sessions end. `confirm` must be my own number; anything else changes nothing."""
    privacy.delete_account(rt, account, body.confirm)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
