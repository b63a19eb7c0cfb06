"""Web Push: the server's public key, and a signed-in browser's subscription to messages.

Called by the web app's script as well as by bearer-token clients: see
`deps.get_page_token` for the session cookie and its CSRF header.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from circlebook.api.schemas import (
    PushKeyOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    PushSubscriptionsOut,
)
from circlebook.domain.errors import NotFoundError
from circlebook.domain.push import PushSubscription
from circlebook.edge.deps import LANG_COOKIE, PageAccountDep, PageTokenDep, RuntimeDep
from circlebook.services import push
from circlebook.services.languages import chosen_or_accepted

router = APIRouter(prefix="/v1/push", tags=["push"])


def _public_key(request: Request) -> str:
    key: str | None = request.app.state.push_public_key
    if key is None:
        raise NotFoundError("push is turned off on this server")
    return key


def _language(request: Request) -> str:
    return chosen_or_accepted(
        request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", "")
    )


def subscription_out(made: PushSubscription) -> PushSubscriptionOut:
    return PushSubscriptionOut(
        id=made.id,
        endpoint=made.endpoint,
        language=made.language,
        created_at=made.created_at,
        updated_at=made.updated_at,
    )


@router.get("/key")
def push_key(request: Request) -> PushKeyOut:
    """The VAPID public key a browser subscribes with (RFC 8292, 3.2)."""
    return PushKeyOut(public_key=_public_key(request))


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the endpoint was known: updated, same id"}},
)
def subscribe(
    body: PushSubscriptionIn,
    request: Request,
    response: Response,
    rt: RuntimeDep,
    account: PageAccountDep,
    token: PageTokenDep,
) -> PushSubscriptionOut:
    """Send this session's messages to a browser: 201 when new, 200 when the endpoint was known.

    Messages are written in the language of the web pages' choice, else of
    Accept-Language.
    """
    _public_key(request)
    made = push.subscribe(
        rt, account, token, body.endpoint, body.keys.p256dh, body.keys.auth, _language(request)
    )
    if not made.created:
        response.status_code = status.HTTP_200_OK
    return subscription_out(made.subscription)


@router.get("/subscriptions")
def list_subscriptions(
    rt: RuntimeDep, account: PageAccountDep, token: PageTokenDep
) -> PushSubscriptionsOut:
    """The subscriptions of the session asking."""
    found = push.subscriptions(rt, account, token)
    return PushSubscriptionsOut(push_subscriptions=[subscription_out(s) for s in found])


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(subscription_id: str, rt: RuntimeDep, account: PageAccountDep) -> Response:
    """Stop sending to one of the account's subscriptions."""
    push.unsubscribe(rt, account, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
