"""What a phone needs to put circlebook on its home screen: the manifest and the service worker.

The manifest (W3C Web Application Manifest) names the app, its icons and its
colours, and says it opens standalone, without the browser's bars; iOS 16.4+
delivers Web Push only to a web app added to the home screen this way. The
service worker is served from the root, so that its scope is the whole site.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from circlebook.web import i18n
from circlebook.web.feedback import N_
from circlebook.web.rendering import STATIC, static_url
from circlebook.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The pages' accent and background colours (circlebook.css: --accent, --wash).
THEME_COLOR = "#1f6f5c"
BACKGROUND_COLOR = "#f3f6f8"
ICONS = [
    ("icon-192.png", 192, "any"),
    ("icon-512.png", 512, "any"),
    ("icon-maskable-512.png", 512, "maskable"),
]
DESCRIPTION = N_("A shared address book, built by consent.")


def manifest(language: str) -> dict[str, Any]:
    """The manifest in `language`: only its description and `lang` differ."""
    return {
        "id": "/",
        "name": "circlebook",
        "short_name": "circlebook",
        "description": i18n.translations(language).gettext(DESCRIPTION),
        "lang": language,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {
                "src": static_url(name),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": use,
            }
            for name, size, use in ICONS
        ],
    }


@router.get("/manifest.webmanifest")
def web_app_manifest(request: Request) -> Response:
    return Response(
        orjson.dumps(manifest(i18n.language_of(request))),
        media_type="application/manifest+json",
        # It follows the language; a day's cache is plenty for a file that rarely changes.
        headers={"Cache-Control": "public, max-age=86400", "Vary": "Cookie, Accept-Language"},
    )


@router.get("/sw.js")
def service_worker() -> FileResponse:
    """The worker, at the root so that its scope is every page.

    no-cache: browsers look for a new worker at each visit and must not be held to
    an old one for a day; they revalidate it with the ETag FileResponse sends.
    """
    return FileResponse(
        STATIC / "sw.js",
        media_type="application/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
