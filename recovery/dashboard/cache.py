"""The computed dashboard, kept for a while (docs/kpis.md, Speed: "The computed dashboard
is kept for a while").

The dashboard's figures are the same for every viewer of one date, period and scope until
the ledger changes, and computing them costs 0.3-1.3 s of CPU at a million items; several
executives open the same view every few seconds. So the computed ``kpis.Dashboard`` is kept
per (as-of date, period start, scope, today) for ``dashboard.cache_seconds`` (setting; 0 =
no cache) in the application process: each gunicorn worker keeps its own copy, nothing is
shared between processes, and a worker that restarts starts empty.

Only the computed figures are kept: nothing of the user (who may see the page is checked on
every request before the cache is looked at), no translated text (the reasons are lazy
strings, translated when the page is rendered), no database object (the figures are plain
values and rows). The drill-down lists are not cached: they are live.

``clock`` (seconds, monotonic) and ``wall_clock`` (the time shown on the page) are module
attributes so that tests can move time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

# At most this many views are kept per process (dates x periods x scopes that people asked
# for within the time-to-live); beyond it the entry that expires first goes.
MAX_ENTRIES = 64

clock = time.monotonic


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Entry:
    value: object
    computed_at: datetime  # when the computation started (UTC): the figures are as of then
    expires: float  # seconds on the monotonic clock() (time, not money) after which it is not used
    cached: bool  # False: computed for this request only (cache off)


class DashboardCache:
    """A dict of entries behind a lock. Computing happens outside the lock: two requests
    that miss the same key at the same moment both compute (in a sync gunicorn worker
    requests never overlap), and the last one stays."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict = {}

    def get(self, key, compute, ttl: int, *, refresh: bool = False) -> Entry:
        """The entry for ``key``: the kept one if it has not expired (and ``refresh`` is
        false), else ``compute()``'s result, kept for ``ttl`` seconds (0: not kept)."""
        if not refresh and ttl > 0:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and clock() < entry.expires:
                    return entry
        started, computed_at = clock(), wall_clock()
        value = compute()
        if ttl <= 0:
            with self._lock:
                self._entries.pop(key, None)
            return Entry(value, computed_at, started, cached=False)
        entry = Entry(value, computed_at, started + ttl, cached=True)
        with self._lock:
            self._entries[key] = entry
            self._prune()
        return entry

    def _prune(self) -> None:
        now = clock()
        for key in [k for k, e in self._entries.items() if e.expires <= now]:
            del self._entries[key]
        while len(self._entries) > MAX_ENTRIES:
            del self._entries[min(self._entries, key=lambda k: self._entries[k].expires)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def for_app(app) -> DashboardCache:
    """The cache of this application (one per app object, so per worker process; tests
    that create several apps do not share it)."""
    cache = app.extensions.get("dashboard_cache")
    if cache is None:
        cache = app.extensions.setdefault("dashboard_cache", DashboardCache())
    return cache
