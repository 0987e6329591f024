"""The executive dashboard (issue 6, points 1, 2, 7): the figures of docs/kpis.md as of any
date, for the whole company or one department with everything below it, each linking to
the list of items, receipts, counterparties or cases behind it (the list's total is the
figure). Views parse the arguments, call kpis / queries, render.

CLI: ``flask --app recovery dashboard snapshots [--rebuild]`` brings the month-end snapshots
up to date (run it once a month after month-end, and after bulk loads).
"""

from __future__ import annotations

from datetime import date

import click
import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask.cli import with_appcontext
from flask_babel import format_decimal, format_percent
from flask_babel import lazy_gettext as _l

from recovery.auth.models import Department
from recovery.core.permissions import EXECUTIVE, FINANCE, SUPERVISOR, roles_required
from recovery.credit import queries as credit_queries
from recovery.credit import services as credit_services
from recovery.dashboard import cache, charts, kpis, queries, rules, snapshots
from recovery.extensions import db
from recovery.ledger import rules as ledger_rules
from recovery.ledger.routes import AGE_BUCKET_LABELS, DUE_BUCKET_LABELS, as_of_from, company_today
from recovery.settings.services import get_setting

bp = Blueprint("dashboard", __name__, cli_group="dashboard")
snapshots.install()

# Who sees the dashboard: the roles that read the whole ledger and steer the recovery work.
VIEWERS = (EXECUTIVE, FINANCE, SUPERVISOR)

FIGURE_LABELS = {
    "receivables": _l("Total receivables"),
    "overdue": _l("Overdue"),
    "overdue_ratio": _l("Overdue ratio"),
    "dso": _l("DSO (count-back)"),
    "cei": _l("Collection effectiveness index (CEI)"),
    "add": _l("Average days delinquent (ADD)"),
    "collection_rate": _l("Collection rate (回款率)"),
    "avg_days_to_pay": _l("Average days to pay"),
    "avg_days_late": _l("Average days late"),
    "recovered": _l("Recovered"),
    "target": _l("Recovery target"),
    "completion": _l("Completion of target"),
}
LIST_TITLES = {
    "receivables": _l("Open items (total receivables)"),
    "overdue": _l("Overdue items"),
    "bucket": _l("Items in one bucket"),
    "disputed": _l("Items with open disputes (the disputed part)"),
    "sales": _l("Items recognised in the period (sales)"),
    "settled": _l("Items paid off in the period"),
}
CHART_CLASS = "chart img-fluid"  # scales with the column on the page
PERIOD_LABELS = {"month": _l("This month"), "quarter": _l("This quarter"), "year": _l("This year")}


@bp.app_template_filter("kpi_percent")
def kpi_percent(value) -> str:
    """A ratio (0.2500) as a percentage in the page's language (25.00%)."""
    return "" if value is None else format_percent(value, format="#,##0.00%")


@bp.app_template_filter("kpi_number")
def kpi_number(value) -> str:
    """Days or an index to two decimals, in the page's language."""
    return "" if value is None else format_decimal(value, format="#,##0.00")


# ---------------------------------------------------------------------------------------------
# Arguments


class Filters:
    """as_of, the period start and the scope of a dashboard request, with what was wrong."""

    def __init__(self, args):
        self.errors: dict[str, str] = {}
        self.as_of, bad = as_of_from(args)
        if bad:
            self.errors["as_of"] = bad
        self.date_from = rules.month_start(self.as_of)
        text = (args.get("from") or "").strip()
        if text:
            try:
                self.date_from = date.fromisoformat(text)
            except ValueError:
                self.errors["from"] = text
            else:
                if self.date_from > self.as_of:
                    self.errors["from"] = text
                    self.date_from = rules.month_start(self.as_of)
        self.scope, known = queries.scope_from_args(args)
        if not known:
            self.errors["department_id"] = args.get("department_id", "")
        self.page = args.get("page", 1, type=int)

    def args(self, **extra) -> dict[str, str]:
        """The query-string arguments of this view of the dashboard (for links)."""
        values = {"as_of": self.as_of.isoformat(), **self.scope.to_args()}
        if self.date_from != rules.month_start(self.as_of):
            values["from"] = self.date_from.isoformat()
        values.update({k: v for k, v in extra.items() if v is not None})
        return values

    def period_args(self, **extra) -> dict[str, str]:
        """Like args(), always naming the period start (lists of a period need it)."""
        return {**self.args(**extra), "from": self.date_from.isoformat()}


def departments() -> list[Department]:
    return sorted(db.session.scalars(sa.select(Department)).all(), key=lambda d: d.path)


def scope_name(scope: queries.Scope) -> str:
    if scope.no_department:
        return str(_l("Items without a department"))
    if scope.department_id is None:
        return str(_l("Whole company"))
    department = db.session.get(Department, scope.department_id)
    return department.path if department is not None else ""


# ---------------------------------------------------------------------------------------------
# The dashboard


def refresh_holds(as_of: date, today: date) -> None:
    """As of today the holds are the stored statuses: bring in the calendar's changes first
    (cheap when nothing is due), as the credit holds page does."""
    if as_of == today and credit_services.refresh_stale(today):
        db.session.commit()


def computed_view(
    as_of: date, date_from: date, scope: queries.Scope, today: date, *, refresh: bool = False
) -> cache.Entry:
    """The dashboard's figures for one view, the same for every viewer: kept for a while for
    every worker (cache.py). Who may see them is the caller's check."""

    def compute() -> kpis.Dashboard:
        refresh_holds(as_of, today)
        return kpis.dashboard(as_of, date_from=date_from, department_id=scope, today=today)

    return cache.get(
        (as_of, date_from, scope, today),
        compute,
        get_setting("dashboard.cache_seconds"),
        refresh=refresh,
    )


@bp.route("/")
@roles_required(*VIEWERS)
def index():
    filters = Filters(request.args)
    entry = computed_view(
        filters.as_of,
        filters.date_from,
        filters.scope,
        company_today(),
        refresh=request.args.get("refresh") == "1",
    )
    board = entry.value
    return render_template(
        "dashboard/index.html",
        filters=filters,
        board=board,
        computed=entry,
        report=board.report,
        labels=FIGURE_LABELS,
        period_labels=PERIOD_LABELS,
        charts_svg=_charts(filters, board),
        departments=departments(),
        department_names=_department_names(board.report.by_department),
        scope_name=scope_name(filters.scope),
        case_labels=_case_labels(),
        stage_labels=_stage_labels(),
    )


def _department_names(by_department) -> dict:
    ids = [d for d in by_department if d is not None]
    names = {}
    if ids:
        query = sa.select(Department.id, Department.name).where(Department.id.in_(ids))
        names = {row.id: row.name for row in db.session.execute(query)}
    names[None] = str(_l("No department"))
    return names


def _charts(filters: Filters, board: kpis.Dashboard) -> dict:
    """The page's SVG charts (the same renderer draws them in the monthly PDF)."""
    report = board.report
    trend_labels = [p.day.strftime("%Y-%m") for p in board.trend]
    point_args = [filters.args(as_of=p.day.isoformat()) for p in board.trend]
    trend = charts.line_chart(
        str(_l("Receivables, overdue and recoveries, last 12 months")),
        trend_labels,
        [
            (str(_l("Receivables")), [p.receivables for p in board.trend]),
            (str(_l("Overdue")), [p.overdue for p in board.trend], charts.PALETTE[1]),
            (
                str(_l("Recovered in the month")),
                [p.recovered for p in board.trend],
                charts.PALETTE[2],
            ),
        ],
        links=[
            [url_for("dashboard.items", list="receivables", **a) for a in point_args],
            [url_for("dashboard.items", list="overdue", **a) for a in point_args],
            [
                url_for(
                    "dashboard.recovered",
                    **{**a, "from": rules.month_start(p.day).isoformat()},
                )
                for a, p in zip(point_args, board.trend, strict=True)
            ],
        ],
        testid="chart-trend",
        css_class=CHART_CLASS,
    )
    names = _department_names(report.by_department)
    departments_shown = sorted(report.by_department, key=lambda d: (d is None, names[d]))
    categories = [names[d] for d in departments_shown]

    def dept_args(dept):
        if dept is None:
            return {"department_id": "none"}
        return {"department_id": str(dept), "exact": "1"}

    aging = {}
    for basis, buckets, bucket_labels in (
        ("due", ledger_rules.DUE_BUCKETS, DUE_BUCKET_LABELS),
        ("age", ledger_rules.AGE_BUCKETS, AGE_BUCKET_LABELS),
    ):
        title = (
            _l("Receivables by days past due, per department")
            if basis == "due"
            else _l("Receivables by account age, per department")
        )
        series = [
            (
                str(bucket_labels[bucket]),
                [getattr(report.by_department[d], basis)[bucket] for d in departments_shown],
                charts.AGING_PALETTE[index],
            )
            for index, bucket in enumerate(buckets)
        ]
        segment_links = [
            [
                url_for(
                    "dashboard.items",
                    list="bucket",
                    bucket=bucket,
                    as_of=filters.as_of.isoformat(),
                    **dept_args(d),
                )
                for d in departments_shown
            ]
            for bucket in buckets
        ]
        aging[basis] = charts.stacked_bar_chart(
            str(title),
            categories,
            series,
            segment_links=segment_links,
            testid=f"chart-aging-{basis}",
        )
    return {"trend": trend, **{f"aging_{k}": v for k, v in aging.items()}}


def _case_labels() -> dict:
    from recovery.cases.labels import CASE_STATUS_LABELS, STRATEGY_KIND_LABELS

    return {
        "statuses": CASE_STATUS_LABELS,
        "strategies": {**STRATEGY_KIND_LABELS, queries.NO_STRATEGY: _l("No strategy yet")},
    }


def _stage_labels() -> dict:
    try:
        from recovery.legal.labels import STAGE_LABELS
    except ImportError:
        return {}
    return STAGE_LABELS


# ---------------------------------------------------------------------------------------------
# Drill-downs


@bp.route("/items")
@roles_required(*VIEWERS)
def items():
    filters = Filters(request.args)
    kind = request.args.get("list")
    if kind not in queries.ITEM_LISTS:
        abort(404)
    bucket = request.args.get("bucket") or None
    if kind == "bucket" and bucket not in (*ledger_rules.DUE_BUCKETS, *ledger_rules.AGE_BUCKETS):
        abort(404)
    counterparty_id = request.args.get("counterparty_id", type=int)
    listed = queries.item_list(
        kind,
        filters.as_of,
        filters.scope,
        date_from=filters.date_from,
        bucket=bucket,
        counterparty_id=counterparty_id,
        page=filters.page,
    )
    return render_template(
        "dashboard/items.html",
        filters=filters,
        kind=kind,
        bucket=bucket,
        title=LIST_TITLES[kind],
        listed=listed,
        scope_name=scope_name(filters.scope),
        counterparty_id=counterparty_id,
        average_days=rules.average(listed.days_total or 0, listed.count),
        average_late=rules.average(listed.days_late_total or 0, listed.count),
    )


@bp.route("/recovered")
@roles_required(*VIEWERS)
def recovered():
    filters = Filters(request.args)
    listed = queries.recovered_list(filters.date_from, filters.as_of, filters.scope, filters.page)
    return render_template(
        "dashboard/recovered.html",
        filters=filters,
        listed=listed,
        scope_name=scope_name(filters.scope),
    )


@bp.route("/holds")
@roles_required(*VIEWERS)
def holds():
    """The counterparties behind the holds figure: as of today the stored statuses with
    their reasons (the credit holds page's), as of another date the estimate. Live."""
    filters = Filters(request.args)
    today = company_today()
    if filters.as_of == today:
        refresh_holds(filters.as_of, today)
        page = credit_queries.dashboard_hold_page(today, filters.scope, filters.page)
        summary = queries.stored_holds(filters.scope)
    else:
        page = queries.credit_hold_page(filters.as_of, filters.scope, filters.page)
        summary = queries.credit_holds(filters.as_of, filters.scope)
    return render_template(
        "dashboard/holds.html",
        filters=filters,
        page=page,
        summary=summary,
        scope_name=scope_name(filters.scope),
    )


@bp.route("/cases")
@roles_required(*VIEWERS)
def cases():
    filters = Filters(request.args)
    strategy = request.args.get("strategy") or None
    status = request.args.get("status") or None
    page = queries.case_page(
        filters.as_of, filters.scope, strategy=strategy, status=status, page=filters.page
    )
    return render_template(
        "dashboard/cases.html",
        filters=filters,
        page=page,
        strategy=strategy,
        status=status,
        case_labels=_case_labels(),
        scope_name=scope_name(filters.scope),
    )


@bp.route("/kpi/<key>")
@roles_required(*VIEWERS)
def explain(key: str):
    """How a ratio was computed: its formula with this period's numbers, each linking to the
    list behind it."""
    if key not in kpis.KEYS:
        abort(404)
    filters = Filters(request.args)
    report = kpis.report(filters.as_of, date_from=filters.date_from, department_id=filters.scope)
    return render_template(
        "dashboard/explain.html",
        filters=filters,
        key=key,
        report=report,
        labels=FIGURE_LABELS,
        scope_name=scope_name(filters.scope),
    )


# ---------------------------------------------------------------------------------------------
# Command line


@bp.cli.command("snapshots")
@click.option("--rebuild", is_flag=True, help="Recompute every month-end (not only missing ones).")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last month-end to build (default: the last closed month).",
)
@with_appcontext
def snapshots_command(rebuild, until):
    """Bring the dashboard's month-end snapshots up to date (docs/kpis.md, Speed)."""
    if until is None:
        last = snapshots.last_closed_month_end(company_today())
    else:  # the last month-end on or before the date given
        day = until.date()
        last = day if rules.is_month_end(day) else rules.previous_month_end(day)

    def progress(done, total):
        click.echo(f"\r{done}/{total} months", nl=False, err=True)

    count = (
        snapshots.rebuild(last, progress=progress)
        if rebuild
        else snapshots.extend(last, progress=progress)
    )
    db.session.commit()
    click.echo(f"\n{count} month-ends written, up to {last.isoformat()}.", err=True)


@bp.cli.command("warm")
@with_appcontext
def warm_command():
    """Compute and keep the dashboard's usual views for every app server (docs/kpis.md,
    Speed): the whole company as of today and as of the last month-end, and each department
    with the departments below it as of today. Run it after a deploy and every 5 minutes in
    working hours, so that no executive waits for a computation."""
    today = company_today()
    month_end = rules.previous_month_end(today)
    views = [(today, queries.COMPANY), (month_end, queries.COMPANY)]
    views += [(today, queries.scope_for(department.id)) for department in departments()]
    for number, (as_of, scope) in enumerate(views, start=1):
        computed_view(as_of, rules.month_start(as_of), scope, today, refresh=True)
        click.echo(f"\r{number}/{len(views)} views", nl=False, err=True)
    click.echo(f"\n{len(views)} views computed and kept.", err=True)
