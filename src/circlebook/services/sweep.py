"""The hourly sweep: drop what the server no longer needs to keep.

Each part runs in its own transaction, so one that fails leaves the others done.
"""

from __future__ import annotations

from circlebook.services import auth, dav_push, entries, events, invitations, limits, push, reach
from circlebook.services.runtime import Runtime


def sweep(rt: Runtime) -> None:
    events.prune(rt)
    reach.prune(rt)
    limits.prune(rt)
    invitations.prune(rt)
    entries.prune_departures(rt)
    auth.prune_sessions(rt)
    auth.prune_codes(rt)
    push.prune(rt)
    dav_push.prune(rt)
