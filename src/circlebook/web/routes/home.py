"""The front door, the language switch and the static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import FileResponse, RedirectResponse
from starlette.exceptions import HTTPException

from circlebook.web import i18n
from circlebook.web.rendering import STATIC
from circlebook.web.routing import PageRoute
from circlebook.web.visits import VisitDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC_TYPES = {
    "circlebook.js": "text/javascript",
    "circlebook.css": "text/css",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
    "icon-maskable-512.png": "image/png",
    "apple-touch-icon.png": "image/png",
}
ONE_YEAR = 365 * 24 * 3600


def local_path(target: str | None, default: str = "/books") -> str:
    """`target` if it is a path on this site, else `default`: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


@router.get("/")
def home(visit: VisitDep) -> RedirectResponse:
    return RedirectResponse("/books" if visit.account else "/signin", status_code=303)


@router.post("/language")
def choose_language(
    lang: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    """Remember the language picked on the page; it outranks the browser's Accept-Language."""
    response = RedirectResponse(local_path(next, "/"), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE, lang, max_age=ONE_YEAR, path="/", httponly=True, samesite="lax"
        )
    return response


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC_TYPES:
        raise HTTPException(404, "no such file")
    return FileResponse(
        STATIC / name,
        media_type=STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
