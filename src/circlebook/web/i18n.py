"""Which language a page speaks: a remembered choice, else the browser's Accept-Language.

Messages are written in English in the code and templates; the Simplified
Chinese catalog is the committed `.po` file, compiled in memory on first use,
so there is no build step and no binary `.mo` file to keep in step.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from circlebook.edge.deps import LANG_COOKIE as LANG_COOKIE
from circlebook.services.languages import from_accept_language

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# BCP 47 tag -> the catalog's directory under locale/ (None: the source language).
LANGUAGES: dict[str, str | None] = {"en": None, "zh-Hans": "zh_Hans"}
# Each language named in itself, for the switch on every page.
NATIVE_NAMES = {"en": "English", "zh-Hans": "简体中文"}


def catalog_path(language: str) -> Path:
    directory = LANGUAGES[language]
    assert directory is not None, "English is the source language and has no catalog"
    return LOCALE_DIR / directory / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    if LANGUAGES.get(language) is None:
        return gettext.NullTranslations()
    with catalog_path(language).open("rb") as handle:
        catalog = read_po(handle)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(request.headers.get("accept-language", ""))
