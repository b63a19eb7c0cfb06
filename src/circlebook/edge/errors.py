"""How each edge looks an error up in its table: by the error's own classes, nearest first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar, cast

Kind = TypeVar("Kind", bound=type[BaseException])
Answer = TypeVar("Answer")


def nearest(table: Mapping[Kind, Answer], exc: BaseException) -> Answer | None:
    """The entry of the error's class, else of the nearest base class the table names.

    Walking `type(exc).__mro__` rather than the table's order means a subclass
    is answered by its own entry wherever it stands in the table.
    """
    for kind in type(exc).__mro__:
        if kind in table:
            return table[cast(Kind, kind)]
    return None
