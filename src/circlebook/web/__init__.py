"""Server-rendered pages for phones and browsers, over the same services as the JSON API.

`router` holds every page (none of them in the OpenAPI document); app.py includes it.
"""

from circlebook.web.routes import router

__all__ = ["router"]
