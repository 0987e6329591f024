"""The figures targets are measured against, in SQL (rules in docs/targets.md).

For a period [start, end] looked at on ``as_of`` (the period is cut at ``as_of`` when it is
not over yet; a period that has not begun has no figures):

- **recovered**: receipts dated in the period. A person is credited with the receipts of the
  counterparties whose first-responsible person they were *on the receipt's date* (Beijing
  day; ``recovery.responsibility.queries.responsible_at``); a department with the receipts
  of the counterparties of that department *and every department below it*.
- **overdue at start / at end**: the ledger's overdue (due before the date, outstanding
  above zero, as of the date) of those counterparties as of the day before the period
  starts and as of its last day; the reduction is start − end, so the reductions of
  consecutive periods add up. A person is measured on the counterparties they hold at the
  end of the period (both dates, so a reassignment moves the whole account).
- **broken promises**: promises to pay falling due in the period, broken as of the day after
  it (or ``as_of`` when earlier) — ``recovery.activities.promises.promise_status_rows``;
  a person's are the ones they recorded (as in the routine monthly report), a department's
  those of its counterparties.
- **service-level breaches**: breaches whose deadline fell in the period
  (``recovery.worklist.service_levels.find_breaches``); a person's are those of the cases
  assigned to them, a department's those of its counterparties' cases.

Departments are the counterparty's department now (departments keep no history).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from recovery.activities.models import Promise
from recovery.auth.models import Department
from recovery.core.sqltime import day_end_utc
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger.models import Receipt
from recovery.ledger.queries import fen
from recovery.parties.models import Counterparty
from recovery.responsibility.queries import responsible_at
from recovery.worklist.service_levels import COMPANY_ZONE, find_breaches, to_utc

# China keeps no daylight-saving time: one offset turns a Beijing day into UTC moments in SQL.
COMPANY_UTC_OFFSET = int(COMPANY_ZONE.utcoffset(datetime(2000, 1, 1)).total_seconds())

receipt_t = Receipt.__table__
cp_t = Counterparty.__table__
promise_t = Promise.__table__

MEASURES = ("recovered", "overdue_start", "overdue_end", "broken_promises", "breaches")


def day_end(day: date) -> datetime:
    """The first moment after a Beijing day, naive UTC."""
    return to_utc(datetime.combine(day + timedelta(days=1), time()), COMPANY_ZONE)


@dataclass
class Figures:
    """Per key (a user id, or a department id with its sub-departments rolled in): amounts
    in fen, counts. ``total`` holds the whole company's (department grouping only)."""

    by: str
    values: dict = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(MEASURES, 0)))
    total: dict = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))

    def of(self, key) -> dict:
        return self.values[key] if key in self.values else dict.fromkeys(MEASURES, 0)

    def add(self, key, measure: str, amount: int) -> None:
        self.values[key][measure] += int(amount or 0)


# ---------------------------------------------------------------------------------------------
# The department tree


def department_parents() -> dict[int, int | None]:
    return dict(db.session.execute(sa.select(Department.id, Department.parent_id)).all())


def ancestors_and_self(department_id: int, parents: dict[int, int | None]) -> list[int]:
    chain, node, seen = [], department_id, set()
    while node is not None and node not in seen:  # a cycle would be a data error: stop
        seen.add(node)
        chain.append(node)
        node = parents.get(node)
    return chain


def subtree(department_id: int, parents: dict[int, int | None]) -> list[int]:
    return [d for d in parents if department_id in ancestors_and_self(d, parents)]


# ---------------------------------------------------------------------------------------------
# SQL pieces


def _overdue_per_counterparty(day: date):
    balances = ledger_queries.outstanding_items(day)
    return (
        sa.select(
            balances.c.counterparty_id.label("cp_id"),
            sa.func.sum(balances.c.outstanding_fen).label("fen"),
        )
        .where(balances.c.due_on < day, balances.c.outstanding_fen > 0)
        .group_by(balances.c.counterparty_id)
        .subquery()
    )


def _overdue_start_end(start: date, last: date):
    """A subquery: cp_id, start_fen (overdue as of the day before ``start``), end_fen
    (overdue as of ``last``)."""
    before = _overdue_per_counterparty(start - timedelta(days=1))
    after = _overdue_per_counterparty(last)
    both = sa.union_all(
        sa.select(before.c.cp_id, before.c.fen.label("start_fen"), sa.literal(0).label("end_fen")),
        sa.select(after.c.cp_id, sa.literal(0), after.c.fen),
    ).subquery("both_dates")
    return (
        sa.select(
            both.c.cp_id,
            sa.func.sum(both.c.start_fen).label("start_fen"),
            sa.func.sum(both.c.end_fen).label("end_fen"),
        )
        .group_by(both.c.cp_id)
        .subquery("overdue_dates")
    )


def _in_period(start: date, last: date):
    return sa.and_(receipt_t.c.received_on >= start, receipt_t.c.received_on <= last)


def _broken_promises(start: date, end: date, judged_on: date):
    from recovery.activities.promises import promise_status_rows

    status = promise_status_rows(judged_on).subquery("status")
    return status, sa.and_(
        status.c.status == "broken", status.c.due_on >= start, status.c.due_on <= end
    )


def _breaches(start: date, end: date, as_of: date):
    """Breaches whose deadline fell in the period, as of the end of ``as_of`` (never later
    than now)."""
    since, until = day_end(start - timedelta(days=1)), day_end(end)
    now = min(until, day_end(as_of), utcnow())
    return [b for b in find_breaches(now, since=since) if since <= b.deadline < until]


# ---------------------------------------------------------------------------------------------
# Figures per person / per department


def _span(start: date, end: date, as_of: date) -> date | None:
    """The last day of the period that has happened as of ``as_of``; None before it."""
    if as_of < start:
        return None
    return min(end, as_of)


def person_figures(start: date, end: date, as_of: date, *, conduct: bool = True) -> Figures:
    """Per person. ``conduct`` False leaves out broken promises and breaches (a completion
    needs only the amounts)."""
    figures = Figures("person")
    last = _span(start, end, as_of)
    if last is None:
        return figures
    # Recovered: the holder of the counterparty's seat on the receipt's day.
    holder = responsible_at(
        receipt_t.c.counterparty_id, day_end_utc(receipt_t.c.received_on, COMPANY_UTC_OFFSET)
    )
    credited = (
        sa.select(holder.label("key"), fen(receipt_t.c.amount).label("fen"))
        .where(_in_period(start, last))
        .subquery("credited")
    )
    for key, total in db.session.execute(
        sa.select(credited.c.key, sa.func.sum(credited.c.fen)).group_by(credited.c.key)
    ):
        figures.add(key, "recovered", total)
    # Overdue at both ends, of the counterparties held at the end of the period.
    overdue = _overdue_start_end(start, last)
    held = (
        sa.select(
            responsible_at(overdue.c.cp_id, sa.literal(day_end(last), sa.DateTime())).label("key"),
            overdue.c.start_fen,
            overdue.c.end_fen,
        )
        .select_from(overdue)
        .subquery("held")
    )
    for row in db.session.execute(
        sa.select(held.c.key, sa.func.sum(held.c.start_fen), sa.func.sum(held.c.end_fen)).group_by(
            held.c.key
        )
    ):
        figures.add(row[0], "overdue_start", row[1])
        figures.add(row[0], "overdue_end", row[2])
    if not conduct:
        return figures
    # Broken promises: the person who recorded them.
    status, broken = _broken_promises(start, end, min(end + timedelta(days=1), as_of))
    for key, count in db.session.execute(
        sa.select(promise_t.c.recorded_by_id, sa.func.count())
        .select_from(status)
        .join(promise_t, promise_t.c.id == status.c.promise_id)
        .where(broken)
        .group_by(promise_t.c.recorded_by_id)
    ):
        figures.add(key, "broken_promises", count)
    for breach in _breaches(start, end, as_of):
        if breach.assignee_id is not None:
            figures.add(breach.assignee_id, "breaches", 1)
    return figures


def department_figures(start: date, end: date, as_of: date, *, conduct: bool = True) -> Figures:
    """Per department, each with the figures of every department below it; and the
    company's total (counterparties without a department included). ``conduct`` False
    leaves out broken promises and breaches."""
    direct = Figures("department")
    last = _span(start, end, as_of)
    if last is not None:
        for key, total in db.session.execute(
            sa.select(cp_t.c.department_id, sa.func.sum(fen(receipt_t.c.amount)))
            .select_from(receipt_t)
            .join(cp_t, cp_t.c.id == receipt_t.c.counterparty_id)
            .where(_in_period(start, last))
            .group_by(cp_t.c.department_id)
        ):
            direct.add(key, "recovered", total)
        overdue = _overdue_start_end(start, last)
        for row in db.session.execute(
            sa.select(
                cp_t.c.department_id,
                sa.func.sum(overdue.c.start_fen),
                sa.func.sum(overdue.c.end_fen),
            )
            .select_from(overdue)
            .join(cp_t, cp_t.c.id == overdue.c.cp_id)
            .group_by(cp_t.c.department_id)
        ):
            direct.add(row[0], "overdue_start", row[1])
            direct.add(row[0], "overdue_end", row[2])
    if last is not None and conduct:
        status, broken = _broken_promises(start, end, min(end + timedelta(days=1), as_of))
        for key, count in db.session.execute(
            sa.select(cp_t.c.department_id, sa.func.count())
            .select_from(status)
            .join(cp_t, cp_t.c.id == status.c.counterparty_id)
            .where(broken)
            .group_by(cp_t.c.department_id)
        ):
            direct.add(key, "broken_promises", count)
        found = _breaches(start, end, as_of)
        if found:
            departments = dict(
                db.session.execute(
                    sa.select(cp_t.c.id, cp_t.c.department_id).where(
                        cp_t.c.id.in_({b.counterparty_id for b in found})
                    )
                ).all()
            )
            for breach in found:
                direct.add(departments.get(breach.counterparty_id), "breaches", 1)
    # Roll each department's own figures into itself and every department above it.
    parents = department_parents()
    figures = Figures("department")
    for key, measures in direct.values.items():
        for measure, amount in measures.items():
            figures.total[measure] += amount
            if key is not None:
                for department_id in ancestors_and_self(key, parents):
                    figures.add(department_id, measure, amount)
    return figures
