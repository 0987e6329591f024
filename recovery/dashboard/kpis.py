"""The dashboard's figures (docs/kpis.md): ``compute`` gives the twelve of the KPI command,
``dashboard`` everything the page shows. Formulas in rules.py, SQL in queries.py, month-end
snapshots in snapshots.py; this module only puts them together.

A figure that cannot be computed (a division by zero: no sales, no receivables, no target)
is None, and ``Report.reasons`` says why in words; never NaN, never a made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from recovery.dashboard import queries, rules, snapshots
from recovery.dashboard.queries import Scope

KEYS = (
    "receivables",
    "overdue",
    "overdue_ratio",
    "dso",
    "cei",
    "add",
    "collection_rate",
    "avg_days_to_pay",
    "avg_days_late",
    "recovered",
    "target",
    "completion",
)
AMOUNT_KEYS = ("receivables", "overdue", "recovered", "target")
RATIO_KEYS = ("overdue_ratio", "collection_rate", "completion")
DAY_KEYS = ("dso", "add", "avg_days_to_pay", "avg_days_late")
INDEX_KEYS = ("cei",)

REASONS = {
    "overdue_ratio": _l("There are no receivables as of the date: no ratio to compute."),
    "dso": _l("No sales were recognised by the date: days sales outstanding has no meaning."),
    "cei": _l(
        "Nothing was collectable in the period (beginning receivables + sales − current "
        "receivables is zero)."
    ),
    "add": _l("Needs both the DSO and sales in the period (best possible DSO divides by them)."),
    "collection_rate": _l(
        "No receivables at the start of the period and no sales in it: nothing to collect."
    ),
    "avg_days_to_pay": _l("No item was paid off in the period."),
    "avg_days_late": _l("No item was paid off in the period."),
    "target": _l("No target is set for this period."),
    "completion": _l("No target, or a zero target, for this period: nothing to compare with."),
    "targets_missing": _l("Targets are not available yet."),
}


PERIOD_REVERSED = _l("The period starts after it ends: choose a start on or before the end.")


class KpiError(ValueError):
    """A period that cannot be reported on; the message says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _target_for(date_from: date, date_to: date, scope: Scope):
    """The recovery target of the period and None, or None and the reason there is none
    (recovery.targets.services.target_for: the company's, or a department's with its tree)."""
    try:
        from recovery.targets.services import target_for
    except ImportError:  # the targets part is not installed
        return None, REASONS["targets_missing"]
    if scope.no_department:
        return None, REASONS["target"]
    found = target_for(date_from, date_to, department_id=scope.department_id)
    if not found.get("has_target"):
        return None, REASONS["target"]
    return found["recovery"], None


@dataclass
class Report:
    """The figures of a period date_from..as_of (balances as of ``as_of``) and what they are
    made of, for the page's explanations and the drill-downs."""

    as_of: date
    date_from: date
    scope: Scope
    balances: queries.Balances
    beginning: Decimal  # receivables as of the day before the period
    sales: Decimal
    recovered: Decimal
    settled: queries.Settled
    by_department: dict = field(default_factory=dict)  # department_id -> Balances
    dso_steps: list = field(default_factory=list)
    best_dso: Decimal | None = None
    figures: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)

    @property
    def days(self) -> int:
        return rules.days_in(self.date_from, self.as_of)

    @property
    def beginning_date(self) -> date:
        return self.date_from - timedelta(days=1)


def check_period(date_from: date, as_of: date) -> None:
    if date_from > as_of:
        raise KpiError(PERIOD_REVERSED)


def report(
    as_of: date, *, date_from: date | None = None, department_id=None, by_department=None
) -> Report:
    """Every KPI of the period ``date_from`` (default: the 1st of as_of's month) .. as_of.

    ``department_id``: an id, None (the company) or a queries.Scope; ``by_department``: the
    balances per department as of ``as_of`` when the caller has them already."""
    date_from = date_from or rules.month_start(as_of)
    check_period(date_from, as_of)
    scope = department_id if isinstance(department_id, Scope) else queries.scope_for(department_id)
    if by_department is None:
        by_department = queries.balances_by_department(as_of, scope)
    balances = queries.total_balances(by_department.values())
    beginning = snapshots.receivables_at(date_from - timedelta(days=1), scope)
    sales = snapshots.flow_between("sales", date_from, as_of, scope)
    recovered = snapshots.flow_between("received", date_from, as_of, scope)
    settled = queries.settled_between(date_from, as_of, scope)
    result = Report(
        as_of, date_from, scope, balances, beginning, sales, recovered, settled, by_department
    )

    dso, result.dso_steps = _dso(as_of, scope, balances.receivables)
    result.best_dso = rules.best_possible_dso(balances.current, sales, result.days)
    target, target_reason = _target_for(date_from, as_of, scope)
    figures = {
        "receivables": balances.receivables,
        "overdue": balances.overdue,
        "overdue_ratio": rules.ratio(balances.overdue, balances.receivables),
        "dso": dso,
        "cei": rules.cei(beginning, sales, balances.receivables, balances.current),
        "add": rules.average_days_delinquent(dso, result.best_dso),
        "collection_rate": rules.collection_rate(recovered, beginning, sales),
        "avg_days_to_pay": rules.average(settled.days_to_pay, settled.count),
        "avg_days_late": rules.average(settled.days_late, settled.count),
        "recovered": recovered,
        "target": target,
        "completion": rules.ratio(recovered, target) if target is not None else None,
    }
    result.figures = figures
    result.reasons = {key: REASONS[key] for key, value in figures.items() if value is None}
    if target_reason is not None:
        result.reasons["target"] = target_reason
    return result


def _dso(as_of: date, scope: Scope, receivables: Decimal):
    first = queries.first_recognition(as_of, scope)
    if first is None:
        return None, []
    stored = set(snapshots.stored_month_ends())
    monthly: dict[date, Decimal] = {}

    def sales_between(start: date, end: date) -> Decimal:
        # Whole stored months from the snapshot (read in one go the first time), else live.
        if start.day == 1 and rules.is_month_end(end) and end in stored:
            if not monthly:
                figures = snapshots.month_figures(sorted(m for m in stored if m <= as_of), scope)
                monthly.update({m: f.sales for m, f in figures.items()})
            return monthly[end]
        return queries.sales_between(start, end, scope)

    return rules.count_back_dso(receivables, rules.count_back_periods(as_of, sales_between, first))


def compute(as_of: date, *, date_from: date | None = None, department_id=None) -> dict:
    """The twelve figures of ``flask --app recovery report kpi`` (KEYS): amounts and ratios
    as Decimal, None where undefined (see ``report(...).reasons``)."""
    return report(as_of, date_from=date_from, department_id=department_id).figures


# ---------------------------------------------------------------------------------------------
# The whole page


@dataclass
class TrendPoint:
    day: date
    receivables: Decimal
    overdue: Decimal
    recovered: Decimal  # in the month ending on (or: to) that day


@dataclass
class TargetRow:
    label: str  # month | quarter | year
    start: date
    end: date
    recovered: Decimal
    target: Decimal | None
    completion: Decimal | None
    reason: object | None


@dataclass
class Dashboard:
    report: Report
    trend: list[TrendPoint]
    targets: list[TargetRow]
    top_overdue: list
    cases: dict
    holds: queries.Holds
    disputed: tuple[int, Decimal]
    lawsuits: list | None
    limitation: dict | None
    snapshot_months: int  # how many of the trend's month-ends came from snapshots


def trend(as_of: date, scope: Scope, balances: queries.Balances) -> tuple[list[TrendPoint], int]:
    """The last twelve months: the eleven month-ends before as_of's month, and as_of."""
    month_ends = [rules.months_back(as_of, k) for k in range(11, 0, -1)]
    figures = snapshots.month_figures(month_ends, scope)
    points = [
        TrendPoint(m, figures[m].receivables, figures[m].overdue, figures[m].received)
        for m in month_ends
    ]
    this_month = snapshots.flow_between("received", rules.month_start(as_of), as_of, scope)
    points.append(TrendPoint(as_of, balances.receivables, balances.overdue, this_month))
    return points, sum(1 for m in month_ends if figures[m].stored)


def target_rows(as_of: date, scope: Scope) -> list[TargetRow]:
    """Recovered this month, quarter and year to date against the whole period's target."""
    periods = (
        ("month", rules.month_start(as_of), rules.month_end(as_of)),
        ("quarter", rules.quarter_start(as_of), rules.quarter_end(as_of)),
        ("year", rules.year_start(as_of), rules.year_end(as_of)),
    )
    rows = []
    for label, start, end in periods:
        recovered = snapshots.flow_between("received", start, as_of, scope)
        target, reason = _target_for(start, end, scope)
        completion = rules.ratio(recovered, target) if target is not None else None
        if target is not None and completion is None:
            reason = REASONS["completion"]
        rows.append(TargetRow(label, start, end, recovered, target, completion, reason))
    return rows


def lawsuits(as_of: date, scope: Scope) -> list | None:
    """Suits by stage with the amount at stake (recovery.legal.services.lawsuits_by_stage),
    summed over the departments of the scope; None when legal is not installed."""
    try:
        from recovery.legal.services import lawsuits_by_stage
    except ImportError:
        return None
    if scope.whole_company:
        return list(lawsuits_by_stage(as_of))
    totals: dict[str, list] = {}
    for department_id in scope.department_ids:
        for row in lawsuits_by_stage(as_of, department_id):
            entry = totals.setdefault(row.stage, [0, Decimal("0.00")])
            entry[0] += row.count
            entry[1] += row.amount
    # Legal lists every stage, in order, for each department: the first keeps the order.
    return [StageTotal(stage, count, amount) for stage, (count, amount) in totals.items()]


@dataclass
class StageTotal:
    """One stage of the suits of a department tree (legal's StageRow, summed)."""

    stage: str
    count: int
    amount: Decimal


def limitation(as_of: date, scope: Scope) -> dict | None:
    """{days: items whose limitation ends within that many days} for the warning thresholds
    (setting limitation.warning_days); None when the limitation part is not installed."""
    try:
        from recovery.limitation.services import expiring_count
        from recovery.settings.services import get_setting
    except ImportError:
        return None
    thresholds = sorted(get_setting("limitation.warning_days"))
    if not thresholds:
        return None
    within = thresholds[-1]
    return {within: expiring_count(as_of, within, scope.department_id)}


def company_today() -> date:
    """Today in the company's time zone: the one date whose credit holds are stored."""
    from recovery.credit.services import company_today as today

    return today()


def dashboard(
    as_of: date, *, date_from: date | None = None, department_id=None, today: date | None = None
) -> Dashboard:
    """Everything the page shows. The credit holds: as of today (``today``, default the
    company's), the stored statuses of recovery.credit — the credit holds page's figures
    (the caller brings the calendar's changes in first: credit.services.refresh_stale());
    as of any other date, estimated from the hold rules of DOMAIN §4 as of that date."""
    date_from = date_from or rules.month_start(as_of)
    check_period(date_from, as_of)
    scope = department_id if isinstance(department_id, Scope) else queries.scope_for(department_id)
    stored_holds = as_of == (today or company_today())
    queries.without_jit()
    with queries.one_reading():  # the panels share what they read
        return _dashboard(as_of, date_from, scope, stored_holds)


def _dashboard(as_of: date, date_from: date, scope: Scope, stored_holds: bool) -> Dashboard:
    if scope.whole_company:  # one reading of the open items for the three
        by_department, top, holds = queries.company_overview(as_of, holds=not stored_holds)
        result = report(
            as_of, date_from=date_from, department_id=scope, by_department=by_department
        )
    else:
        result = report(as_of, date_from=date_from, department_id=scope)
        top = queries.top_overdue(as_of, scope)
        holds = None if stored_holds else queries.credit_holds(as_of, scope)
    if stored_holds:
        holds = queries.stored_holds(scope)
    points, stored = trend(as_of, scope, result.balances)
    return Dashboard(
        report=result,
        trend=points,
        targets=target_rows(as_of, scope),
        top_overdue=top,
        cases=queries.cases_matrix(as_of, scope),
        holds=holds,
        disputed=queries.disputed_total(as_of, scope),
        lawsuits=lawsuits(as_of, scope),
        limitation=limitation(as_of, scope),
        snapshot_months=stored,
    )
