"""An invitation's personal link, answered without an account; and the do-not-invite switch."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from circlebook.api.routes.auth import account_out
from circlebook.api.routes.entries import entry_out
from circlebook.api.schemas import (
    CodeSent,
    DoNotInviteOut,
    InviteAcceptIn,
    InviteAnswerIn,
    InviteOut,
    JoinedOut,
)
from circlebook.edge.deps import AccountDep, ClientDep, RuntimeDep
from circlebook.services import invite_links
from circlebook.services.languages import from_accept_language

router = APIRouter(prefix="/v1", tags=["invitation links"])


def _no_content() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/invites/{token}")
def view(token: str, rt: RuntimeDep) -> InviteOut:
    """Who invites, to which book, and the invited number (masked); no sign-in needed."""
    link = invite_links.view(rt, token)
    return InviteOut(
        book_title=link.book_title,
        owner_name=link.owner_name,
        owner_phone=link.owner_phone,
        phone_hint=link.phone_hint,
        expires_at=link.expires_at,
    )


@router.post("/invites/{token}/code", status_code=status.HTTP_202_ACCEPTED)
def request_code(token: str, request: Request, rt: RuntimeDep, client: ClientDep) -> CodeSent:
    """Text a one-time code to the invited number (the sign-in limits apply)."""
    lang = from_accept_language(request.headers.get("accept-language", ""))
    return CodeSent(expires_in=invite_links.request_code(rt, token, lang=lang, client=client))


@router.post("/invites/{token}/accept")
def accept(token: str, body: InviteAcceptIn, rt: RuntimeDep, client: ClientDep) -> JoinedOut:
    """Join the book with the code; the answer signs the person in (an account is made if new)."""
    joined = invite_links.accept(rt, token, body.code, body.name, body.device, client)
    return JoinedOut(
        token=joined.token,
        account=account_out(joined.account),
        entry=entry_out(joined.entry),
        book_id=joined.entry.book_id,
    )


@router.post("/invites/{token}/decline", status_code=status.HTTP_204_NO_CONTENT)
def decline(token: str, body: InviteAnswerIn, rt: RuntimeDep, client: ClientDep) -> Response:
    """Say no: the invitation goes, and nothing (no account, no session) is made for it."""
    invite_links.decline(rt, token, body.code, client)
    return _no_content()


@router.post("/invites/{token}/stop", status_code=status.HTTP_204_NO_CONTENT)
def stop(token: str, body: InviteAnswerIn, rt: RuntimeDep, client: ClientDep) -> Response:
    """Say no, and never be invited again by anyone (until you undo it, signed in)."""
    invite_links.stop(rt, token, body.code, client)
    return _no_content()


@router.get("/me/do-not-invite")
def do_not_invite(rt: RuntimeDep, account: AccountDep) -> DoNotInviteOut:
    return DoNotInviteOut(do_not_invite=invite_links.is_opted_out(rt, account))


@router.put("/me/do-not-invite", status_code=status.HTTP_204_NO_CONTENT)
def opt_out(rt: RuntimeDep, account: AccountDep) -> Response:
    """Be invited by nobody; invitations waiting for you are declined."""
    invite_links.set_opted_out(rt, account, True)
    return _no_content()


@router.delete("/me/do-not-invite", status_code=status.HTTP_204_NO_CONTENT)
def opt_in(rt: RuntimeDep, account: AccountDep) -> Response:
    """Undo a stop: people may invite this number again."""
    invite_links.set_opted_out(rt, account, False)
    return _no_content()
