"""The invitee's side: the inbox, accept and decline."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from circlebook.api.schemas import (
    AcceptedOut,
    AcceptIn,
    InboxInvitationOut,
    InboxOut,
    Inviter,
)
from circlebook.edge.deps import AccountDep, RuntimeDep
from circlebook.services import answers

router = APIRouter(prefix="/v1/invitations", tags=["invitations"])


@router.get("")
def inbox(rt: RuntimeDep, account: AccountDep) -> InboxOut:
    """Pending invitations to the caller's phone number."""
    return InboxOut(
        invitations=[
            InboxInvitationOut(
                id=item.invitation.id,
                book_id=item.book.id,
                book_title=item.book.title,
                invited_by=Inviter(phone=item.owner.phone, name=item.owner.name),
                name=item.invitation.name,
                created_at=item.invitation.created_at,
                expires_at=item.invitation.expires_at,
            )
            for item in answers.inbox(rt, account)
        ]
    )


@router.post("/{invitation_id}/accept")
async def accept(
    invitation_id: str, rt: RuntimeDep, account: AccountDep, body: AcceptIn | None = None
) -> AcceptedOut:
    """Join the book. Accepting again answers the same entry."""
    # The read runs in a worker thread; the commit, in the group committer's, is
    # awaited here: no worker is held only to wait for it, and no other one is
    # taken to check the answer, as a sync route's is.
    joining = await run_in_threadpool(
        answers.accepting, rt, account, invitation_id, body.name if body else None
    )
    entry = await asyncio.wrap_future(joining)
    return AcceptedOut(book_id=entry.book_id, entry_id=entry.id)


@router.post("/{invitation_id}/decline", status_code=status.HTTP_204_NO_CONTENT)
def decline(invitation_id: str, rt: RuntimeDep, account: AccountDep) -> Response:
    """Say no: the server deletes the phone and name it held for this invitation."""
    answers.decline(rt, account, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
