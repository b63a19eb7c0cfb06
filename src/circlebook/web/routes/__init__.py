"""Every page, by the group it belongs to."""

from fastapi import APIRouter

from circlebook.web.routes import (
    books,
    create,
    devices,
    home,
    homescreen,
    inbox,
    invite,
    links,
    manage,
    privacy,
    signin,
)

router = APIRouter(include_in_schema=False)
# create before books: /books/new is a page of its own, not a book called "new".
for group in (
    home,
    homescreen,
    signin,
    links,
    inbox,
    create,
    invite,
    books,
    manage,
    devices,
    privacy,
):
    router.include_router(group.router)

__all__ = ["router"]
