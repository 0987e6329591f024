"""Promises to pay (承诺还款): kept or broken, computed from the receipts in SQL.

As of a date D, a promise (not cancelled, made on or before D) is
- kept when the counterparty's receipts dated from ``promised_on`` to ``due_on`` (both
  included, and not after D) add up to at least its amount;
- broken when D is after ``due_on`` and it was not kept;
- open otherwise.
Every receipt of the counterparty in the window counts, whichever item it pays: the debtor
kept its word if the money came. Two promises whose windows overlap may count the same
receipt (each is judged on its own words).

A broken promise is **made good** as of D when the receipts from ``promised_on`` up to D
(after the due date too) add up to its amount: it stays *broken* here (the word was not
kept), but credit control stops holding for it (docs/credit.md). ``judged_promises`` is the
one SQL builder of all this: the activities pages, the worklists and reports, and credit
control's hold rule all read it, so they cannot disagree about what a broken promise is.
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


def judged_promises(as_of, *, made_good: bool = False, only_not_made_good: bool = False):
    """SELECT, one row per promise (grouped; not filtered — callers add their WHERE, e.g.
    ``current(query, as_of)``): promise_id, counterparty_id, amount, due_on,
    paid (in the promise's window, not after ``as_of``), status ('open'|'kept'|'broken').

    ``as_of`` is a date or a bind parameter (credit control prepares its statement once).
    ``made_good``: also paid_to_date (the receipts from promised_on up to ``as_of``) and
    made_good (paid_to_date covers the amount); the join then reads the receipts up to
    ``as_of`` instead of up to the due date. ``only_not_made_good``: only the promises whose
    receipts up to ``as_of`` do not cover them (implies ``made_good``) — credit control's
    "broken and not made good" (status 'broken') and "still open" (status 'open')."""
    made_good = made_good or only_not_made_good
    p, r = promises_t.c, receipts_t.c
    amount_fen = fen(p.amount)
    in_window = r.received_on <= p.due_on
    joined = [
        r.counterparty_id == p.counterparty_id,
        r.received_on >= p.promised_on,
        r.received_on <= as_of,
    ]
    if made_good:
        paid_fen = sa.func.coalesce(sa.func.sum(sa.case((in_window, fen(r.amount)), else_=0)), 0)
        to_date_fen = sa.func.coalesce(sa.func.sum(fen(r.amount)), 0)
    else:  # only the window's receipts are read
        joined.append(in_window)
        paid_fen = sa.func.coalesce(sa.func.sum(fen(r.amount)), 0)
    status = sa.case((paid_fen >= amount_fen, "kept"), (p.due_on < as_of, "broken"), else_="open")
    columns = [
        p.id.label("promise_id"),
        p.counterparty_id,
        p.amount,
        p.due_on,
        sa.type_coerce(paid_fen, Money).label("paid"),
        status.label("status"),
    ]
    if made_good:
        columns += [
            sa.type_coerce(to_date_fen, Money).label("paid_to_date"),
            (to_date_fen >= amount_fen).label("made_good"),
        ]
    query = (
        sa.select(*columns)
        .select_from(promises_t)
        .outerjoin(receipts_t, sa.and_(*joined))
        .group_by(p.id, p.counterparty_id, p.amount, p.due_on)
    )
    if only_not_made_good:
        query = query.having(to_date_fen < amount_fen)
    return query


def current(query, as_of):
    """Only the promises that count as of the date: made by then and not cancelled."""
    return query.where(promises_t.c.cancelled.is_(False), promises_t.c.promised_on <= as_of)


def promise_status_rows(as_of: date, *, counterparty_ids=None):
    """A SELECT of every promise made by ``as_of`` and not cancelled, with columns
    promise_id, counterparty_id, amount, due_on, paid, status ('open'|'kept'|'broken').

    ``counterparty_ids``: a list of ids or a SELECT of ids (e.g. a sales user's accounts).
    Filter on status by wrapping it: ``rows = promise_status_rows(d).subquery()``."""
    query = current(judged_promises(as_of), as_of)
    if counterparty_ids is not None:
        query = query.where(promises_t.c.counterparty_id.in_(counterparty_ids))
    return query


def promise_status(promise: Promise, as_of: date) -> str:
    """'open', 'kept' or 'broken' as of a date, by the same SQL as promise_status_rows (a
    cancelled promise is still judged on its receipts; the lists leave it out)."""
    db.session.flush()
    row = db.session.execute(
        judged_promises(as_of).where(promises_t.c.id == promise.id)
    ).one_or_none()
    return row.status if row is not None else "open"


def promise_paid(promise: Promise, as_of: date):
    """What the counterparty paid in the promise's window, as of a date (Decimal)."""
    db.session.flush()
    row = db.session.execute(
        judged_promises(as_of).where(promises_t.c.id == promise.id)
    ).one_or_none()
    return row.paid if row is not None else None
