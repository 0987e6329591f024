"""Rate limit: a fixed one-minute window per token (or per signed-in user), kept in memory.

The limit is the ``API_RATE_LIMIT`` config value (requests per minute; 0 switches it off;
default 600, or the environment's RECOVERY_API_RATE_LIMIT). The counters live in each
process: with N app servers (gunicorn workers) a client may reach N × the limit in the
worst case — a cheap guard against a runaway ERP loop, not an accounting quota. A shared
limit would keep the counters in Redis or the database; we chose memory so that a credit
check costs no extra write.
"""

from __future__ import annotations

import os
import threading
import time

from flask import current_app, g
from flask_login import current_user

from recovery.api.errors import ApiError

WINDOW_SECONDS = 60
DEFAULT_LIMIT = 600

_lock = threading.Lock()


def limit_from_environment() -> int:
    """RECOVERY_API_RATE_LIMIT (requests per minute), else the default."""
    text = os.environ.get("RECOVERY_API_RATE_LIMIT", "").strip()
    return int(text) if text.isdigit() else DEFAULT_LIMIT


def _client_key() -> str | None:
    token = g.get("api_token")
    if token is not None:
        return f"token:{token.id}"
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return None


def check_rate_limit(now: float | None = None) -> None:  # float-ok: seconds
    """Count this request; raise 429 with Retry-After when the window is full."""
    limit = int(current_app.config.get("API_RATE_LIMIT", DEFAULT_LIMIT) or 0)
    client = _client_key()
    if limit <= 0 or client is None:
        return
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = client
    with _lock:
        # client -> (window, count), kept on the app (one set of counters per process)
        _windows = current_app.extensions.setdefault("recovery-api-rate", {})
        if len(_windows) > 10_000:  # drop the windows that have passed
            for stale in [k for k, v in _windows.items() if v[0] != window]:
                del _windows[stale]
        start, count = _windows.get(key, (window, 0))
        if start != window:
            start, count = window, 0
        count += 1
        _windows[key] = (start, count)
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
        raise ApiError(
            429,
            code="rate_limited",
            details={"limit": limit, "window_seconds": WINDOW_SECONDS},
            headers={"Retry-After": str(retry_after)},
        )
