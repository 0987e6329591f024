"""The monthly report for head office (篇三 12): the month's receivables, aging (both bases),
recoveries against targets, rankings, collection work, cases, lawsuits, provisions and
limitation risks, as of the month's last day. docs/monthly-report.md describes every section.

Each section is built from its owner's functions. A section whose source is not installed is
listed as not available, with the function it needs, never filled with made-up figures.
``build`` gathers the figures; ``render_pdf`` and ``render_xlsx`` lay them out.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from recovery.core.money import ZERO, display_amount
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.monthly import queries
from recovery.monthly.workbook import Heading, Quantity, Ratio, Sheet, write_workbook
from recovery.worklist.reports import Period, month_of

# ---------------------------------------------------------------------------------------------
# What a report is made of


@dataclass
class Table:
    title: object
    columns: list
    rows: list[list] = field(default_factory=list)
    total: list | None = None
    note: object = ""


@dataclass
class Section:
    key: str
    title: object
    source: str  # the functions the figures come from
    available: bool = True
    missing: list[str] = field(default_factory=list)  # what is not installed
    figures: list[tuple[object, object]] = field(default_factory=list)  # (label, value)
    tables: list[Table] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)
    notes: list[object] = field(default_factory=list)


@dataclass
class MonthlyReport:
    month: Period
    company: str
    generated_at: datetime
    generated_by: str
    sections: list[Section]

    @property
    def as_of(self) -> date:
        return self.month.last

    @property
    def unavailable(self) -> list[Section]:
        return [section for section in self.sections if not section.available]

    @property
    def missing_sources(self) -> list[str]:
        """Every function a section (or a chart in it) needed and did not find."""
        found = []
        for section in self.sections:
            for name in section.missing:
                if name not in found:
                    found.append(name)
        return found


class ReportError(ValueError):
    """A month that cannot be reported on; the message says why."""


def parse_month(text: str) -> Period:
    """``YYYY-MM`` → the month; anything else is refused with the reason."""
    text = (text or "").strip()
    parts = text.split("-")
    if (
        len(parts) == 2
        and len(parts[0]) == 4
        and len(parts[1]) == 2
        and text.replace("-", "").isdigit()
    ):
        year, month = int(parts[0]), int(parts[1])
        if 1 <= month <= 12 and year >= 1900:
            return month_of(date(year, month, 1))
    raise ReportError(_l("%(text)s is not a month written YYYY-MM (e.g. 2026-03).", text=text))


def check_month(month: Period, today: date) -> None:
    if month.first > today:
        raise ReportError(
            _l("%(month)s has not begun: a report covers a month that has.", month=month.label)
        )


# ---------------------------------------------------------------------------------------------
# Other parts' functions, found at run time


def resolve(*paths: str) -> Callable | None:
    """The first of ``module:function`` that exists. A module that is absent counts as not
    installed; an error inside a module that exists is raised (a bug is not "missing")."""
    for path in paths:
        module_name, _, attribute = path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                continue
            raise
        function = getattr(module, attribute, None)
        if function is not None:
            return function
    return None


SOURCES = {
    "kpis": ("recovery.dashboard.kpis:report",),
    "trend": ("recovery.dashboard.kpis:trend",),
    "line_chart": ("recovery.dashboard.charts:line_chart",),
    "bar_chart": ("recovery.dashboard.charts:bar_chart",),
    "completion": ("recovery.targets.services:completion",),
    "rankings": ("recovery.targets.services:rankings",),
    "lawsuits": ("recovery.legal.services:lawsuits_by_stage",),
    "expiry_rows": ("recovery.limitation.services:expiry_rows",),
}


def source_name(key: str) -> str:
    return SOURCES[key][0].replace(":", ".")


# ---------------------------------------------------------------------------------------------
# Labels


def _labels():
    from recovery.cases.labels import CASE_STATUS_LABELS, OUTCOME_LABELS, STRATEGY_KIND_LABELS
    from recovery.ledger.codes import RECEIPT_METHODS
    from recovery.ledger.routes import AGE_BUCKET_LABELS, DUE_BUCKET_LABELS

    return {
        "due": DUE_BUCKET_LABELS,
        "age": AGE_BUCKET_LABELS,
        "statuses": CASE_STATUS_LABELS,
        "outcomes": OUTCOME_LABELS,
        "kinds": STRATEGY_KIND_LABELS,
        "methods": {code: c.label for code, c in RECEIPT_METHODS.items()},
    }


def ratio(part: Decimal, whole: Decimal) -> Ratio | None:
    """part ÷ whole as a share; None ("—") when the whole is zero."""
    if not whole:
        return None
    return Ratio((part / whole).quantize(Decimal("0.0001")))


NO_DEPARTMENT = _l("No department")


# ---------------------------------------------------------------------------------------------
# Building


@dataclass
class Context:
    month: Period
    today: date
    labels: dict
    charts: dict  # name -> renderer, or None
    due: list[queries.DueLine] = field(default_factory=list)
    outstanding_by_counterparty: dict[int, Decimal] = field(default_factory=dict)

    @property
    def as_of(self) -> date:
        return self.month.last


def _chart(ctx: Context, section: Section, kind: str, *args, **kwargs) -> None:
    renderer = ctx.charts.get(kind)
    if renderer is None:
        section.missing.append(source_name(kind))
        return
    section.charts.append(renderer(*args, **kwargs))  # Markup: SVG drawn from numbers


def _unavailable(key: str, title, sources: list[str]) -> Section:
    return Section(
        key,
        title,
        ", ".join(sources),
        available=False,
        missing=list(sources),
        notes=[
            _l(
                "Not available: this part of the application (%(source)s) is not installed. "
                "Nothing is shown rather than figures made up.",
                source=", ".join(sources),
            )
        ],
    )


def kpi_section(ctx: Context) -> Section:
    title = _l("Key indicators")
    kpi_report = resolve(*SOURCES["kpis"])
    if kpi_report is None:
        return _unavailable("kpis", title, [source_name("kpis")])
    result = kpi_report(ctx.as_of, date_from=ctx.month.first)
    figures = result.figures
    reasons = result.reasons
    section = Section("kpis", title, source_name("kpis"))
    shown = (
        ("receivables", _l("Receivables"), "amount"),
        ("overdue", _l("Overdue"), "amount"),
        ("overdue_ratio", _l("Overdue ratio"), "ratio"),
        ("dso", _l("Days sales outstanding (count-back)"), "days"),
        ("cei", _l("Collection effectiveness index"), "percent"),
        ("add", _l("Average days delinquent"), "days"),
        ("collection_rate", _l("Collection rate (回款率)"), "ratio"),
        ("avg_days_to_pay", _l("Average days to pay (items settled in the month)"), "days"),
        ("avg_days_late", _l("Average days late (items settled in the month)"), "days"),
        ("recovered", _l("Recovered in the month"), "amount"),
        ("target", _l("Recovery target of the month"), "amount"),
        ("completion", _l("Completion of the target"), "ratio"),
    )
    table = Table(_l("Indicators of the month"), [_l("Indicator"), _l("Value"), _l("Note")])
    for key, label, kind in shown:
        value = figures.get(key)
        if value is not None and kind == "ratio":
            value = Ratio(Decimal(value))
        elif value is not None and kind == "percent":
            value = Ratio(Decimal(value) / 100)
        elif value is not None and kind == "days":
            value = Quantity(Decimal(value))
        table.rows.append([label, value, str(reasons.get(key, "")) if value is None else ""])
    section.tables.append(table)
    trend_of = resolve(*SOURCES["trend"])
    if trend_of is None:
        section.missing.append(source_name("trend"))
        trend = []
    else:
        trend, _stored = trend_of(ctx.as_of, result.scope, result.balances)
    if trend:
        labels = [point.day.strftime("%Y-%m") for point in trend]
        _chart(
            ctx,
            section,
            "line_chart",
            str(_l("Receivables, overdue and recoveries, last 12 months")),
            labels,
            [
                (str(_l("Receivables")), [p.receivables for p in trend]),
                (str(_l("Overdue")), [p.overdue for p in trend]),
                (str(_l("Recovered in the month")), [p.recovered for p in trend]),
            ],
            width=720,
            testid="trend-chart",
        )
        section.tables.append(
            Table(
                _l("Last 12 months"),
                [_l("Month"), _l("Receivables"), _l("Overdue"), _l("Recovered in the month")],
                [
                    [lbl, p.receivables, p.overdue, p.recovered]
                    for lbl, p in zip(labels, trend, strict=True)
                ],
            )
        )
    return section


def _department_rows(lines: list[queries.DueLine]) -> list[list]:
    totals: dict[str, list[Decimal]] = {}
    for line in lines:
        entry = totals.setdefault(line.department, [ZERO, ZERO, ZERO])
        entry[0] += line.outstanding
        entry[1] += line.buckets["not_due"]
        entry[2] += line.overdue
    rows = []
    for name in sorted(totals, key=lambda n: (n == "", n)):
        outstanding, not_due, overdue = totals[name]
        rows.append(
            [name or str(NO_DEPARTMENT), outstanding, not_due, overdue, ratio(overdue, outstanding)]
        )
    return rows


def receivables_section(ctx: Context) -> Section:
    section = Section(
        "receivables",
        _l("Receivables"),
        "recovery.ledger.queries.outstanding_items (SQL)",
    )
    closing = sum((line.outstanding for line in ctx.due), ZERO)
    overdue = sum((line.overdue for line in ctx.due), ZERO)
    flow = queries.roll_forward(ctx.month.first, ctx.month.last, closing)
    section.figures = [
        (_l("Receivables at the month's end"), closing),
        (_l("Of which overdue"), overdue),
        (_l("Overdue ratio"), ratio(overdue, closing)),
        (_l("Money received in the month"), flow.received),
        (_l("Unapplied credit at the month's end"), flow.unapplied_credit),
    ]
    section.tables.append(
        Table(
            _l("Receivables of the month"),
            [_l("Movement"), _l("Amount")],
            [
                [_l("Opening (the previous month's end)"), flow.opening],
                [_l("Recognised in the month"), flow.recognised],
                [_l("Paid (money applied to items)"), -flow.applied],
                [_l("Credit notes"), -flow.credit_notes],
                [_l("Write-offs"), -flow.written_off],
            ],
            total=[_l("Closing"), flow.closing],
            note=_l("Money received and not applied to any item is unapplied credit, shown apart."),
        )
    )
    methods = queries.receipts_by_method(ctx.month.first, ctx.month.last)
    section.tables.append(
        Table(
            _l("Money received in the month, by method"),
            [_l("Method"), _l("Receipts"), _l("Amount")],
            [[ctx.labels["methods"].get(m, m), count, amount] for m, count, amount in methods],
            total=[_l("Total"), sum(c for _m, c, _a in methods), flow.received],
        )
    )
    department_rows = _department_rows(ctx.due)
    section.tables.append(
        Table(
            _l("By department"),
            [
                _l("Department"),
                _l("Outstanding"),
                _l("Not due"),
                _l("Overdue"),
                _l("Overdue ratio"),
            ],
            department_rows,
            total=[_l("Total"), closing, closing - overdue, overdue, ratio(overdue, closing)],
        )
    )
    by_counterparty: dict[int, list] = {}
    for line in ctx.due:
        entry = by_counterparty.setdefault(line.counterparty_id, [line.code, line.name, ZERO, ZERO])
        entry[2] += line.outstanding
        entry[3] += line.overdue
    top = sorted(
        (entry for entry in by_counterparty.values() if entry[3] > 0),
        key=lambda e: (-e[3], e[0]),
    )[:10]
    section.tables.append(
        Table(
            _l("The 10 largest overdue counterparties"),
            [_l("Code"), _l("Counterparty"), _l("Outstanding"), _l("Overdue")],
            [list(entry) for entry in top],
        )
    )
    if department_rows:
        _chart(
            ctx,
            section,
            "bar_chart",
            str(_l("Overdue by department")),
            [row[0] for row in department_rows],
            [row[3] for row in department_rows],
            width=720,
            testid="overdue-by-department",
        )
    return section


def aging_section(ctx: Context, matrix) -> Section:
    section = Section(
        "aging",
        _l("Aging"),
        "recovery.ledger.queries (SQL); account age from recovery.provisions.services.matrix",
    )
    due_totals = {b: sum((line.buckets[b] for line in ctx.due), ZERO) for b in queries.DUE_BUCKETS}
    total = sum(due_totals.values(), ZERO)
    section.tables.append(
        Table(
            _l("By days past due (collection view)"),
            [_l("Days past due"), _l("Outstanding"), _l("Share")],
            [
                [ctx.labels["due"][b], due_totals[b], ratio(due_totals[b], total)]
                for b in queries.DUE_BUCKETS
            ],
            total=[_l("Total"), total, ratio(total, total)],
        )
    )
    age_totals = matrix.bucket_totals()
    age_total = sum(age_totals.values(), ZERO)
    section.tables.append(
        Table(
            _l("By account age (账龄, accounting view)"),
            [_l("Account age"), _l("Outstanding"), _l("Share")],
            [
                [ctx.labels["age"][b], age_totals[b], ratio(age_totals[b], age_total)]
                for b in age_totals
            ],
            total=[_l("Total"), age_total, ratio(age_total, age_total)],
        )
    )
    departments: dict[str, dict[str, Decimal]] = {}
    for line in ctx.due:
        row = departments.setdefault(line.department, dict.fromkeys(queries.DUE_BUCKETS, ZERO))
        for b in queries.DUE_BUCKETS:
            row[b] += line.buckets[b]
    section.tables.append(
        Table(
            _l("By department, days past due"),
            [_l("Department"), *(ctx.labels["due"][b] for b in queries.DUE_BUCKETS)],
            [
                [name or str(NO_DEPARTMENT), *(values[b] for b in queries.DUE_BUCKETS)]
                for name, values in sorted(departments.items(), key=lambda kv: (kv[0] == "", kv[0]))
            ],
            total=[_l("Total"), *(due_totals[b] for b in queries.DUE_BUCKETS)],
        )
    )
    section.tables.append(
        Table(
            _l("By department, account age"),
            [_l("Department"), *(ctx.labels["age"][b] for b in age_totals)],
            [
                [row.name or str(NO_DEPARTMENT), *(row.buckets[b] for b in age_totals)]
                for row in matrix.by_department()
            ],
            total=[_l("Total"), *(age_totals[b] for b in age_totals)],
        )
    )
    if total:
        _chart(
            ctx,
            section,
            "bar_chart",
            str(_l("Outstanding by days past due")),
            [str(ctx.labels["due"][b]) for b in queries.DUE_BUCKETS],
            [due_totals[b] for b in queries.DUE_BUCKETS],
            width=720,
            testid="aging-due",
        )
    if age_total:
        _chart(
            ctx,
            section,
            "bar_chart",
            str(_l("Outstanding by account age")),
            [str(ctx.labels["age"][b]) for b in age_totals],
            [age_totals[b] for b in age_totals],
            width=720,
            testid="aging-age",
        )
    return section


def _completion_row(label, result: dict) -> list:
    target = result["target"]
    actual = result["actual"]
    has_target = target.get("has_target", True)
    return [
        label,
        actual["recovery"],
        target["recovery"] if has_target else None,
        Ratio(result["ratio"]["recovery"]) if result["ratio"]["recovery"] is not None else None,
        actual["overdue_reduction"],
        target["overdue_reduction"] if has_target else None,
        Ratio(result["ratio"]["overdue_reduction"])
        if result["ratio"]["overdue_reduction"] is not None
        else None,
    ]


TARGET_COLUMNS = (
    _l("Period"),
    _l("Recovered"),
    _l("Recovery target"),
    _l("Completion"),
    _l("Overdue reduction"),
    _l("Reduction target"),
    _l("Completion"),
)


def targets_section(ctx: Context) -> Section:
    title = _l("Recoveries against targets")
    completion = resolve(*SOURCES["completion"])
    if completion is None:
        return _unavailable("targets", title, [source_name("completion")])
    section = Section("targets", title, source_name("completion"))
    as_of = ctx.as_of
    # The month and the year to date (本月, 本年累计): each is a read of the ledger.
    periods = (
        (_l("The month"), ctx.month.first, ctx.month.last),
        (_l("The year, to the month's end"), date(as_of.year, 1, 1), date(as_of.year, 12, 31)),
    )
    table = Table(_l("The company"), list(TARGET_COLUMNS))
    explanations = []
    for label, start, end in periods:
        result = completion(start, end, as_of=as_of)
        table.rows.append(_completion_row(label, result))
        reason = result["explanation"].get("recovery")
        if reason and reason not in explanations:
            explanations.append(reason)
    table.note = " ".join(str(e) for e in explanations)
    section.tables.append(table)
    section.notes.append(
        _l(
            "Recovered to the month's end against the target of the whole period; the overdue "
            "reduction is the overdue at the period's start less the overdue at the month's end."
        )
    )
    return section


def rankings_section(ctx: Context) -> Section:
    title = _l("Rankings")
    rankings = resolve(*SOURCES["rankings"])
    if rankings is None:
        return _unavailable("rankings", title, [source_name("rankings")])
    section = Section("rankings", title, source_name("rankings"))
    columns = [
        _l("Rank"),
        _l("Name"),
        _l("Department"),
        _l("Recovered"),
        _l("Recovery target"),
        _l("Completion"),
        _l("Overdue reduction"),
        _l("Broken promises"),
        _l("Service-level breaches"),
    ]
    for by, label in (("department", _l("By department")), ("person", _l("By person"))):
        rows = rankings(ctx.month.first, ctx.month.last, by=by, as_of=ctx.as_of)
        section.tables.append(
            Table(
                label,
                columns,
                [
                    [
                        row.rank,
                        row.name,
                        row.department or "",
                        row.recovered,
                        row.recovery_target,
                        Ratio(row.completion) if row.completion is not None else None,
                        row.overdue_reduction,
                        row.broken_promises,
                        row.breaches,
                    ]
                    for row in rows
                ],
            )
        )
    return section


def work_section(ctx: Context) -> Section:
    from recovery.worklist.labels import report_labels
    from recovery.worklist.reports import build_report, monthly_table

    section = Section(
        "work",
        _l("Collection work by department (篇三 11–12)"),
        "recovery.worklist.reports.build_report",
    )
    report = build_report(ctx.month, ctx.today, scope_ids=None)
    columns, rows = monthly_table(report, report_labels(), "department")
    section.tables.append(
        Table(_l("The month's collection work"), columns, rows[:-1], total=rows[-1])
    )
    section.notes.append(
        _l(
            "Contacts, promises and recoveries of the month per department, as in the monthly "
            "report per department (the worklist's reports)."
        )
    )
    return section


def cases_section(ctx: Context) -> Section:
    section = Section("cases", _l("Recovery cases"), "recovery.cases.models (SQL)")
    figures = queries.case_figures(
        ctx.month.first,
        ctx.month.last,
        ctx.month.start_utc,
        ctx.month.end_utc,
        ctx.outstanding_by_counterparty,
    )
    statuses = ctx.labels["statuses"]
    section.figures = [
        (_l("Cases opened in the month"), figures.opened),
        (_l("Cases closed in the month"), sum(figures.closed.values())),
    ]
    order = ("open", "in_progress", "referred")
    section.tables.append(
        Table(
            _l("Cases not closed at the month's end, by status"),
            [_l("Status"), _l("Cases"), _l("Outstanding of their counterparties")],
            [
                [statuses[s], figures.by_status[s][0], figures.by_status[s][1]]
                for s in order
                if s in figures.by_status
            ],
            total=[
                _l("Total"),
                sum(figures.by_status.get(s, [0, ZERO])[0] for s in order),
                sum((figures.by_status.get(s, [0, ZERO])[1] for s in order), ZERO),
            ],
        )
    )
    kinds = ctx.labels["kinds"]
    section.tables.append(
        Table(
            _l("Cases not closed at the month's end, by strategy"),
            [_l("Strategy"), _l("Cases"), _l("Outstanding of their counterparties")],
            [
                [
                    kinds.get(kind, _l("No strategy yet")) if kind else _l("No strategy yet"),
                    n,
                    amount,
                ]
                for kind, (n, amount) in sorted(
                    figures.by_strategy.items(), key=lambda kv: (kv[0] == "", kv[0])
                )
            ],
        )
    )
    outcomes = ctx.labels["outcomes"]
    section.tables.append(
        Table(
            _l("Cases closed in the month, by outcome"),
            [_l("Outcome"), _l("Cases")],
            [[outcomes.get(o, o), n] for o, n in sorted(figures.closed.items())],
        )
    )
    section.notes.append(
        _l(
            "A case's status at the month's end is read from when it was referred and closed; "
            "cases keep no other status history."
        )
    )
    return section


def lawsuits_section(ctx: Context) -> Section:
    title = _l("Lawsuits")
    by_stage = resolve(*SOURCES["lawsuits"])
    if by_stage is None:
        return _unavailable("lawsuits", title, [source_name("lawsuits")])
    try:
        from recovery.legal.labels import STAGE_LABELS
    except ImportError:  # the stage codes are then shown as they are
        STAGE_LABELS = {}  # noqa: N806
    section = Section("lawsuits", title, source_name("lawsuits"))
    rows = list(by_stage(ctx.as_of))
    section.tables.append(
        Table(
            _l("Lawsuits filed by the month's end, by the stage reached"),
            [_l("Stage"), _l("Lawsuits"), _l("Amount at stake")],
            [[STAGE_LABELS.get(r.stage, r.stage), r.count, r.amount] for r in rows],
            total=[
                _l("Total"),
                sum(r.count for r in rows),
                sum((r.amount for r in rows), ZERO),
            ],
            note=_l(
                "Amount at stake: the award once judged, else the claim, less what enforcement "
                "recovered."
            ),
        )
    )
    if any(r.amount for r in rows):
        _chart(
            ctx,
            section,
            "bar_chart",
            str(_l("Amount at stake by stage")),
            [str(STAGE_LABELS.get(r.stage, r.stage)) for r in rows],
            [r.amount for r in rows],
            width=720,
            testid="lawsuits-by-stage",
        )
    return section


def provisions_section(ctx: Context, matrix, closed_run) -> Section:
    from recovery.provisions import services as provisions

    section = Section("provisions", _l("Bad-debt provision"), "recovery.provisions.services.matrix")
    if closed_run is not None:
        result = provisions.run_movement(closed_run)
        section.notes.append(
            _l(
                "The period is closed: the figures are those of run #%(id)s, frozen when it was "
                "closed.",
                id=closed_run.id,
            )
        )
    else:
        result = provisions.movement(matrix, provisions.last_closed_run(ctx.as_of))
        section.notes.append(
            _l("The period is not closed: the figures are computed from the ledger as it is now.")
        )
    current = result.matrix
    opening = (
        _l("Opening (closed as of %(date)s)", date=result.opening_run.as_of.isoformat())
        if result.opening_run
        else _l("Opening (no period closed before)")
    )
    section.figures = [
        (_l("Total provision at the month's end"), current.total_provision),
        (_l("Of the receivables"), ratio(current.total_provision, current.outstanding)),
        (_l("Charge (release) to profit and loss"), result.charge),
    ]
    rows = [
        [
            _l("Individually assessed"),
            current.specific_outstanding,
            None,
            current.specific_provision,
        ]
    ]
    rows += [
        [ctx.labels["age"][s.bucket], s.balance, Ratio(s.rate / 100), s.provision]
        for s in current.collective_buckets()
    ]
    section.tables.append(
        Table(
            _l("Provision by account age"),
            [_l("Group"), _l("Balance"), _l("Rate"), _l("Provision")],
            rows,
            total=[_l("Total"), current.outstanding, None, current.total_provision],
        )
    )
    section.tables.append(
        Table(
            _l("Movement"),
            [_l("Item"), _l("Amount")],
            [
                [opening, result.opening],
                [_l("Used by write-offs"), -result.written_off],
                [_l("Charge (release) to profit and loss"), result.charge],
            ],
            total=[_l("Closing"), result.closing],
        )
    )
    specific = sorted(
        current.specific_lines, key=lambda ln: (-ln.total_provision, ln.counterparty_code)
    )
    if specific:
        from recovery.provisions.export import specific_basis

        section.tables.append(
            Table(
                _l("Individually assessed counterparties"),
                [
                    _l("Code"),
                    _l("Counterparty"),
                    _l("Department"),
                    _l("Outstanding"),
                    _l("Basis"),
                    _l("Provision"),
                ],
                [
                    [
                        ln.counterparty_code,
                        ln.counterparty_name,
                        ln.department_name,
                        ln.outstanding,
                        specific_basis(ln),
                        ln.total_provision,
                    ]
                    for ln in specific
                ],
            )
        )
    return section


def limitation_section(ctx: Context) -> Section:
    title = _l("Limitation risks")
    expiry_rows = resolve(*SOURCES["expiry_rows"])
    if expiry_rows is None:
        return _unavailable("limitation", title, [source_name("expiry_rows")])
    from recovery.settings.services import get_setting

    section = Section("limitation", title, source_name("expiry_rows"))
    thresholds = sorted(get_setting("limitation.warning_days")) or [180]
    within = thresholds[-1]
    rows = list(expiry_rows(ctx.as_of, within=within))
    expired = [r for r in rows if r.days_left < 0]
    bands = Table(
        _l("Open items whose limitation has ended or ends soon"),
        [_l("Limitation"), _l("Items"), _l("Outstanding")],
        [[_l("Ended already"), len(expired), sum((r.outstanding for r in expired), ZERO)]],
    )
    for days in thresholds:
        band = [r for r in rows if 0 <= r.days_left <= days]
        bands.rows.append(
            [
                _l("Ends within %(n)s days", n=days),
                len(band),
                sum((r.outstanding for r in band), ZERO),
            ]
        )
    section.tables.append(bands)
    soonest = [r for r in rows if r.days_left >= 0][:30]
    section.tables.append(
        Table(
            _l("The 30 items whose limitation ends first"),
            [
                _l("Counterparty"),
                _l("Document"),
                _l("Outstanding"),
                _l("Ends on"),
                _l("Days left"),
                _l("Last interruption"),
            ],
            [
                [
                    r.counterparty_code,
                    r.document_no,
                    r.outstanding,
                    r.expires_on,
                    r.days_left,
                    r.last_interruption_on or "",
                ]
                for r in soonest
            ],
        )
    )
    section.notes.append(
        _l("Limitation as of the month's end (three years, interrupted and suspended as recorded).")
    )
    return section


# The sections in the order of the report, with the label of each progress step.
STEPS = (
    ("ledger", _l("Reading the ledger")),
    ("kpis", _l("Key indicators")),
    ("receivables", _l("Receivables")),
    ("aging", _l("Aging")),
    ("targets", _l("Recoveries against targets")),
    ("rankings", _l("Rankings")),
    ("work", _l("Collection work")),
    ("cases", _l("Recovery cases")),
    ("lawsuits", _l("Lawsuits")),
    ("provisions", _l("Bad-debt provision")),
    ("limitation", _l("Limitation risks")),
    ("render", _l("Laying out the report")),
)


def build(
    month: Period,
    *,
    today: date,
    generated_by: str = "",
    progress: Callable[[str, int, int], None] | None = None,
) -> MonthlyReport:
    """Gather every section of the month's report (as of its last day)."""
    from recovery.provisions import services as provisions
    from recovery.provisions.models import ProvisionRun
    from recovery.settings.services import get_setting

    check_month(month, today)
    total = len(STEPS)

    def step(index: int) -> None:
        if progress is not None:
            progress(STEPS[index][0], index, total)

    step(0)
    charts = {name: resolve(*SOURCES[name]) for name in ("line_chart", "bar_chart")}
    ctx = Context(month, today, _labels(), charts)
    ctx.due, live_matrix = queries.ledger_lines(ctx.as_of)
    for line in ctx.due:
        ctx.outstanding_by_counterparty[line.counterparty_id] = (
            ctx.outstanding_by_counterparty.get(line.counterparty_id, ZERO) + line.outstanding
        )
    closed_run = db.session.scalar(
        sa.select(ProvisionRun).where(
            ProvisionRun.status == "closed", ProvisionRun.as_of == ctx.as_of
        )
    )
    matrix = provisions.matrix_of_run(closed_run) if closed_run else live_matrix
    sections = []
    builders = (
        lambda: kpi_section(ctx),
        lambda: receivables_section(ctx),
        lambda: aging_section(ctx, matrix),
        lambda: targets_section(ctx),
        lambda: rankings_section(ctx),
        lambda: work_section(ctx),
        lambda: cases_section(ctx),
        lambda: lawsuits_section(ctx),
        lambda: provisions_section(ctx, matrix, closed_run),
        lambda: limitation_section(ctx),
    )
    for index, builder in enumerate(builders, start=1):
        step(index)
        sections.append(builder())
    step(total - 1)
    return MonthlyReport(
        month=month,
        company=get_setting("company.name"),
        generated_at=utcnow(),
        generated_by=generated_by,
        sections=sections,
    )


# ---------------------------------------------------------------------------------------------
# Laying out


def cell_text(value) -> str:
    """A value as the PDF shows it: amounts with separators, shares as percentages, "—" for
    a figure that does not exist."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return display_amount(value)
    if isinstance(value, Ratio):
        return f"{(value.value * 100).quantize(Decimal('0.1'))}%"
    if isinstance(value, Quantity):
        return f"{value.value.quantize(Decimal(1).scaleb(-value.places))}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def is_number(value) -> bool:
    return isinstance(value, Decimal | Ratio | Quantity | int) and not isinstance(value, bool)


PDF_CSS = """
.cover { margin-bottom: 6mm; }
.cover .company { font-size: 11pt; color: #333; }
.missing { border: 0.6pt solid #b71c1c; padding: 2mm; margin: 3mm 0; color: #b71c1c; }
table.figures { width: auto; }
.figures td { border: none; padding: 0.6mm 6mm 0.6mm 0; }
table.narrow { width: auto; min-width: 55%; }
.chart { margin: 2mm 0 3mm; }
.chart svg { width: 170mm; height: auto; }
section { page-break-before: always; }
section.first { page-break-before: avoid; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 1mm; }
.note { color: #555; font-size: 7.5pt; }
"""


def render_html(report: MonthlyReport) -> str:
    template = current_app.jinja_env.get_template("monthly/report.html")
    return template.render(report=report, cell=cell_text, is_number=is_number, local_time=_local)


def _local(moment: datetime) -> str:
    from recovery.worklist.service_levels import to_local

    return to_local(moment).strftime("%Y-%m-%d %H:%M")


def render_pdf(report: MonthlyReport) -> bytes:
    from recovery.core.pdf import render_pdf as html_to_pdf

    return html_to_pdf(render_html(report), extra_css=PDF_CSS)


def render_xlsx(report: MonthlyReport) -> bytes:
    """One sheet per section (tables one below the other), after a summary sheet."""
    summary = Sheet(
        str(_l("Summary")),
        [],
        [
            Heading([str(_l("Monthly report for head office")), report.month.label]),
            [str(_l("Company")), report.company],
            [str(_l("As of")), report.as_of],
            [str(_l("Generated")), _local(report.generated_at), report.generated_by],
            [],
            Heading([str(_l("Section")), str(_l("Available")), str(_l("Source"))]),
            *(
                [str(s.title), str(_l("yes")) if s.available else str(_l("no")), s.source]
                for s in report.sections
            ),
        ],
    )
    if report.missing_sources:
        summary.rows += [[], [str(_l("Not installed")), ", ".join(report.missing_sources)]]
    sheets = [summary]
    for section in report.sections:
        rows: list = [Heading([str(section.title)])]
        rows += [[str(note)] for note in section.notes]
        for label, value in section.figures:
            rows.append([str(label), _xlsx_value(value)])
        for table in section.tables:
            rows.append([])
            rows.append(Heading([str(table.title)]))
            rows.append(Heading([str(c) for c in table.columns]))
            rows += [[_xlsx_value(v) for v in row] for row in table.rows]
            if table.total is not None:
                rows.append(Heading([_xlsx_value(v) for v in table.total]))
            if table.note:
                rows.append([str(table.note)])
        sheets.append(Sheet(str(section.title), [], rows))
    return write_workbook(sheets)


def _xlsx_value(value):
    if value is None:
        return "—"
    if isinstance(value, Decimal | Ratio | Quantity | int | date):
        return value
    return str(value)


def filename(month: Period, fmt: str) -> str:
    return f"monthly-report-{month.label}.{fmt}"


def generate(
    month: Period, fmt: str, *, today: date, generated_by: str = "", progress=None
) -> tuple[bytes, MonthlyReport]:
    report = build(month, today=today, generated_by=generated_by, progress=progress)
    data = render_pdf(report) if fmt == "pdf" else render_xlsx(report)
    if progress is not None:
        progress("render", len(STEPS), len(STEPS))
    return data, report


def previous_month(today: date) -> Period:
    return month_of(today.replace(day=1) - timedelta(days=1))
