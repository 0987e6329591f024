"""Record every insert, update and delete of a business row, centrally.

Two ORM session events do the work, so no view or service writes audit code:
``before_flush`` loads the values a change is about to overwrite, ``after_flush`` (when new
rows have their keys) writes one audit row per changed business row, chained by hash.

Writes that bypass the unit of work (bulk Core statements) must call ``record_rows`` in
recovery.audit.services themselves.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from recovery.audit.chain import jsonable
from recovery.audit.models import AuditLog

REDACTED = "***"


class AuditTamperError(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


def _audited(obj) -> bool:
    return getattr(type(obj), "__audit__", True)


def _row_id(obj) -> str:
    identity = inspect(obj).identity
    if identity is None:
        mapper = inspect(obj).mapper
        identity = mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in identity)


def _column_keys(obj):
    return [attr.key for attr in inspect(obj).mapper.column_attrs]


def _present(obj, key, value):
    if key in getattr(type(obj), "__audit_redact__", ()):
        return None if value is None else REDACTED
    return jsonable(value)


def _insert_changes(obj) -> dict:
    state = inspect(obj)
    changes = {}
    for key in _column_keys(obj):
        if key in getattr(type(obj), "__audit_ignore__", ()):
            continue
        value = state.dict.get(key)
        if value is not None:
            changes[key] = [None, _present(obj, key, value)]
    return changes


def _update_changes(obj, stored: dict) -> dict:
    state = inspect(obj)
    changes = {}
    for key in _column_keys(obj):
        if key in getattr(type(obj), "__audit_ignore__", ()):
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else stored.get(key)
        after = history.added[0] if history.added else None
        if before == after:
            continue
        changes[key] = [_present(obj, key, before), _present(obj, key, after)]
    return changes


def _delete_changes(obj) -> dict:
    state = inspect(obj)
    changes = {}
    for key in _column_keys(obj):
        if key in getattr(type(obj), "__audit_ignore__", ()):
            continue
        value = state.dict.get(key)
        if value is not None:
            changes[key] = [_present(obj, key, value), None]
    return changes


def _stored_values(session: Session, obj) -> dict:
    """The row as stored now (before this flush writes), read by primary key."""
    mapper = inspect(obj).mapper
    table = mapper.local_table
    key = mapper.primary_key_from_instance(obj)
    condition = [column == value for column, value in zip(mapper.primary_key, key, strict=True)]
    row = session.connection().execute(table.select().where(*condition)).mappings().first()
    if row is None:
        return {}
    return {attr.key: row[attr.columns[0].key] for attr in mapper.column_attrs}


def _before_flush(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditLog):
            raise AuditTamperError("the audit trail is append-only")
    # An attribute changed without having been loaded (e.g. after a commit expired it) has
    # no "before" in its history: read the stored row now, before the flush overwrites it.
    stored = session.info.setdefault("audit_stored", {})
    for obj in session.dirty:
        if not _audited(obj):
            continue
        state = inspect(obj)
        if any(state.committed_state.get(k, None) is NO_VALUE for k in state.committed_state):
            stored[id(obj)] = _stored_values(session, obj)
    for obj in session.deleted:
        if not _audited(obj):
            continue
        for key in _column_keys(obj):
            getattr(obj, key)


def _after_flush(session: Session, flush_context) -> None:
    from recovery.audit.services import record_rows

    pending = []
    for obj in session.new:
        if _audited(obj):
            pending.append((obj.__table__.name, _row_id(obj), "insert", _insert_changes(obj)))
    stored = session.info.pop("audit_stored", {})
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            changes = _update_changes(obj, stored.get(id(obj), {}))
            if changes:
                pending.append((obj.__table__.name, _row_id(obj), "update", changes))
    for obj in session.deleted:
        if _audited(obj):
            pending.append((obj.__table__.name, _row_id(obj), "delete", _delete_changes(obj)))
    if pending:
        record_rows(session.connection(), pending)


_installed = False


def install() -> None:
    """Attach the listeners to every ORM session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    _installed = True
