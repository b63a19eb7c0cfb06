"""How the terminal shows results: Rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from circlebook.client.models import Book, Entry, Invitation, Outcome, PendingInvitation

T = TypeVar("T")

out = Console(highlight=False)
# soft_wrap: an error stays one line however narrow the terminal, for scripts and logs.
err = Console(stderr=True, highlight=False, soft_wrap=True)

_OUTCOME_STYLE = {
    "invited": "green",
    "already_member": "cyan",
    "already_invited": "yellow",
    "invalid": "red",
}


def as_json(value: Any) -> None:
    """Print plain JSON (no Rich markup or wrapping) so scripts can parse it."""

    def plain(v: Any) -> Any:
        if is_dataclass(v) and not isinstance(v, type):
            return asdict(v)
        raise TypeError(type(v))

    print(json.dumps(value, default=plain, ensure_ascii=False, indent=2))


def listing(
    items: Sequence[T], show: Callable[[Sequence[T]], None], none: str, *, json_wanted: bool
) -> None:
    """A list for scripts as JSON (empty or not); for people shown, or `none` said if empty."""
    if json_wanted:
        as_json(items)
    elif not items:
        say(none)
    else:
        show(items)


def say(text: str, *, bold: str | None = None) -> None:
    """Print a line whose parts came from people (titles, names): never read as markup."""
    line = Text(text)
    if bold:
        line.highlight_words([bold], style="bold")
    out.print(line)


def fail(message: str) -> None:
    err.print(Text(f"circlebook: {message}"))


def _cell(value: Any) -> Text:
    return value if isinstance(value, Text) else Text("" if value is None else str(value))


def json_line(value: Any) -> None:
    """One compact JSON object per line, flushed: for streams that scripts read as they come."""
    print(json.dumps(value, ensure_ascii=False), flush=True)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=Text(title) if title else None, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(_cell(cell) for cell in row))
    out.print(grid)


def outcomes(results: Sequence[Outcome], names: dict[str, str] | None = None) -> None:
    names = names or {}
    rows = []
    for o in results:
        status = Text(o.status.replace("_", " "), style=_OUTCOME_STYLE.get(o.status, ""))
        rows.append((names.get(o.input, ""), o.phone or o.input, status, o.reason or ""))
    table("Invitations", ["name", "number", "outcome", "why"], rows)
    links = [o for o in results if o.invite_url]
    if links:
        # Whole lines, not table cells, so that a terminal never wraps a link in two.
        say("Send each person their link from your phone (or: circlebook invite-link BOOK PERSON):")
        for o in links:
            who = names.get(o.input) or o.phone or o.input
            texted = "  (texted by the server too)" if o.text_sent else ""
            out.print(Text(f"  {who}: {o.invite_url}{texted}"), soft_wrap=True)


def books(items: Sequence[Book]) -> None:
    table(
        None,
        ["id", "title", "role", "tags", "entries"],
        [(b.id, b.title, b.role, ", ".join(b.tags), b.entry_count) for b in items],
    )


def entries(title: str, items: Iterable[Entry]) -> None:
    ordered = sorted(items, key=lambda e: (e.role != "owner", e.name.casefold()))
    table(
        title,
        ["name", "number", "tags", "role", "id"],
        [(e.name, e.phone, ", ".join(e.tags), e.role, e.id) for e in ordered],
    )


def inbox(items: Sequence[Invitation]) -> None:
    table(
        "Invitations to you",
        ["id", "book", "from", "your name there", "expires"],
        [
            (i.id, i.book_title, f"{i.inviter_name} ({i.inviter_phone})", i.name, i.expires_at[:10])
            for i in items
        ],
    )


def pending(items: Sequence[PendingInvitation]) -> None:
    table(
        "Pending invitations",
        ["id", "number", "name", "tags", "expires"],
        [(i.id, i.phone, i.name, ", ".join(i.tags), i.expires_at[:10]) for i in items],
    )


def invite_link(item: PendingInvitation) -> None:
    invite_link_text(item.invite_url or "", item.invite_text or "")


def invite_link_text(url: str, message: str) -> None:
    """The link and the message, each on lines of its own for copying."""
    out.print(Text(url), soft_wrap=True)
    out.print(Text(message), soft_wrap=True)
