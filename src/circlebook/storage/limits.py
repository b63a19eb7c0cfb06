"""Windowed counters behind the abuse limits, each claimed in one atomic statement.

A claim is an INSERT that ignores a conflict, then one conditional UPDATE: on
PostgreSQL the UPDATE takes the row's lock and re-reads the count once the
holder commits, so fifty concurrent requests are counted as fifty and the
limit is never overrun; SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, delete, select, update
from sqlalchemy.engine import Connection

from circlebook.services.ports import Counter
from circlebook.storage.outreach import insert_new
from circlebook.storage.schema import rate_counters

_C = rate_counters.c


class SqlCounters:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, key: str, now: str, window_cutoff: str, cap: int, n: int = 1) -> bool:
        """Count `n` more if the window stays within `cap`; False (and nothing counted) if not.

        A window that began at or before `window_cutoff` is over: it starts again now.
        """
        if n > cap:
            return False
        row = {"key": key, "window_start": now, "count": n, "last_at": now}
        if insert_new(self.conn, rate_counters, **row):
            return True
        expired = _C.window_start <= window_cutoff
        claimed = self.conn.execute(
            update(rate_counters)
            .where(_C.key == key, expired | (_C.count + n <= cap))
            .values(
                count=case((expired, n), else_=_C.count + n),
                window_start=case((expired, now), else_=_C.window_start),
                last_at=now,
            )
            .returning(_C.key)
        ).first()
        return claimed is not None

    def hit(self, key: str, now: str, window_cutoff: str) -> Counter:
        """Count one more, whatever the count; the counter as it is now."""
        row = {"key": key, "window_start": now, "count": 1, "last_at": now}
        if insert_new(self.conn, rate_counters, **row):
            return Counter(1, now, now)
        expired = _C.window_start <= window_cutoff
        counted = self.conn.execute(
            update(rate_counters)
            .where(_C.key == key)
            .values(
                count=case((expired, 1), else_=_C.count + 1),
                window_start=case((expired, now), else_=_C.window_start),
                last_at=now,
            )
            .returning(_C.count, _C.window_start, _C.last_at)
        ).one()
        # A Row's `count` is tuple.count: read the columns by position.
        return Counter(counted[0], counted[1], counted[2])

    def peek(self, key: str, window_cutoff: str) -> Counter | None:
        """The counter of a window not yet over, or None."""
        row = self.conn.execute(
            select(_C.count, _C.window_start, _C.last_at).where(
                _C.key == key, _C.window_start > window_cutoff
            )
        ).first()
        return Counter(row[0], row[1], row[2]) if row else None

    def forget(self, keys: Sequence[str]) -> None:
        self.conn.execute(delete(rate_counters).where(_C.key.in_(list(keys))))

    def purge_before(self, window_cutoff: str) -> None:
        """Forget counters whose windows ended before `window_cutoff` (the sweep's work)."""
        self.conn.execute(delete(rate_counters).where(_C.last_at <= window_cutoff))
