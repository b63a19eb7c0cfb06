"""What a person may know about their own data, take a copy of, or erase."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response, status

from circlebook.api.deps import AccountDep, RuntimeDep, TokenDep
from circlebook.api.schemas import AccountDelete, AudienceOut, BookAudienceOut, SeerOut
from circlebook.services import audience, privacy

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
