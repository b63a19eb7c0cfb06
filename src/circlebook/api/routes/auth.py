"""Sign in with a one-time code; the signed-in account."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from circlebook.api.deps import AccountDep, ClientDep, RuntimeDep, TokenDep
from circlebook.api.schemas import (
    AccountOut,
    CodeRequest,
    CodeSent,
    MePatch,
    SessionOut,
    SessionRequest,
)
from circlebook.domain.model import Account
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
def me(account: AccountDep) -> AccountOut:
    return account_out(account)


@router.patch("/me")
def rename_me(body: MePatch, rt: RuntimeDep, account: AccountDep) -> AccountOut:
    return account_out(auth.rename_account(rt, account, body.name))
