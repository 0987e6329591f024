"""The computed dashboard, kept for every app server (docs/kpis.md, Speed: "The computed
dashboard is kept for a while").

The dashboard's figures are the same for every viewer of one date, period and scope until
the ledger changes, and computing them costs 0.3-1 s of CPU at a million items; several
executives open the same view every few seconds, on any of several gunicorn workers and
servers. So the computed ``kpis.Dashboard`` of a view is kept in the database (table
``dashboard_kept_views``, recovery/dashboard/models.py), where every worker finds it:

- younger than ``dashboard.cache_seconds`` (setting; 0 = no cache): shown as it is;
- older, up to ``STALE_FACTOR`` times that: still shown, with its time, while one worker —
  the one that claims the row first, across all servers — computes it again in a background
  thread, so no visitor waits for a computation that another one's visit can pay for;
- older still, missing, or asked for with Refresh: computed in the request and kept.

Only the computed figures are kept: nothing of the user (who may see the page is checked on
every request before the cache is looked at), no translated text (the reasons are lazy
strings, translated when the page is rendered), no database object (the figures are plain
values and rows). The drill-down lists are not cached: they are live.

The figures are stored pickled and signed with a key derived from the application's
SECRET_KEY (HMAC-SHA256), so that only this application's own writes are ever unpickled; a
row that does not verify, does not unpickle, or was written by a version of the code whose
figures lacked a field the code now has, is treated as missing. The table is a cache, not a
record: its rows are replaced and dropped (older than the stale window) without audit.

``wall_clock`` (naive UTC, the form stored in every table) is a module attribute so that
tests can move time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from recovery.core.timeutil import utcnow
from recovery.dashboard.models import KeptView
from recovery.extensions import db

log = logging.getLogger(__name__)

# Kept figures older than the time-to-live are still shown, while recomputed in the
# background, until they are this many times the time-to-live old (10 minutes at the
# default 60 s); `flask dashboard warm` every 5 minutes keeps the usual views inside it.
STALE_FACTOR = 10
# A claimed recomputation that has not finished after this long (its server stopped) may be
# claimed by another.
CLAIM_LEASE = timedelta(minutes=5)

wall_clock = utcnow
TABLE = KeptView.__table__


@dataclass(frozen=True)
class Entry:
    value: object
    computed_at: datetime  # when the computation started (aware UTC): the figures are as of then
    cached: bool  # False: computed for this request only (cache off)
    refreshing: bool = False  # older than the time-to-live: newer figures are being computed


def get(key: tuple, compute: Callable[[], object], ttl: int, *, refresh: bool = False) -> Entry:
    """The figures of the view ``key`` (a tuple of plain values with a stable repr):
    the kept ones as the module docstring says, else ``compute()``'s result, kept."""
    if ttl <= 0:
        started = wall_clock()
        return Entry(compute(), _aware(started), cached=False)
    app = current_app._get_current_object()
    name = key_name(key)
    if not refresh:
        row = _read(name)
        value = _loads(app, row.payload) if row is not None else None
        if value is not None:
            age = wall_clock() - row.computed_at
            if age < timedelta(seconds=ttl):
                return Entry(value, _aware(row.computed_at), cached=True)
            if age < timedelta(seconds=ttl * STALE_FACTOR):
                claimed = _claim(name)
                if claimed:
                    _start_refresh(app, name, compute, ttl)
                # "Being computed" only when it is: by us, or by another worker's claim
                # that holds — not while it waits for another view's recomputation.
                refreshing = claimed or (
                    row.refreshing_since is not None
                    and row.refreshing_since >= wall_clock() - CLAIM_LEASE
                )
                return Entry(value, _aware(row.computed_at), cached=True, refreshing=refreshing)
    started = wall_clock()
    value = compute()
    store(app, name, value, started, ttl)
    return Entry(value, _aware(started), cached=True)


def key_name(key: tuple) -> str:
    """The row's key: a digest of the view's key (a department's scope lists every
    department below it, which can be long)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()


def store(app, name: str, value: object, computed_at: datetime, ttl: int) -> None:
    """Keep ``value`` as computed at ``computed_at``, unless a computation that started
    later is kept already; drop rows too old to be shown."""
    row = {"key": name, "payload": _dumps(app, value), "computed_at": computed_at}
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(TABLE).values(**row, refreshing_since=None)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[TABLE.c.key],
            set_={
                "payload": statement.excluded.payload,
                "computed_at": statement.excluded.computed_at,
                "refreshing_since": None,
            },
            where=TABLE.c.computed_at <= statement.excluded.computed_at,
        )
    )
    oldest = computed_at - timedelta(seconds=max(ttl, 1) * STALE_FACTOR)
    db.session.execute(sa.delete(TABLE).where(TABLE.c.computed_at < oldest))
    db.session.commit()


# The kept rows are read and written on the session's own connection (a request holds one;
# a second one per request would double what the pool must give under load), and each
# write is committed at once: the computation before it has written nothing else that
# waits (the credit holds it brings up to date are committed by it).


def _read(name: str):
    query = sa.select(TABLE.c.payload, TABLE.c.computed_at, TABLE.c.refreshing_since).where(
        TABLE.c.key == name
    )
    return db.session.execute(query).first()


def _claim(name: str) -> bool:
    """True for the one caller, among all workers and servers, that takes the row's
    recomputation (nobody has it, or its claim lapsed) — and only while no other view is
    being recomputed: one background computation at a time for the whole installation, so
    that views that went stale together (after `dashboard warm`) are recomputed one after
    another on one core instead of all at once on every core, which stalled every page for
    a second in the load test (docs/performance.md, runs AD and AE). The others stay shown
    with their time meanwhile; the next visit claims them."""
    now = wall_clock()
    lapsed = now - CLAIM_LEASE
    other = TABLE.alias("other_view")
    another_running = (
        sa.select(other.c.key)
        .where(other.c.key != name, other.c.refreshing_since >= lapsed)
        .exists()
    )
    taken = db.session.execute(
        sa.update(TABLE)
        .where(
            TABLE.c.key == name,
            sa.or_(TABLE.c.refreshing_since.is_(None), TABLE.c.refreshing_since < lapsed),
            ~another_running,
        )
        .values(refreshing_since=now)
    )
    db.session.commit()
    return taken.rowcount == 1


def _release(name: str) -> None:
    db.session.execute(sa.update(TABLE).where(TABLE.c.key == name).values(refreshing_since=None))
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# The background recomputation

_running: set[threading.Thread] = set()
_running_lock = threading.Lock()


def _start_refresh(app, name: str, compute: Callable[[], object], ttl: int) -> None:
    thread = threading.Thread(
        target=_refresh, args=(app, name, compute, ttl), name="dashboard-refresh", daemon=True
    )
    with _running_lock:
        _running.add(thread)
    thread.start()


def _refresh(app, name: str, compute: Callable[[], object], ttl: int) -> None:
    try:
        with app.app_context():
            try:
                started = wall_clock()
                store(app, name, compute(), started, ttl)
            except Exception:
                # The kept figures stay shown; the next visit after the lease tries again.
                log.exception("recomputing a dashboard view failed")
                db.session.rollback()
                _release(name)
    finally:
        with _running_lock:
            _running.discard(threading.current_thread())


def wait_for_refreshes(seconds: int = 60) -> None:
    """Wait (up to ``seconds`` each) for the background recomputations started so far
    (tests)."""
    with _running_lock:
        threads = list(_running)
    for thread in threads:
        thread.join(seconds)


# ---------------------------------------------------------------------------------------------
# The stored form


def _secret(app) -> bytes:
    """A key of its own for the kept figures, derived from SECRET_KEY (the sessions' key is
    not used as it is for a second purpose)."""
    secret = app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"recovery.dashboard.kept-views", hashlib.sha256).digest()


def _dumps(app, value: object) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return hmac.new(_secret(app), body, hashlib.sha256).digest() + body


def _loads(app, payload: bytes) -> object | None:
    """The kept value, or None when it is not ours or does not fit the running code."""
    signature, body = payload[:32], payload[32:]
    expected = hmac.new(_secret(app), body, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        log.warning("a kept dashboard view does not carry this application's signature")
        return None
    try:
        value = pickle.loads(body)  # noqa: S301 - signed above by this application's secret
    except Exception:  # written by another version of the code (a class renamed, say)
        return None
    return value if _fits_the_code(value) else None


def _fits_the_code(value: object, depth: int = 0) -> bool:
    """True when every dataclass in ``value`` has each of its class's current fields: a row
    written before a field was added would otherwise fail in the template. (An attribute the
    class no longer declares is harmless: nothing reads it.)"""
    if depth > 20:
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = {field.name for field in dataclasses.fields(value)}
        state = getattr(value, "__dict__", None)
        if state is not None and not names <= set(state):
            return False
        children = [getattr(value, name, None) for name in names]
    elif isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = list(value)
    else:
        return True
    return all(_fits_the_code(child, depth + 1) for child in children)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)
