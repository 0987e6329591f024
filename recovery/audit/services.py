"""Writing and checking the audit trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses

import sqlalchemy as sa

from recovery.audit.chain import GENESIS, canonical_changes, jsonable, row_hash
from recovery.audit.context import current_actor
from recovery.audit.models import AuditLog
from recovery.core.bulk import insert_many
from recovery.core.timeutil import utcnow

audit_table = AuditLog.__table__


def _lock_chain(connection) -> None:
    """Serialise appends so that each row's prev_hash is the hash of the row before it.

    PostgreSQL: a transaction-level advisory lock, held until commit. SQLite: the flush that
    produced these rows already holds the database's single write lock.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))


def _last_hash(connection) -> str:
    last = connection.execute(
        sa.select(audit_table.c.hash).order_by(audit_table.c.id.desc()).limit(1)
    ).scalar()
    return last or GENESIS


def record_rows(connection, entries) -> None:
    """Append audit rows for ``entries``: (table_name, row_id, action, changes) — changes as
    a dict, or already as its canonical text (chain.canonical_changes, e.g. from
    insert_changes_text).

    The chain is computed here, in order (each row's prev_hash is the hash of the row before
    it), and the rows are then written in one bulk statement: COPY on PostgreSQL, the
    driver's executemany on SQLite (recovery.core.bulk) — an import of 100,000 rows appends
    100,000 audit rows."""
    actor = current_actor()
    _lock_chain(connection)
    prev = _last_hash(connection)
    rows = []
    for table_name, row_id, action, changes in entries:
        at = utcnow()
        text = changes if changes.__class__ is str else canonical_changes(changes)
        fields = {
            "at": at,
            "actor_id": actor.user_id,
            "actor_name": actor.name,
            "ip": actor.ip,
            "table_name": table_name,
            "row_id": str(row_id),
            "action": action,
            "changes": text,
        }
        digest = row_hash(prev_hash=prev, **fields)
        rows.append({**fields, "prev_hash": prev, "hash": digest})
        prev = digest
    insert_many(connection, audit_table, rows)


def _json_generic(value) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, separators=(",", ":"))


# A value as json.dumps(jsonable(value), ensure_ascii=False) writes it, by its exact class.
_JSON_VALUE = {
    str: encode_basestring,
    int: int.__repr__,
    bool: lambda value: "true" if value else "false",
    Decimal: lambda value: f'"{value}"',  # digits, sign, point, exponent: nothing to escape
    date: lambda value: f'"{value.isoformat()}"',
    datetime: lambda value: f'"{value.isoformat()}"',
}


def insert_changes_text(values: dict, row_id) -> str:
    """The canonical text of the audit entry of an inserted row — exactly
    chain.canonical_changes({"id": [None, row_id], column: [None, jsonable(value)], ...})
    over the non-null values, as the ORM listener records an insert — written directly:
    twice as fast as building the dict and encoding it, which counts when an import inserts
    100,000 rows (tests/imports/test_audit_text.py holds the two equal)."""
    pairs = sorted([("id", row_id), *[(k, v) for k, v in values.items() if v is not None]])
    return (
        "{"
        + ",".join(
            [
                f"{encode_basestring(key)}:[null,"
                f"{_JSON_VALUE.get(value.__class__, _json_generic)(value)}]"
                for key, value in pairs
            ]
        )
        + "}"
    )


@dataclass(frozen=True)
class ChainReport:
    rows: int
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(connection, batch_size: int = 5000) -> ChainReport:
    """Walk the trail in id order; report the first row whose hash or link is wrong."""
    prev = GENESIS
    count = 0
    last_id = None
    columns = [
        audit_table.c.id,
        audit_table.c.at,
        audit_table.c.actor_id,
        audit_table.c.actor_name,
        audit_table.c.ip,
        audit_table.c.table_name,
        audit_table.c.row_id,
        audit_table.c.action,
        audit_table.c.changes,
        audit_table.c.prev_hash,
        audit_table.c.hash,
    ]
    while True:
        query = sa.select(*columns).order_by(audit_table.c.id).limit(batch_size)
        if last_id is not None:
            query = query.where(audit_table.c.id > last_id)
        batch = connection.execute(query).all()
        if not batch:
            return ChainReport(rows=count)
        for row in batch:
            count += 1
            if row.prev_hash != prev:
                return ChainReport(count, row.id, "link to the previous row is broken")
            expected = row_hash(
                prev_hash=row.prev_hash,
                at=row.at,
                actor_id=row.actor_id,
                actor_name=row.actor_name,
                ip=row.ip,
                table_name=row.table_name,
                row_id=row.row_id,
                action=row.action,
                changes=row.changes,
            )
            if expected != row.hash:
                return ChainReport(count, row.id, "contents do not match the row's hash")
            prev = row.hash
            last_id = row.id
