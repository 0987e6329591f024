"""What a flush changed: the values an attribute had before and after it (for the session
listeners that keep derived figures in step: credit holds, limitation signs)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session


def attribute_values(session: Session, obj, attribute: str) -> set:
    """The values ``attribute`` had before and after this flush; read from the row when the
    attribute was never loaded (an object changed after a commit expired it)."""
    state = inspect(obj)
    history = state.attrs[attribute].history
    values = set(history.added or ()) | set(history.deleted or ()) | set(history.unchanged or ())
    values = {v for v in values if v is not None}
    if not values and state.identity is not None:
        table = state.mapper.local_table
        column = state.mapper.get_property(attribute).columns[0]
        value = session.connection().scalar(
            sa.select(column).where(table.c.id == state.identity[0])
        )
        if value is not None:
            values.add(value)
    return values


_installed: set[str] = set()


def install_session_listeners(name: str, *, after_flush, before_commit, forget) -> None:
    """Attach a keeper's listeners to every ORM session, once per ``name``: ``after_flush``
    notes what a flush touched, ``before_commit`` writes what follows from it, ``forget``
    drops the notes when the outermost transaction ends (committed, rolled back, closed)."""
    if name in _installed:
        return

    def transaction_end(session: Session, transaction) -> None:
        if transaction.parent is None:
            forget(session)

    event.listen(Session, "after_flush", after_flush)
    event.listen(Session, "before_commit", before_commit)
    event.listen(Session, "after_rollback", forget)
    event.listen(Session, "after_transaction_end", transaction_end)
    _installed.add(name)
