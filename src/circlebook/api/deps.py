"""Request dependencies: the runtime the app was built with, and the signed-in account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from circlebook.domain.errors import NotAuthenticatedError
from circlebook.domain.model import Account
from circlebook.services import auth
from circlebook.services.ports import Runtime

_bearer = HTTPBearer(auto_error=False, description="the token from POST /v1/auth/sessions")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticatedError("sign in first: send Authorization: Bearer <token>")
    return credentials.credentials


TokenDep = Annotated[str, Depends(get_token)]


def get_account(rt: RuntimeDep, token: TokenDep) -> Account:
    return auth.authenticate(rt, token)


AccountDep = Annotated[Account, Depends(get_account)]
