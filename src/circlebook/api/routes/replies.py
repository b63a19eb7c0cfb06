"""The SMS provider's webhook for replies to the server's own texts: a stop word opts out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from circlebook.api.schemas import InboundSms
from circlebook.domain.errors import NotAuthenticatedError, NotFoundError
from circlebook.edge.deps import RuntimeDep, SettingsDep
from circlebook.services import invite_links, signing

router = APIRouter(prefix="/v1/sms", tags=["sms"])
_bearer = HTTPBearer(auto_error=False, description="CIRCLEBOOK_SMS_INBOUND_SECRET")


def provider(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The provider proves itself with the shared secret; without one set, no webhook exists."""
    secret = settings.sms_inbound_secret.get_secret_value()
    if not secret:
        raise NotFoundError("no such route")
    given = credentials.credentials if credentials is not None else ""
    # Constant-time, so the secret cannot be found a character at a time.
    if not signing.matches(secret, given):
        raise NotAuthenticatedError("send Authorization: Bearer <CIRCLEBOOK_SMS_INBOUND_SECRET>")


@router.post("/inbound", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(provider)])
def inbound(body: InboundSms, rt: RuntimeDep) -> Response:
    """STOP, UNSUBSCRIBE, 退订, TD, T or R put the sender on the do-not-invite list."""
    invite_links.opt_out_by_reply(rt, body.from_, body.text)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
