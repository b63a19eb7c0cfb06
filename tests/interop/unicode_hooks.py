"""Schemathesis hooks that lean generated strings on Unicode digits, signs and huge numbers.

`str.isdigit()` accepts "²" and `int()` then fails: the fuzzer's own strings rarely hit
such values, so every query, path and body string may be swapped for one of them.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

TRICKY = [
    "²",
    "٣",
    "１２３",  # noqa: RUF001 - full-width digits are the point
    "𝟘𝟙",  # noqa: RUF001 - mathematical digits are the point
    "1²",
    "²." + "x",
    "+1",
    "-1",
    " 1 ",
    "9" * 5000,
    "1" * 19,
]


def _tricky(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, str):
        return st.sampled_from([value, *TRICKY, value + "²"])
    if isinstance(value, dict):
        return st.fixed_dictionaries({k: _tricky(v) for k, v in value.items()})
    if isinstance(value, list):
        return st.tuples(*(_tricky(v) for v in value)).map(list)
    return st.just(value)


@schemathesis.hook
def flatmap_query(ctx: Any, query: Any) -> st.SearchStrategy[Any]:
    return _tricky(query)


@schemathesis.hook
def flatmap_path_parameters(ctx: Any, parameters: Any) -> st.SearchStrategy[Any]:
    return _tricky(parameters)


@schemathesis.hook
def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    return _tricky(body)
