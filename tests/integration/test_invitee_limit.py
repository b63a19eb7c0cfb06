"""How many people one request may invite is the use cases' rule, whichever edge asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from circlebook.domain.errors import TooManyInviteesError
from circlebook.services import auth, books, invitations
from circlebook.services.invitations import Invitee, invite_into
from circlebook.services.reach import Reach
from circlebook.services.runtime import Runtime

OWNER = "+8613800138501"
VIA = Reach("http://127.0.0.1")


def invitees(count: int) -> list[Invitee]:
    return [Invitee(f"+86138001385{10 + i}") for i in range(count)]


@pytest.fixture
def limited(make_client: Callable[..., TestClient]) -> Runtime:
    """The runtime of an app that lets one request invite at most two people."""
    rt: Runtime = make_client(max_invitees_per_request=2).app.state.runtime  # type: ignore[attr-defined]
    return rt


def test_inviting_into_a_book_refuses_more_people_than_one_request_may_invite(
    limited: Runtime, people: Any
) -> None:
    owner = auth.authenticate(limited, people(OWNER, "Owner").token)
    summary, _ = books.create_book(limited, owner, "Class", [], VIA)
    with limited.uow(write=True) as uow:
        book = uow.books.get(summary.book.id)
        assert book is not None
        with pytest.raises(TooManyInviteesError) as refused:
            invite_into(limited, uow, book, owner, invitees(3), "CN", VIA, "Owner")
        assert (refused.value.limit, refused.value.field) == (2, "invitees")
        invited = invite_into(limited, uow, book, owner, invitees(2), "CN", VIA, "Owner")
        assert len(invited.outcomes) == 2


def test_creating_a_book_or_inviting_more_refuses_too_many_and_keeps_nothing(
    limited: Runtime, people: Any
) -> None:
    owner = auth.authenticate(limited, people(OWNER, "Owner").token)
    with pytest.raises(TooManyInviteesError):
        books.create_book(limited, owner, "Too many", invitees(3), VIA)
    assert books.list_books(limited, owner) == []
    summary, _ = books.create_book(limited, owner, "Class", [], VIA)
    with pytest.raises(TooManyInviteesError):
        invitations.invite(limited, owner, summary.book.id, invitees(3), VIA)
    assert invitations.pending_for_book(limited, owner, summary.book.id, VIA) == []
