"""One request to a page: who asks (if anyone), in which language, with which form token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from circlebook.domain.errors import NotAuthenticatedError
from circlebook.domain.model import Account
from circlebook.edge.deps import client_address, get_runtime
from circlebook.services import auth, reach
from circlebook.services.runtime import Runtime
from circlebook.web import i18n, session


@dataclass(frozen=True, slots=True)
class Visit:
    request: Request
    rt: Runtime
    language: str
    csrf: str
    account: Account | None
    token: str | None

    @property
    def reach(self) -> reach.Reach:
        """Where invitation links made on this page point, and the owner's language."""
        return reach.Reach(reach.link_base(self.rt, str(self.request.base_url)), self.language)

    @property
    def client(self) -> str:
        """Who the per-client limits count (see `edge.deps.client_address`)."""
        return client_address(self.request)

    @property
    def me(self) -> Account:
        """The signed-in account; pages that need one ask for `MemberVisit` instead."""
        if self.account is None:
            raise NotAuthenticatedError("sign in first")
        return self.account


def current_visit(request: Request) -> Visit:
    rt = get_runtime(request)
    token = session.session_token(request)
    account = None
    if token is not None:
        try:
            account = auth.authenticate(rt, token)
        except NotAuthenticatedError:
            # Signed out elsewhere: the page answers as to a stranger and forgets the cookie.
            request.state.stale_session = True
            token = None
    return Visit(
        request,
        rt,
        i18n.language_of(request),
        session.form_token(request, rt.secret_key, token),
        account,
        token,
    )


def member_visit(visit: Annotated[Visit, Depends(current_visit)]) -> Visit:
    """The visit of someone signed in; a stranger is sent to the sign-in page."""
    if visit.account is None:
        raise NotAuthenticatedError("sign in first")
    return visit


VisitDep = Annotated[Visit, Depends(current_visit)]
MemberVisit = Annotated[Visit, Depends(member_visit)]
