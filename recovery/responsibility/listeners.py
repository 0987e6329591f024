"""One ORM event writes the history of responsible persons changed on the records themselves.

The ledger's item form, the counterparty form and the item import all change
``responsible_id`` (and anything may change ``Counterparty.leader_id``) through the ORM
session; this ``before_flush`` listener turns each such change into a ResponsibilityChange row
in the same flush, so no path can change who answers for a debt without leaving history.
The reassignment, leader and hand-over services of this package write with Core bulk
statements and their own history rows (with the supervisor's reason), which this listener
does not see. Rows created with a responsible person are not changes: the first holder is
the ``from`` of the earliest change, or the current holder when nothing changed since.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from recovery.audit.context import current_actor

# Stored as the reason of a change made on the record (translated when shown).
EDITED_ON_RECORD = "edited-on-record"

_installed = False


def _old_value(session: Session, obj, key: str):
    """The value ``key`` had before this flush (read from the row when it was not loaded)."""
    state = inspect(obj)
    history = state.attrs[key].history
    if history.deleted:
        return history.deleted[0]
    if not history.added and key in state.dict:
        return state.dict[key]
    mapper = state.mapper
    table = mapper.local_table
    column = mapper.get_property(key).columns[0]
    return session.connection().scalar(
        table.select().with_only_columns(column).where(table.c.id == state.identity[0])
    )


def _changed(session: Session, obj, key: str, relation: str):
    """(old id, new id, new user or None) when the seat really changes in this flush, set
    either as the id (``key``) or through the relationship (``relation``), else None."""
    state = inspect(obj)
    if state.identity is None:
        return None
    assigned = state.attrs[relation].history.added
    if assigned:
        # Assigned through the relationship: the id is only copied during the flush.
        user = assigned[0]
        new = inspect(user).identity[0] if user is not None and inspect(user).identity else None
        if user is not None and new is None:
            return _old_value(session, obj, key), None, user  # a user made in this flush
    elif state.attrs[key].history.added:
        user, new = None, state.attrs[key].history.added[0]
    else:
        return None
    old = _old_value(session, obj, key)
    return None if old == new else (old, new, user)


def _record(session: Session, flush_context, instances) -> None:
    from recovery.ledger.models import Item
    from recovery.parties.models import Counterparty
    from recovery.responsibility.models import ResponsibilityChange

    watched = [obj for obj in session.dirty if isinstance(obj, Item | Counterparty)]
    if not watched:
        return
    actor_id = current_actor().user_id
    for obj in watched:
        seats = [("responsible_id", "responsible", "responsible")]
        if isinstance(obj, Counterparty):
            seats.append(("leader_id", "leader", "leader"))
        for key, relation, role in seats:
            change = _changed(session, obj, key, relation)
            if change is None:
                continue
            old, new, user = change
            is_item = isinstance(obj, Item)
            row = ResponsibilityChange(
                item=obj if is_item else None,
                role=role,
                kind="initial" if old is None else "reassignment",
                from_user_id=old,
                to_user_id=new,
                reason=EDITED_ON_RECORD,
                approved_by_id=actor_id,
            )
            # Through the relationships where an id is only copied during this flush.
            if not is_item:
                row.counterparty = obj
            elif inspect(obj).attrs.counterparty.history.added:
                row.counterparty = obj.counterparty
            else:
                row.counterparty_id = obj.counterparty_id
            if user is not None:
                row.to_user = user
            session.add(row)


def install() -> None:
    """Attach the listener to every ORM session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _record)
    _installed = True
