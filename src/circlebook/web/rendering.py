"""Templates: one Jinja2 environment per language, and pages rendered from them."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import markupsafe
import segno
from fastapi.responses import HTMLResponse

from circlebook.phonebook.numbers import display
from circlebook.services import answers
from circlebook.web import i18n
from circlebook.web.feedback import device_name, outcome_message
from circlebook.web.session import CSRF_FIELD
from circlebook.web.visits import Visit

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
# Pages carry people's numbers: no cache may keep them.
PAGE_HEADERS = {"Cache-Control": "no-store"}
_NOT_DIGIT = re.compile(r"\D")


def digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text)


def sms_link(phone: str, body: str) -> str:
    """An `sms:` address (RFC 5724) that opens the phone's messages app with the text ready."""
    return f"sms:{phone}?body={quote(body, safe='')}"


def qr_code(text: str) -> markupsafe.Markup:
    """A QR code of `text` as inline SVG, drawn here: the page loads nothing from elsewhere."""
    svg = segno.make(text, error="m").svg_inline(scale=4, omitsize=True, svgclass="qr")
    return markupsafe.Markup(svg)  # noqa: S704 - segno's own markup, of a URL it encoded


@functools.cache
def static_url(name: str) -> str:
    """The file's address with a hash of its content, so browsers may cache it for long."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


@functools.cache
def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["phone"] = display  # for reading; links keep the E.164 form
    env.filters["digits"] = digits
    env.filters["qr"] = qr_code
    env.globals["sms_link"] = sms_link
    env.globals.update(
        outcome_message=outcome_message,
        device_name=device_name,
        static=static_url,
        native_names=i18n.NATIVE_NAMES,
        csrf_field=CSRF_FIELD,
    )
    return env


def _here(visit: Visit) -> str:
    url = visit.request.url
    return f"{url.path}?{url.query}" if url.query else url.path


def render(visit: Visit, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    pending = len(answers.inbox(visit.rt, visit.account)) if visit.account else 0
    html = (
        environment(visit.language)
        .get_template(template)
        .render(
            visit=visit,
            account=visit.account,
            lang=visit.language,
            csrf=visit.csrf,
            pending=pending,
            here=_here(visit),
            **context,
        )
    )
    return HTMLResponse(html, status, headers=PAGE_HEADERS)
