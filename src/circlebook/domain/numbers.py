"""Whole numbers read from client text: ASCII digits only, and not too many of them.

`str.isdigit()` is true for "²", "٣" and a fullwidth 1, and `int()` refuses the first
and reads the others, so a check with one and a parse with the other is a
crash (or a surprise) waiting for input like `²`. Every number a client sends
is read here instead, by one rule.
"""

from __future__ import annotations

import re

MAX_DIGITS = 18  # below 2**63, so a number read here fits every column and counter

_ASCII_DIGITS = re.compile(r"[0-9]+")


def whole_number(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """The number `text` spells in 1 to `max_digits` ASCII digits, else None.

    No sign, no spaces, no underscores and no other script's digits: what
    `int()` would also accept is not necessarily what a client meant.
    """
    if not 0 < len(text) <= max_digits or not _ASCII_DIGITS.fullmatch(text):
        return None
    return int(text)
