"""Promises to pay (承诺还款): kept or broken, computed from the receipts in SQL.

As of a date D, a promise (not cancelled, made on or before D) is
- kept when the counterparty's receipts dated from ``promised_on`` to ``due_on`` (both
  included, and not after D) add up to at least its amount;
- broken when D is after ``due_on`` and it was not kept;
- open otherwise.
Every receipt of the counterparty in the window counts, whichever item it pays: the debtor
kept its word if the money came. Two promises whose windows overlap may count the same
receipt (each is judged on its own words).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from recovery.activities.models import Promise
from recovery.core.money import Money
from recovery.extensions import db
from recovery.ledger.models import Receipt
from recovery.ledger.queries import fen

STATUSES = ("open", "kept", "broken")

promises_t = Promise.__table__
receipts_t = Receipt.__table__


def _status_select(as_of: date):
    """SELECT promise_id, counterparty_id, amount, due_on, paid, status (grouped per promise);
    not filtered: the callers add what they need."""
    paid_fen = sa.func.coalesce(sa.func.sum(fen(receipts_t.c.amount)), 0)
    status = sa.case(
        (paid_fen >= fen(promises_t.c.amount), "kept"),
        (promises_t.c.due_on < as_of, "broken"),
        else_="open",
    )
    return (
        sa.select(
            promises_t.c.id.label("promise_id"),
            promises_t.c.counterparty_id,
            promises_t.c.amount,
            promises_t.c.due_on,
            sa.type_coerce(paid_fen, Money).label("paid"),
            status.label("status"),
        )
        .select_from(promises_t)
        .outerjoin(
            receipts_t,
            sa.and_(
                receipts_t.c.counterparty_id == promises_t.c.counterparty_id,
                receipts_t.c.received_on >= promises_t.c.promised_on,
                receipts_t.c.received_on <= promises_t.c.due_on,
                receipts_t.c.received_on <= as_of,
            ),
        )
        .group_by(
            promises_t.c.id,
            promises_t.c.counterparty_id,
            promises_t.c.amount,
            promises_t.c.due_on,
        )
    )


def promise_status_rows(as_of: date, *, counterparty_ids=None):
    """A SELECT of every promise made by ``as_of`` and not cancelled, with columns
    promise_id, counterparty_id, amount, due_on, paid, status ('open'|'kept'|'broken').

    ``counterparty_ids``: a list of ids or a SELECT of ids (e.g. a sales user's accounts).
    Filter on status by wrapping it: ``rows = promise_status_rows(d).subquery()``."""
    query = _status_select(as_of).where(
        promises_t.c.cancelled.is_(False), promises_t.c.promised_on <= as_of
    )
    if counterparty_ids is not None:
        query = query.where(promises_t.c.counterparty_id.in_(counterparty_ids))
    return query


def promise_status(promise: Promise, as_of: date) -> str:
    """'open', 'kept' or 'broken' as of a date, by the same SQL as promise_status_rows (a
    cancelled promise is still judged on its receipts; the lists leave it out)."""
    db.session.flush()
    row = db.session.execute(
        _status_select(as_of).where(promises_t.c.id == promise.id)
    ).one_or_none()
    return row.status if row is not None else "open"


def promise_paid(promise: Promise, as_of: date):
    """What the counterparty paid in the promise's window, as of a date (Decimal)."""
    db.session.flush()
    row = db.session.execute(
        _status_select(as_of).where(promises_t.c.id == promise.id)
    ).one_or_none()
    return row.paid if row is not None else None
