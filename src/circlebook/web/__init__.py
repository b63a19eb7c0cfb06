"""Server-rendered pages for phones and browsers, over the same services as the JSON API.

`router` holds every page (none of them in the OpenAPI document); app.py includes it,
and answers a body too large with `too_large`.
"""

from circlebook.web.routes import router
from circlebook.web.routing import too_large

__all__ = ["router", "too_large"]
