"""The worklist (我的待办), the supervisor's team worklist and the routine reports (篇三).

Thin views: the figures come from recovery.worklist.queries / reports (SQL) and
service_levels (the calendar); the views read the arguments, call them and render.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from recovery.activities.models import ACTIVITY_KINDS
from recovery.cases.labels import CASE_STATUS_LABELS, STEP_LABELS, STRATEGY_KIND_LABELS
from recovery.core.pdf import render_pdf
from recovery.core.permissions import (
    EXECUTIVE,
    FINANCE,
    LEGAL,
    SALES,
    SUPERVISOR,
    roles_required,
)
from recovery.core.timeutil import utcnow
from recovery.core.workdays import calendar_known
from recovery.imports.exporter import send_table
from recovery.ledger.routes import company_today
from recovery.worklist import queries, reports
from recovery.worklist.labels import RULE_HELP, RULE_LABELS, report_labels
from recovery.worklist.service_levels import Levels, find_breaches, to_local

bp = Blueprint("worklist", __name__)

WORKLIST_ROLES = (SALES, SUPERVISOR, FINANCE, LEGAL, EXECUTIVE)
TEAM_ROLES = (SUPERVISOR, EXECUTIVE)
REPORT_ROLES = (SALES, SUPERVISOR, EXECUTIVE, FINANCE)
# Breaches met late (or closed unmet) stay on the team page this long after their deadline.
LATE_BREACHES_DAYS = 30


@bp.app_context_processor
def worklist_labels():
    return {
        "worklist_labels": {
            "rules": RULE_LABELS,
            "case_statuses": CASE_STATUS_LABELS,
            "strategy_kinds": STRATEGY_KIND_LABELS,
            "steps": STEP_LABELS,
        }
    }


def _levels_help(levels: Levels) -> dict:
    return {
        "assignment": RULE_HELP["assignment"] % {"n": levels.assign_working_days},
        "first_action": RULE_HELP["first_action"] % {"n": levels.first_action_hours},
        "visit": RULE_HELP["visit"] % {"n": levels.visit_working_days},
    }


@bp.app_template_filter("local_time")
def local_time(moment) -> str:
    """A stored (UTC) moment as Beijing wall-clock time."""
    if moment is None:
        return ""
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("duration")
def duration(delta) -> str:
    """A time span as days and hours (e.g. "2d 5h", "45m")."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh", d=days, h=hours)
    if hours:
        return _("%(h)sh %(m)sm", h=hours, m=minutes)
    return _("%(m)sm", m=minutes)


# ---------------------------------------------------------------------------------------------
# My worklist and the team's


@bp.route("/")
@roles_required(*WORKLIST_ROLES)
def index():
    as_of, now = company_today(), utcnow()
    levels = Levels.from_settings()
    page = queries.worklist_page(
        [current_user.id],
        as_of,
        now,
        approver=current_user,
        page=request.args.get("page", 1, type=int),
        levels=levels,
    )
    return render_template(
        "worklist/index.html",
        page=page,
        waiting=queries.waiting_for(current_user, as_of),
        as_of=as_of,
        now=now,
        calendar_known=calendar_known(as_of.year),
    )


@bp.route("/team")
@roles_required(*TEAM_ROLES)
def team():
    as_of, now = company_today(), utcnow()
    levels = Levels.from_settings()
    team_ids = queries.team_user_ids(current_user)
    departments = queries.department_subtree(current_user.department_id)
    cases = queries.account_cases(team_ids, departments=departments, unassigned=True)
    since = now - timedelta(days=LATE_BREACHES_DAYS)
    breaches = find_breaches(now, cases=cases, since=since, levels=levels)
    page = queries.worklist_page(
        team_ids,
        as_of,
        now,
        departments=departments,
        page=request.args.get("page", 1, type=int),
        levels=levels,
        breaches=breaches,  # a superset of the lines' cases: the same open ones
    )
    names = queries.user_names({b.assignee_id for b in breaches if b.assignee_id})
    return render_template(
        "worklist/team.html",
        page=page,
        breaches=breaches,
        open_breaches=[b for b in breaches if b.open],
        late_breaches=[b for b in breaches if not b.open],
        members=queries.team_members(team_ids, as_of, breaches),
        names=names,
        has_department=bool(departments),
        as_of=as_of,
        now=now,
        late_days=LATE_BREACHES_DAYS,
        calendar_known=calendar_known(as_of.year),
        levels_help=_levels_help(levels),
    )


# ---------------------------------------------------------------------------------------------
# Routine reports


def report_scope() -> list[int] | None:
    """Whose rows the viewer may see: everybody (executive, finance), their team
    (supervisor), themself (sales)."""
    if current_user.has_role(EXECUTIVE, FINANCE):
        return None
    if current_user.has_role(SUPERVISOR):
        return queries.team_user_ids(current_user)
    return [current_user.id]


def _period(kind: str):
    today = company_today()
    parse = reports.parse_week if kind == "week" else reports.parse_month
    text = request.args.get(kind, "")
    try:
        return parse(text, today), None
    except reports.PeriodError:
        return parse("", today), text


def _download_name(kind: str, period) -> str:
    return f"{'weekly' if kind == 'week' else 'monthly'}-{period.label}"


def _render_report(kind: str, template: str):
    period, bad = _period(kind)
    today = company_today()
    report = reports.build_report(period, today, scope_ids=report_scope(), now=utcnow())
    labels = report_labels()
    fmt = request.args.get("format", "html")
    by = request.args.get("by", "person") if kind == "month" else "person"
    if by not in ("person", "department"):
        by = "person"
    if fmt == "xlsx":
        if kind == "week":
            columns, rows = reports.weekly_table(report, labels)
        else:
            columns, rows = reports.monthly_table(report, labels, by)
        return send_table(columns, rows, "xlsx", _download_name(kind, period))
    context = {
        "report": report,
        "period": period,
        "bad_period": bad,
        "labels": labels,
        "by": by,
        "today": today,
        "calendar_known": calendar_known(period.first.year),
        "activity_kinds": ACTIVITY_KINDS,
        "now_local": local_time(utcnow()),
    }
    if fmt == "pdf":
        html = render_template(template, printing=True, **context)
        response = Response(render_pdf(html), mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{_download_name(kind, period)}.pdf"'
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    if fmt != "html":
        abort(404)
    return render_template(template, printing=False, **context)


@bp.route("/reports/weekly")
@roles_required(*REPORT_ROLES)
def weekly():
    return _render_report("week", "worklist/weekly.html")


@bp.route("/reports/monthly")
@roles_required(*REPORT_ROLES)
def monthly():
    return _render_report("month", "worklist/monthly.html")
