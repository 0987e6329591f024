"""Refusals of the cases domain, and the optimistic-locking check that produces one of them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from recovery.audit.models import AuditLog
from recovery.auth.models import User
from recovery.extensions import db


class CaseError(ValueError):
    """A refused change to a case, strategy or extension request; ``field`` names the input
    at fault (None: the form as a whole)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(CaseError):
    """Somebody saved the record after this user loaded it (optimistic locking)."""


def last_change(obj) -> tuple[str, object]:
    """(who, when) of the last saved change of a case or strategy.

    Cases keep ``updated_by``/``updated_at``; strategies do not, so their last audit row
    (written for every change, decisions included) answers instead."""
    if hasattr(obj, "updated_at"):
        who = obj.updated_by.display_name if obj.updated_by is not None else _l("the system")
        return who, obj.updated_at
    row = db.session.execute(
        sa.select(AuditLog.actor_id, AuditLog.actor_name, AuditLog.at)
        .where(AuditLog.table_name == obj.__tablename__, AuditLog.row_id == str(obj.id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return _l("somebody"), None
    user = db.session.get(User, row.actor_id) if row.actor_id else None
    return (user.display_name if user else row.actor_name), row.at


def stale_error(obj, *, typed: bool = True) -> StaleEdit:
    """The refusal of a save from an old version: "changed by X at T". ``typed``: the form
    is shown again with what the user typed (else it was a button: nothing was done)."""
    who, when = last_change(obj)
    moment = format_datetime(when, "short") if when else "—"
    if typed:
        message = _l(
            "Changed by %(who)s at %(when)s after you opened it: your changes were not saved. "
            "They are shown again below beside the current values; check them and save again.",
            who=who,
            when=moment,
        )
    else:
        message = _l(
            "Changed by %(who)s at %(when)s after you opened it: nothing was done. "
            "Look at the current state and try again.",
            who=who,
            when=moment,
        )
    return StaleEdit(message)


def check_version(obj, expected, *, typed: bool = True) -> None:
    """Refuse a save made from a form showing an older version of ``obj``."""
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        expected = None
    if expected != obj.version:
        raise stale_error(obj, typed=typed)


def flush_checked(obj) -> None:
    """Flush; a concurrent save between our read and our write (the version_id_col check
    of the UPDATE) is refused like a stale form."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(
            _l("Somebody else saved this record at the same moment; open it again.")
        ) from error
