"""The monthly report's own figures, in SQL: the receivables by counterparty and department on
the due basis (one scan serves the department table and the top overdue counterparties), the
month's roll-forward of the receivables, and the cases as they stood at the month's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from recovery.auth.models import Department
from recovery.cases.models import RecoveryCase, Strategy
from recovery.core.money import ZERO, from_fen
from recovery.extensions import db
from recovery.ledger import queries, rules
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Counterparty

DUE_BUCKETS = rules.DUE_BUCKETS


@dataclass
class DueLine:
    counterparty_id: int
    code: str
    name: str
    department_id: int | None
    department: str
    buckets: dict[str, Decimal]
    overdue: Decimal

    @property
    def outstanding(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


def ledger_lines(as_of: date):
    """One scan of the ledger for the whole report: per (counterparty, owning department) the
    outstanding by days past due, the overdue, and by account age. Returns the due-basis lines
    and the provision matrix built from the same rows."""
    from recovery.provisions import services as provisions

    balances = queries.outstanding_items(as_of)
    amount = balances.c.outstanding_fen
    sums = [
        sa.func.sum(
            sa.case((queries.bucket_condition(b, balances.c, as_of), amount), else_=0)
        ).label(b)
        for b in DUE_BUCKETS
    ]
    overdue = sa.func.sum(sa.case((balances.c.due_on < as_of, amount), else_=0)).label("overdue")
    inner = (
        sa.select(
            balances.c.counterparty_id.label("cp"),
            balances.c.department_id.label("dept"),
            *sums,
            overdue,
            *provisions.age_sums(balances, as_of),
        )
        .where(amount != 0)
        .group_by(balances.c.counterparty_id, balances.c.department_id)
        .subquery("ledger_lines")
    )
    cp_t = Counterparty.__table__
    dept_t = Department.__table__
    query = (
        sa.select(
            inner,
            cp_t.c.code.label("code"),
            cp_t.c.name.label("name"),
            dept_t.c.name.label("department_name"),
        )
        .join(cp_t, cp_t.c.id == inner.c.cp)
        .outerjoin(dept_t, dept_t.c.id == inner.c.dept)
    )
    rows = db.session.execute(query).mappings().all()
    lines = [
        DueLine(
            row["cp"],
            row["code"],
            row["name"],
            row["dept"],
            row["department_name"] or "",
            {b: from_fen(int(row[b] or 0)) for b in DUE_BUCKETS},
            from_fen(int(row["overdue"] or 0)),
        )
        for row in rows
    ]
    return lines, provisions.matrix_from_rows(as_of, rows)


@dataclass
class RollForward:
    """Receivables of the month: opening + recognised − paid − credited/written off = closing.
    "Paid" is the money applied to items in the month (receipts not yet applied are the
    unapplied credit, shown apart); the opening is derived, so the four always agree."""

    closing: Decimal
    recognised: Decimal
    applied: Decimal
    credit_notes: Decimal
    written_off: Decimal
    received: Decimal  # receipts dated in the month, applied or not
    unapplied_credit: Decimal  # at the month's end

    @property
    def opening(self) -> Decimal:
        return self.closing - self.recognised + self.applied + self.credit_notes + self.written_off


def _sum(query) -> Decimal:
    return from_fen(int(db.session.scalar(query) or 0))


def roll_forward(first: date, last: date, closing: Decimal) -> RollForward:
    items = Item.__table__
    apps = Application.__table__
    adjustments = Adjustment.__table__
    receipts = Receipt.__table__

    def credited(kind: str) -> Decimal:
        return _sum(
            sa.select(sa.func.sum(queries.fen(adjustments.c.amount))).where(
                adjustments.c.kind == kind,
                adjustments.c.status == "approved",
                adjustments.c.dated_on.between(first, last),
            )
        )

    return RollForward(
        closing=closing,
        recognised=_sum(
            sa.select(sa.func.sum(queries.fen(items.c.amount))).where(
                items.c.recognized_on.between(first, last)
            )
        ),
        applied=_sum(
            sa.select(sa.func.sum(queries.fen(apps.c.amount))).where(
                apps.c.applied_on.between(first, last)
            )
        ),
        credit_notes=credited("credit_note"),
        written_off=credited("write_off"),
        received=_sum(
            sa.select(sa.func.sum(queries.fen(receipts.c.amount))).where(
                receipts.c.received_on.between(first, last)
            )
        ),
        # Every counterparty's unapplied credit, summed: received by then − applied by then,
        # read from the receipts' stored unapplied amounts and the movements after the day.
        unapplied_credit=from_fen(queries.unapplied_credit_total(last)),
    )


def receipts_by_method(first: date, last: date) -> list[tuple[str, int, Decimal]]:
    receipts = Receipt.__table__
    rows = db.session.execute(
        sa.select(receipts.c.method, sa.func.count(), sa.func.sum(queries.fen(receipts.c.amount)))
        .where(receipts.c.received_on.between(first, last))
        .group_by(receipts.c.method)
        .order_by(receipts.c.method)
    )
    return [(method, int(count), from_fen(int(total or 0))) for method, count, total in rows]


# ---------------------------------------------------------------------------------------------
# Cases at the month's end


@dataclass
class CaseFigures:
    by_status: dict[str, list] = field(default_factory=dict)  # status -> [count, outstanding]
    by_strategy: dict[str, list] = field(default_factory=dict)  # kind or "" -> [count, amount]
    opened: int = 0
    closed: dict[str, int] = field(default_factory=dict)  # outcome -> count


def status_at(case_row, end: datetime) -> str:
    """A case's status at a moment, from its timestamps. Cases keep no status history, so a
    case started by hand (no first action) after the moment reads as in progress already."""
    if case_row.closed_at is not None and case_row.closed_at < end:
        return "closed"
    if case_row.referred_at is not None and case_row.referred_at < end:
        return "referred"
    if case_row.status in ("open", "in_progress"):
        return case_row.status
    if case_row.first_action_at is not None and case_row.first_action_at < end:
        return "in_progress"
    return "open"


def case_figures(
    first: date, last: date, start: datetime, end: datetime, outstanding: dict[int, Decimal]
) -> CaseFigures:
    """Cases opened on or before the month's last day, as they stood at its end (``end``, the
    first moment after it, naive UTC); the amount is their counterparty's outstanding."""
    cases = RecoveryCase.__table__
    strategies = Strategy.__table__
    latest = (
        sa.select(strategies.c.case_id, sa.func.max(strategies.c.id).label("strategy_id"))
        .where(
            strategies.c.created_at < end,
            strategies.c.status.not_in(("rejected", "cancelled")),
        )
        .group_by(strategies.c.case_id)
        .subquery("latest")
    )
    rows = db.session.execute(
        sa.select(
            cases.c.id,
            cases.c.counterparty_id,
            cases.c.status,
            cases.c.outcome,
            cases.c.opened_on,
            cases.c.first_action_at,
            cases.c.referred_at,
            cases.c.closed_at,
            strategies.c.kind,
        )
        .outerjoin(latest, latest.c.case_id == cases.c.id)
        .outerjoin(strategies, strategies.c.id == latest.c.strategy_id)
        .where(cases.c.opened_on <= last)
    ).all()
    figures = CaseFigures()
    for row in rows:
        status = status_at(row, end)
        amount = outstanding.get(row.counterparty_id, ZERO)
        if row.opened_on >= first:
            figures.opened += 1
        if status == "closed":
            if row.closed_at >= start:
                outcome = row.outcome or ""
                figures.closed[outcome] = figures.closed.get(outcome, 0) + 1
            entry = figures.by_status.setdefault(status, [0, ZERO])
            entry[0] += 1
            continue
        entry = figures.by_status.setdefault(status, [0, ZERO])
        entry[0] += 1
        entry[1] += amount
        kind = figures.by_strategy.setdefault(row.kind or "", [0, ZERO])
        kind[0] += 1
        kind[1] += amount
    return figures
