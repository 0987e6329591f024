"""Each counterparty's overdue figures — the overdue amount, Σ amount × days past due, the
oldest due date — summed from its open items, or read from the figures kept per
counterparty (``overdue_figures``) where they still hold (docs/ledger.md, "Kept overdue
figures").

The kept figures are written in the transaction of every ledger write, by the same hook that
keeps the credit holds (recovery/credit/services.reevaluate), and hold until ``valid_until``:
the first day an item falls due or is recognised, or the day after a payment or credit dated
after the day they were summed on. From ``evaluated_on`` to then the overdue items are the
same, so the amount × days grows by the overdue amount each day; any other change is a write,
which keeps them again. Where no kept row holds (a counterparty never kept, or past its
``valid_until``), the figures are summed from the items: the answer is the same either way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from recovery.core import bulk
from recovery.core.sqltime import as_date, days_between
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger.models import Item, OverdueFigures

items_t = Item.__table__
kept_t = OverdueFigures.__table__

CHUNK = 500
KEPT = ("evaluated_on", "valid_until", "overdue_fen", "fen_days", "oldest_due_on")


def summed(as_of: date, counterparty_ids):
    """A SELECT of (counterparty_id, overdue_fen, fen_days, days_overdue, oldest_due_on) of
    those counterparties (a SELECT or a list of ids; None: everybody) with an overdue item as of the
    date, summed from their open items (the ledger's outstanding, DOMAIN §3)."""
    b = ledger_queries.outstanding_items(as_of, open_only=True)
    days = days_between(as_of, b.c.due_on)
    query = sa.select(
        b.c.counterparty_id,
        sa.func.sum(b.c.outstanding_fen).label("overdue_fen"),
        sa.func.sum(b.c.outstanding_fen * days).label("fen_days"),
        sa.func.max(days).label("days_overdue"),
        sa.func.min(b.c.due_on).label("oldest_due_on"),
    ).where(b.c.due_on < as_of, b.c.outstanding_fen > 0)
    if isinstance(counterparty_ids, list):
        query = query.where(bulk.one_of(b.c.counterparty_id, counterparty_ids))
    elif counterparty_ids is not None:
        query = query.where(b.c.counterparty_id.in_(counterparty_ids))
    return query.group_by(b.c.counterparty_id)


def _holds(as_of: date):
    """The condition of a kept row holding on the date."""
    return sa.and_(
        kept_t.c.evaluated_on <= as_of,
        sa.or_(kept_t.c.valid_until.is_(None), kept_t.c.valid_until > as_of),
    )


def figures(as_of: date, counterparty_ids):
    """A SELECT of the same columns as ``summed``: the kept figures of the counterparties
    where they hold on the date, moved on to it, and the summed ones of the others.

    The rows that hold are read once (a materialised CTE): both the kept figures and the
    "everybody else" of the summed part come from them, where two reads of ``overdue_figures``
    cost twice."""
    held = (
        sa.select(
            kept_t.c.counterparty_id,
            kept_t.c.evaluated_on,
            kept_t.c.overdue_fen,
            kept_t.c.fen_days,
            kept_t.c.oldest_due_on,
        )
        .where(kept_t.c.counterparty_id.in_(counterparty_ids), _holds(as_of))
        .cte()  # anonymous: a statement may hold the figures of two sets of counterparties
        .prefix_with("MATERIALIZED")
    )
    elapsed = days_between(as_of, held.c.evaluated_on)
    kept = sa.select(
        held.c.counterparty_id,
        held.c.overdue_fen,
        (held.c.fen_days + held.c.overdue_fen * elapsed).label("fen_days"),
        days_between(as_of, held.c.oldest_due_on).label("days_overdue"),
        held.c.oldest_due_on,
    ).where(held.c.overdue_fen > 0)
    holding = sa.select(held.c.counterparty_id)
    rest = counterparty_ids.where(counterparty_ids.selected_columns[0].not_in(holding))
    return sa.union_all(kept, summed(as_of, rest))


def _validity(as_of: date, ids: list[int] | None) -> dict[int, date]:
    """{counterparty_id: the first day after ``as_of`` its summed figures may change without a
    write} for those of ``ids`` (None: everybody) that have one: an open item falling due (the
    day after its due date) or being recognised, or a payment or credit dated after the date
    (its items' figures are summed from their movements: the next day, to be safe)."""
    c = items_t.c
    open_now = ledger_queries.fen(c.open_amount) != sa.literal_column("0")
    moved_later = sa.and_(c.last_movement_on.is_not(None), c.last_movement_on > as_of)
    query = (
        sa.select(
            c.counterparty_id,
            sa.func.min(sa.case((c.due_on >= as_of, c.due_on))).label("next_due"),
            sa.func.min(sa.case((c.recognized_on > as_of, c.recognized_on))).label("next_rec"),
            sa.func.max(sa.case((moved_later, 1), else_=0)).label("moved_later"),
        )
        .where(sa.or_(open_now, moved_later))
        .group_by(c.counterparty_id)
    )
    if ids is not None:
        query = query.where(bulk.one_of(c.counterparty_id, ids))
    found = {}
    for row in db.session.execute(query):
        days = []
        if row.next_due is not None:
            due = as_date(row.next_due)
            if (date.max - due).days >= 1:
                days.append(due + timedelta(days=1))
        if row.next_rec is not None:
            days.append(as_date(row.next_rec))
        if row.moved_later:
            days.append(as_of + timedelta(days=1))
        if days:
            found[row.counterparty_id] = min(days)
    return found


def keep(counterparty_ids, as_of: date) -> int:
    """Sum and keep the figures of these counterparties as of the date, in the current
    transaction (a row for each, owing or not). Returns the rows written."""
    ids = sorted({int(cp) for cp in counterparty_ids if cp is not None})
    for start in range(0, len(ids), CHUNK):
        _write(as_of, ids[start : start + CHUNK])
    return len(ids)


def keep_all(as_of: date, *, read_at: datetime | None = None) -> int:
    """Sum and keep the figures of every counterparty as of the date: one pass over the open
    items (a job's work: a second or two at a million items). ``read_at``: when the job
    began reading; figures kept since by a write's own transaction are fresher and stay."""
    from recovery.parties.models import Counterparty

    cp_t = Counterparty.__table__
    ids = list(db.session.scalars(sa.select(cp_t.c.id).order_by(cp_t.c.id)))
    _write(as_of, ids, everybody=True, read_at=read_at)
    return len(ids)


def _write(
    as_of: date, ids: list[int], *, everybody: bool = False, read_at: datetime | None = None
) -> None:
    rows = {
        cp: {
            "counterparty_id": cp,
            "evaluated_on": as_of,
            "valid_until": None,
            "overdue_fen": 0,
            "fen_days": 0,
            "oldest_due_on": None,
        }
        for cp in ids
    }
    for row in db.session.execute(summed(as_of, None if everybody else ids)):
        if row.counterparty_id in rows:
            rows[row.counterparty_id].update(
                overdue_fen=int(row.overdue_fen),
                fen_days=int(row.fen_days),
                oldest_due_on=as_date(row.oldest_due_on),
            )
    for cp, day in _validity(as_of, None if everybody else ids).items():
        if cp in rows:
            rows[cp]["valid_until"] = day
    _upsert(list(rows.values()), read_at)


def _upsert(rows: list[dict], read_at: datetime | None) -> None:
    if not rows:
        return
    now = utcnow()
    for row in rows:
        row["evaluated_at"] = now
    statement = bulk.upsert_statement(
        kept_t,
        "counterparty_id",
        (*KEPT, "evaluated_at"),
        where=None if read_at is None else kept_t.c.evaluated_at < read_at,
    )
    for start in range(0, len(rows), 1000):
        db.session.execute(statement, rows[start : start + 1000])


def stale_ids(as_of: date) -> list[int]:
    """The counterparties whose kept figures no longer hold on the date (valid_until
    reached)."""
    return list(
        db.session.scalars(sa.select(kept_t.c.counterparty_id).where(kept_t.c.valid_until <= as_of))
    )
