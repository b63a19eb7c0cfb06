"""The message catalog: every message of the pages' Python and templates, and its upkeep.

After changing a message, run `python -m circlebook.web.catalog`: it writes the
template `locale/messages.pot` and merges it into each language's `.po` file,
keeping the translations that still apply. Then translate what it reports.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from circlebook.web import i18n

PACKAGE = Path(__file__).parent
METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n,jinja2.ext.do"}}


def extract() -> Catalog:
    """Every message the pages can show, as a catalog with no translations."""
    catalog = Catalog(project="circlebook", domain=i18n.DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        PACKAGE, METHODS, OPTIONS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def untranslated(language: str) -> list[str]:
    """Messages the pages show that the language's catalog does not translate."""
    with i18n.catalog_path(language).open("rb") as handle:
        translated = read_po(handle)
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = translated.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        parts = strings if isinstance(strings, tuple | list) else (strings,)
        if found is None or found.fuzzy or not all(parts):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update() -> None:
    template = extract()
    with (PACKAGE / "locale" / f"{i18n.DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, omit_header=False, sort_output=True, width=100)
    for language, directory in i18n.LANGUAGES.items():
        if directory is None:
            continue
        path = i18n.catalog_path(language)
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=directory)
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, ignore_obsolete=True, sort_output=True, width=100)
        for message_id in untranslated(language):
            print(f"{language}: not translated: {message_id!r}", file=sys.stderr)


if __name__ == "__main__":
    update()
