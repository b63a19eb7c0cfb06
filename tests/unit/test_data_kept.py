"""The README's "Data we keep" table accounts for every table the schema makes."""

from __future__ import annotations

import re
from pathlib import Path

from circlebook.storage.schema import metadata

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_says_what_every_table_keeps_and_until_when() -> None:
    section = README.read_text(encoding="utf-8").split("## Data we keep", 1)[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \|(.+)\|$", section, flags=re.MULTILINE)
    named = {table for table, _ in rows}
    assert named == set(metadata.tables)
    for table, rest in rows:
        cells = [c.strip() for c in rest.split("|")]
        assert len(cells) == 3 and all(cells), table
