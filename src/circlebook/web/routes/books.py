"""My books, and one book as its member sees it: search, call, text, download, sync."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.responses import Response

from circlebook.services import books, pages, vcards
from circlebook.services.entries import VisibleEntry
from circlebook.web.feedback import notice
from circlebook.web.rendering import digits, render
from circlebook.web.routing import PageRoute
from circlebook.web.visits import MemberVisit

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def search_key(entry: VisibleEntry) -> str:
    """What a search matches: the name folded to lower case, and the number's digits.

    The page's script filters live on this same key (`data-search`), so both agree.
    """
    return f"{entry.name.casefold()} {digits(entry.phone)}"


def matches(entry: VisibleEntry, query: str) -> bool:
    query = query.strip().casefold()
    wanted = digits(query)
    key = search_key(entry)
    return not query or query in key or bool(wanted and wanted in key)


@router.get("/books", name="books")
def my_books(visit: MemberVisit, done: str = "") -> Response:
    return render(
        visit, "books.html", summaries=books.list_books(visit.rt, visit.me), notice=notice(done)
    )


@router.get("/books/{book_id}", name="book")
def book_page(
    visit: MemberVisit,
    book_id: str,
    q: str = Query("", max_length=100),
    done: str = "",
) -> Response:
    page = pages.book_page(visit.rt, visit.me, book_id)
    # Sorted by name, as a phone's contacts are.
    shown = sorted(
        (entry for entry in page.entries if matches(entry, q)), key=lambda e: e.name.casefold()
    )
    return render(
        visit,
        "book.html",
        summary=page.summary,
        entries=shown,
        total=page.summary.visible_entries,
        q=q,
        search_key=search_key,
        carddav_url=str(visit.request.base_url) + ".well-known/carddav",
        notice=notice(done),
    )


@router.get("/books/{book_id}/export.vcf", name="export")
def export(
    visit: MemberVisit, book_id: str, version: vcards.CardVersion = vcards.DEFAULT_VERSION
) -> Response:
    summary = books.get_book(visit.rt, visit.me, book_id)
    # RFC 6266: an ASCII fallback name, and the title itself for browsers that read filename*.
    disposition = "attachment; filename=\"circlebook.vcf\"; filename*=UTF-8''" + quote(
        summary.book.title + ".vcf", safe=""
    )
    return Response(
        vcards.export_vcards(visit.rt, visit.me, book_id, version).text,
        media_type="text/vcard; charset=utf-8",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
