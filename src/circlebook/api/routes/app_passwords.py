"""App passwords: secrets for devices that sign in with HTTP Basic, such as a CardDAV client."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from circlebook.api.schemas import (
    AppPasswordCreate,
    AppPasswordCreated,
    AppPasswordOut,
    AppPasswordsOut,
)
from circlebook.domain.model import AppPassword
from circlebook.edge.deps import AccountDep, RuntimeDep
from circlebook.services import app_passwords

router = APIRouter(prefix="/v1/app-passwords", tags=["app passwords"])


def app_password_out(made: AppPassword) -> AppPasswordOut:
    return AppPasswordOut(
        id=made.id, label=made.label, created_at=made.created_at, last_used_at=made.last_used_at
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_app_password(
    body: AppPasswordCreate, rt: RuntimeDep, account: AccountDep
) -> AppPasswordCreated:
    """Make a password for one device; the answer is the only time it is shown."""
    new = app_passwords.create_app_password(rt, account, body.label)
    return AppPasswordCreated(
        **app_password_out(new.app_password).model_dump(),
        password=new.password,
        user_name=account.phone,
    )


@router.get("")
def list_app_passwords(rt: RuntimeDep, account: AccountDep) -> AppPasswordsOut:
    """The caller's app passwords, oldest first (their secrets are never shown again)."""
    made = app_passwords.list_app_passwords(rt, account)
    return AppPasswordsOut(app_passwords=[app_password_out(p) for p in made])


@router.delete("/{app_password_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_app_password(app_password_id: str, rt: RuntimeDep, account: AccountDep) -> Response:
    """Revoke one: the device that uses it is refused from its next request."""
    app_passwords.revoke_app_password(rt, account, app_password_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
