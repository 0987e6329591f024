"""The hash chain over audit rows: pure functions, no database."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

GENESIS = "0" * 64


def jsonable(value):
    """A JSON-safe, stable representation of a column value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return str(value)


def canonical_changes(changes: dict) -> str:
    return json.dumps(changes, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    ip: str | None,
    table_name: str,
    row_id: str,
    action: str,
    changes: str,
) -> str:
    """SHA-256 over the previous row's hash and every field of this row."""
    payload = json.dumps(
        [prev_hash, at.isoformat(), actor_id, actor_name, ip, table_name, row_id, action, changes],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
