"""Books and the owner's invitations."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from circlebook.api.schemas import (
    BookCreate,
    BookCreated,
    BookOut,
    BookPatch,
    BooksOut,
    InvitationsCreate,
    InviteeIn,
    OutcomeOut,
    OutcomesOut,
    OwnerIn,
    PendingInvitationOut,
    PendingInvitationsOut,
    ReminderOut,
)
from circlebook.edge.deps import AccountDep, ReachDep, RuntimeDep
from circlebook.services import books, invitations, invite_links
from circlebook.services.books import BookSummary
from circlebook.services.invitations import Invitee, Outcome

router = APIRouter(prefix="/v1/books", tags=["books"])


def book_out(summary: BookSummary) -> BookOut:
    book, me = summary.book, summary.me
    return BookOut(
        id=book.id,
        title=book.title,
        role=me.role.value,
        tags=sorted(me.tags),
        entry_count=summary.visible_entries,
        sync_token=summary.sync_token,
        owner_id=book.owner_id,
        created_at=book.created_at,
        updated_at=book.updated_at,
    )


def outcome_out(outcome: Outcome) -> OutcomeOut:
    return OutcomeOut(
        input=outcome.input,
        status=outcome.status.value,
        phone=outcome.phone,
        invitation_id=outcome.invitation_id,
        reason=outcome.reason,
        field=outcome.field,
        invite_url=outcome.invite_url,
        invite_text=outcome.invite_text,
        text_sent=outcome.text_sent,
    )


def invitees(raw: Sequence[InviteeIn]) -> list[Invitee]:
    return [Invitee(i.phone, i.name, i.tags) for i in raw]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_book(
    body: BookCreate, rt: RuntimeDep, account: AccountDep, via: ReachDep
) -> BookCreated:
    """Start a book: the caller is its owner and first entry; each invitee is asked to join.

    Each invitee made gets a personal link (`invite_url`) and a ready message
    (`invite_text`) for the owner's own phone to send.
    """
    summary, outcomes = books.create_book(
        rt,
        account,
        body.title,
        invitees(body.invitees),
        via,
        name=body.name,
        region=body.region,
    )
    return BookCreated(
        **book_out(summary).model_dump(), outcomes=[outcome_out(o) for o in outcomes]
    )


@router.get("")
def list_books(rt: RuntimeDep, account: AccountDep) -> BooksOut:
    return BooksOut(books=[book_out(s) for s in books.list_books(rt, account)])


@router.get("/{book_id}")
async def get_book(book_id: str, rt: RuntimeDep, account: AccountDep) -> BookOut:
    # A header read a moment ago is answered on the event loop: polls of one book
    # repeat, and the worker thread's hop cost more than the answer itself.
    summary = books.recent_book(rt, account, book_id)
    if summary is None:
        summary = await run_in_threadpool(books.get_book, rt, account, book_id)
    return book_out(summary)


@router.patch("/{book_id}")
def rename_book(book_id: str, body: BookPatch, rt: RuntimeDep, account: AccountDep) -> BookOut:
    return book_out(books.rename_book(rt, account, book_id, body.title))


@router.post("/{book_id}/owner")
def hand_on(book_id: str, body: OwnerIn, rt: RuntimeDep, account: AccountDep) -> BookOut:
    """Make a member the owner (its tags cleared); you stay as an untagged member."""
    return book_out(books.hand_on(rt, account, book_id, body.entry_id))


@router.delete("/{book_id}", status_code=status.HTTP_204_NO_CONTENT)
def dissolve_book(book_id: str, rt: RuntimeDep, account: AccountDep) -> Response:
    """Dissolve the book (owner): every entry, invitation and record of it goes."""
    books.dissolve_book(rt, account, book_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{book_id}/invitations")
def invite(
    book_id: str, body: InvitationsCreate, rt: RuntimeDep, account: AccountDep, via: ReachDep
) -> OutcomesOut:
    outcomes = invitations.invite(rt, account, book_id, invitees(body.invitees), via, body.region)
    return OutcomesOut(outcomes=[outcome_out(o) for o in outcomes])


@router.get("/{book_id}/invitations")
def pending(
    book_id: str, rt: RuntimeDep, account: AccountDep, via: ReachDep
) -> PendingInvitationsOut:
    return PendingInvitationsOut(
        invitations=[
            PendingInvitationOut(
                id=p.invitation.id,
                phone=p.invitation.phone,
                name=p.invitation.name,
                tags=sorted(p.invitation.tags),
                created_at=p.invitation.created_at,
                expires_at=p.invitation.expires_at,
                invite_url=p.invite_url,
                invite_text=p.invite_text,
                reminded_at=p.invitation.reminded_at,
            )
            for p in invitations.pending_for_book(rt, account, book_id, via)
        ]
    )


@router.post("/{book_id}/invitations/{invitation_id}/remind")
def remind(
    book_id: str, invitation_id: str, rt: RuntimeDep, account: AccountDep, via: ReachDep
) -> ReminderOut:
    """The one reminder an invitation allows, 24 hours or more after it was made."""
    sent = invite_links.remind(rt, account, book_id, invitation_id, via)
    return ReminderOut(
        invitation_id=sent.invitation_id,
        invite_url=sent.invite_url,
        invite_text=sent.invite_text,
        text_sent=sent.text_sent,
    )


@router.delete("/{book_id}/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(book_id: str, invitation_id: str, rt: RuntimeDep, account: AccountDep) -> Response:
    invitations.revoke(rt, account, book_id, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
