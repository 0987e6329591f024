"""Writing and checking the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from recovery.audit.chain import GENESIS, canonical_changes, row_hash
from recovery.audit.context import current_actor
from recovery.audit.models import AuditLog
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
    """Append audit rows for ``entries``: (table_name, row_id, action, changes dict)."""
    actor = current_actor()
    _lock_chain(connection)
    prev = _last_hash(connection)
    rows = []
    for table_name, row_id, action, changes in entries:
        at = utcnow()
        text = canonical_changes(changes)
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
    connection.execute(audit_table.insert(), rows)


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
