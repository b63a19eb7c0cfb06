"""What a person may know about their own number: who sees it."""

from __future__ import annotations

from fastapi import APIRouter

from circlebook.api.deps import AccountDep, RuntimeDep
from circlebook.api.schemas import AudienceOut, BookAudienceOut, SeerOut
from circlebook.services import audience

router = APIRouter(prefix="/v1/me", tags=["privacy"])


@router.get("/audience")
def who_sees_me(rt: RuntimeDep, account: AccountDep) -> AudienceOut:
    """For each book holding my entry, exactly the people who can see my number."""
    return AudienceOut(
        books=[
            BookAudienceOut(
                book_id=a.book_id,
                title=a.title,
                role=a.role,
                seen_by=[SeerOut(name=s.name, role=s.role) for s in a.seen_by],
                count=a.count,
            )
            for a in audience.who_sees_me(rt, account)
        ]
    )
