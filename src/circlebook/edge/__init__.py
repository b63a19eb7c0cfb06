"""What every edge (api, dav, web) needs of a request, owned by none of them.

The runtime, settings and event hub the app was built with, the signed-in
account and the cookies it comes in, the body limit: each edge imports these
from here and never from another edge.
"""
