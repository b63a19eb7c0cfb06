"""Naming books, invitations and entries as people do: by id, a unique id prefix, or a title."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


class AmbiguousNameError(Exception):
    """A name that fits none or several things; the message says which."""


def resolve(
    query: str,
    items: Sequence[T],
    ident: Callable[[T], str],
    titles: Callable[[T], Sequence[str]],
    what: str,
) -> T:
    """The one item whose id is `query`, or whose id starts with it, or whose title is it."""
    exact = [i for i in items if ident(i) == query]
    if exact:
        return exact[0]
    for matches in (
        [i for i in items if ident(i).startswith(query)],
        [i for i in items if any(t.casefold() == query.casefold() for t in titles(i))],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            listed = ", ".join(f"{ident(m)} ({' / '.join(titles(m))})" for m in matches[:5])
            raise AmbiguousNameError(f"{query!r} fits several {what}s: {listed}")
    raise AmbiguousNameError(f"no {what} is named {query!r}")
