"""Sign in with a one-time code; the signed-in account."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from circlebook.api.schemas import (
    AccountOut,
    CodeRequest,
    CodeSent,
    DeviceSessionOut,
    MePatch,
    SessionOut,
    SessionRequest,
    SessionsOut,
)
from circlebook.domain.model import Account
from circlebook.edge.deps import AccountDep, ClientDep, RuntimeDep, TokenDep
from circlebook.services import auth

router = APIRouter(prefix="/v1", tags=["auth"])


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id, phone=account.phone, name=account.name, created_at=account.created_at
    )


@router.post("/auth/codes", status_code=status.HTTP_202_ACCEPTED)
def request_code(body: CodeRequest, rt: RuntimeDep, client: ClientDep) -> CodeSent:
    """Send a one-time code by SMS; the same answer whether or not the number has an account."""
    return CodeSent(expires_in=auth.request_code(rt, body.phone, body.region, client=client))


@router.post("/auth/sessions", status_code=status.HTTP_201_CREATED)
def sign_in(body: SessionRequest, rt: RuntimeDep, client: ClientDep) -> SessionOut:
    """Trade the code for a bearer token; the first sign-in creates the account."""
    signed = auth.sign_in(
        rt, body.phone, body.code, body.device, region=body.region, name=body.name, client=client
    )
    return SessionOut(token=signed.token, account=account_out(signed.account))


@router.delete("/auth/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(rt: RuntimeDep, token: TokenDep, _account: AccountDep) -> Response:
    auth.sign_out(rt, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def me(account: AccountDep) -> AccountOut:
    return account_out(account)


@router.patch("/me")
def rename_me(body: MePatch, rt: RuntimeDep, account: AccountDep) -> AccountOut:
    return account_out(auth.rename_account(rt, account, body.name))


@router.get("/me/sessions")
def sessions(rt: RuntimeDep, token: TokenDep, account: AccountDep) -> SessionsOut:
    """Every device signed in to this account; `current` is this one."""
    return SessionsOut(
        sessions=[
            DeviceSessionOut(
                id=view.session.id,
                device=view.session.device,
                created_at=view.session.created_at,
                last_used_at=view.session.last_used_at,
                current=view.current,
            )
            for view in auth.list_sessions(rt, account, token)
        ]
    )


@router.delete("/me/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def end_session(session_id: str, rt: RuntimeDep, account: AccountDep) -> Response:
    """Sign one device out; its token is refused from its next request."""
    auth.end_session(rt, account, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/me/sessions", status_code=status.HTTP_204_NO_CONTENT)
def end_other_sessions(rt: RuntimeDep, token: TokenDep, account: AccountDep) -> Response:
    """Sign out everywhere else: every session of the account but this one ends."""
    auth.end_other_sessions(rt, account, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
