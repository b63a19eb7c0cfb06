"""CardDAV: every book a member belongs to, in the phone's own contacts app.

A generic WebDAV layer (`xml`, `multistatus`, `properties`, `errors`), CardDAV
on top of it (`carddav`, `filters`, `reports`, `methods`), circlebook's books as
resources over the same services as the JSON API (`resources`), and sign-in
with app passwords (`auth`). Nothing here touches storage.
"""

from circlebook.dav.app import MOUNT_PATH, DavApp, DavFirst, discovery_routes
from circlebook.dav.errors import too_large

__all__ = ["MOUNT_PATH", "DavApp", "DavFirst", "discovery_routes", "too_large"]
