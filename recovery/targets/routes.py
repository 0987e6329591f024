"""The targets pages: targets with their completion, the rankings and the reward/penalty
lists. Thin views over recovery.targets.services (rules in docs/targets.md).

Executives and supervisors set targets (supervisors for their own department tree) and read
the rankings; finance reads the targets; executives decide on the lists."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from recovery.auth.models import Department, User
from recovery.core.forms import choices
from recovery.core.pagination import paginate
from recovery.core.permissions import EXECUTIVE, FINANCE, SUPERVISOR, roles_required
from recovery.extensions import db
from recovery.targets import queries, services
from recovery.targets.forms import SCOPES, DecisionForm, ProposeForm, TargetForm
from recovery.targets.models import LIST_STATUSES, RANK_BY, RewardList, Target
from recovery.targets.periods import PERIOD_KIND_LABELS, PeriodError, month_of, parse_period
from recovery.targets.rules import RewardRule, explain, reward
from recovery.targets.services import StaleTarget, TargetError, company_today

bp = Blueprint("targets", __name__)

READERS = (EXECUTIVE, SUPERVISOR, FINANCE)
SETTERS = (EXECUTIVE, SUPERVISOR)


@bp.app_context_processor
def target_labels():
    from flask_babel import lazy_gettext as _l

    return {
        "target_labels": {
            "kinds": PERIOD_KIND_LABELS,
            "scopes": SCOPES,
            "statuses": {
                "proposed": _l("Proposed"),
                "approved": _l("Approved"),
                "rejected": _l("Rejected"),
            },
            "by": {"person": _l("By person"), "department": _l("By department")},
        }
    }


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _period_arg(default):
    """The period typed in the query string (``period``), else ``default``; and the text
    when it could not be read (shown back with the reason)."""
    text = (request.args.get("period") or "").strip()
    if not text:
        return default, None
    try:
        return parse_period(text), None
    except PeriodError:
        return default, text


# ---------------------------------------------------------------------------------------------
# Targets


def _department_choices(allowed: list[int] | None):
    departments = db.session.scalars(sa.select(Department).where(Department.active.is_(True)))
    pairs = [(d.id, d.path) for d in departments if allowed is None or d.id in allowed]
    return choices([(None, "—"), *sorted(pairs, key=lambda pair: pair[1])])


def _person_choices(allowed: list[int] | None):
    query = sa.select(User).where(User.active.is_(True)).order_by(User.display_name)
    if allowed is not None:
        query = query.where(User.department_id.in_(allowed))
    people = db.session.scalars(query).all()
    return choices([(None, "—"), *((u.id, f"{u.display_name} ({u.username})") for u in people)])


def _setter_choices(form: TargetForm) -> None:
    allowed = services.settable_department_ids(current_user)
    form.department_id.choices = _department_choices(allowed)
    form.user_id.choices = _person_choices(allowed)


def _target_rows(targets: list[Target], as_of: date) -> list[dict]:
    """Each target with what was achieved in its period as of ``as_of``; the figures are
    computed once per period and kind of target on the page."""
    figures: dict = {}
    rows = []
    for target in targets:
        kind = "person" if target.user_id is not None else "department"
        memo = (kind, target.period_start, target.period_end)
        if memo not in figures:
            compute = queries.person_figures if kind == "person" else queries.department_figures
            figures[memo] = compute(target.period_start, target.period_end, as_of, conduct=False)
        measures = figures[memo].of(target.user_id if kind == "person" else target.department_id)
        rows.append(services.target_progress(target, measures))
    return rows


@bp.route("/")
@roles_required(*READERS)
def index():
    today = company_today()
    period, bad_period = _period_arg(month_of(today))
    department_id, user_id = _int_arg("department_id"), _int_arg("user_id")
    query = (
        sa.select(Target)
        .where(Target.period_start <= period.end, Target.period_end >= period.start)
        .options(
            selectinload(Target.department),
            selectinload(Target.user),
            selectinload(Target.updated_by),
        )
        .order_by(
            Target.period_start,
            Target.period_end,
            Target.department_id.is_(None),
            Target.department_id,
            Target.user_id,
        )
    )
    if department_id is not None:
        query = query.where(Target.department_id == department_id)
    if user_id is not None:
        query = query.where(Target.user_id == user_id)
    page = paginate(query, request.args.get("page", 1, type=int))
    return render_template(
        "targets/index.html",
        page=page,
        rows=_target_rows(page.items, today),
        period=period,
        bad_period=bad_period,
        department_id=department_id,
        user_id=user_id,
        departments=_department_choices(None),
        people=_person_choices(None),
        today=today,
        may_set=bool(current_user.has_role(*SETTERS)),
    )


def _form_period(form: TargetForm):
    """The period typed in the form, or None with the reason beside the field."""
    try:
        return parse_period(form.period.data)
    except PeriodError as error:
        form.period.errors = [*form.period.errors, error.message]
        return None


def _save(form: TargetForm, target: Target | None):
    """Save the form through the service; None when refused (the form then carries why)."""
    values = {
        "actor": current_user,
        "today": company_today(),
        "recovery": form.recovery.data,
        "overdue_reduction": form.overdue_reduction.data,
        "reason": form.reason.data,
    }
    if target is None:
        period = _form_period(form)
        scope = form.scope.data
        values.update(
            period_start=period.start,
            period_end=period.end,
            department_id=form.department_id.data if scope == "department" else None,
            user_id=form.user_id.data if scope == "person" else None,
        )
    else:
        values.update(target=target, version=request.form.get("version"))
    try:
        saved = services.save_target(**values)
    except StaleTarget as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return None
    except TargetError as error:
        db.session.rollback()
        field = getattr(form, error.field or "", None) or form.recovery
        field.errors = [*field.errors, error.message]
        return None
    db.session.commit()
    return saved


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*SETTERS)
def new():
    form = TargetForm()
    del form.version
    _setter_choices(form)
    if request.method == "GET":
        form.scope.data = "person" if request.args.get("user_id") else "department"
        form.department_id.data = _int_arg("department_id")
        form.user_id.data = _int_arg("user_id")
        form.period.data = request.args.get("period") or month_of(company_today()).label
    if request.method == "POST":
        form.validate_on_submit()
        _form_period(form)  # every mistake at once, the period's too
        if not form.errors:
            saved = _save(form, None)
            if saved is not None:
                flash(_("The target was saved."), "success")
                return redirect(url_for("targets.show", target_id=saved.id))
    return render_template("targets/form.html", form=form, target=None)


def _show(target: Target, form: TargetForm | None, current: Target | None = None):
    today = company_today()
    return render_template(
        "targets/show.html",
        target=target,
        row=_target_rows([target], today)[0],
        form=form,
        current=current,
        history=services.target_history(target),
        today=today,
    )


def _edit_form(target: Target) -> TargetForm:
    form = TargetForm()
    for name in ("scope", "department_id", "user_id", "period"):
        delattr(form, name)
    if request.method == "GET":
        form.recovery.data = target.recovery_amount
        form.overdue_reduction.data = target.overdue_reduction_amount
        form.version.data = str(target.version)
    return form


def _may_set(target: Target) -> bool:
    return current_user.has_role(*SETTERS) and services.may_set(
        current_user, department_id=target.department_id, user_id=target.user_id
    )


@bp.route("/<int:target_id>")
@roles_required(*READERS)
def show(target_id: int):
    target = db.session.get(Target, target_id) or abort(404)
    return _show(target, _edit_form(target) if _may_set(target) else None)


@bp.route("/<int:target_id>", methods=["POST"])
@roles_required(*SETTERS)
def edit(target_id: int):
    target = db.session.get(Target, target_id) or abort(404)
    form = _edit_form(target)
    form.validate_on_submit()
    current = None
    if not form.errors:
        saved = _save(form, target)
        if saved is not None:
            flash(_("The target was saved."), "success")
            return redirect(url_for("targets.show", target_id=target_id))
        if form.form_errors:  # stale: show the saved values beside what was typed
            current = db.session.get(Target, target_id)
            form.version.data = str(current.version)
    target = db.session.get(Target, target_id)
    return _show(target, form, current)


# ---------------------------------------------------------------------------------------------
# Rankings


def _by_arg() -> str:
    by = request.args.get("by", "person")
    return by if by in RANK_BY else "person"


@bp.route("/rankings")
@roles_required(EXECUTIVE, SUPERVISOR)
def rankings():
    today = company_today()
    period, bad_period = _period_arg(month_of(today).previous())
    by = _by_arg()
    rows = services.rankings(period.start, period.end, by=by, as_of=today)
    rule = RewardRule.from_settings()
    previews = [
        (
            reward(
                rule,
                recovered=row.recovered,
                target=row.recovery_target,
                broken_promises=row.broken_promises,
            ),
            explain(
                rule,
                recovered=row.recovered,
                target=row.recovery_target,
                broken_promises=row.broken_promises,
            ),
        )
        for row in rows
    ]
    standing = services.standing_list(by, period)
    return render_template(
        "targets/rankings.html",
        rows=rows,
        previews=previews,
        period=period,
        bad_period=bad_period,
        by=by,
        rule=rule,
        standing=standing,
        over=period.end < today,
        propose_form=ProposeForm(by=by, period=period.label),
        today=today,
    )


@bp.route("/rankings/propose", methods=["POST"])
@roles_required(EXECUTIVE, SUPERVISOR)
def propose():
    form = ProposeForm()
    by = form.by.data if form.by.data in RANK_BY else "person"
    try:
        period = parse_period(form.period.data)
    except PeriodError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("targets.rankings", by=by))
    if not form.validate_on_submit():
        abort(400)
    try:
        reward_list = services.propose_list(
            by=by, period=period, actor=current_user, today=company_today()
        )
    except TargetError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("targets.rankings", by=by, period=period.label))
    db.session.commit()
    flash(_("The list was proposed; an executive other than you approves it."), "success")
    return redirect(url_for("targets.list_show", list_id=reward_list.id))


# ---------------------------------------------------------------------------------------------
# Reward and penalty lists


@bp.route("/lists")
@roles_required(EXECUTIVE, SUPERVISOR)
def lists():
    status = request.args.get("status")
    query = (
        sa.select(RewardList)
        .options(selectinload(RewardList.proposed_by), selectinload(RewardList.decided_by))
        .order_by(RewardList.proposed_at.desc(), RewardList.id.desc())
    )
    if status in LIST_STATUSES:
        query = query.where(RewardList.status == status)
    page = paginate(query, request.args.get("page", 1, type=int))
    return render_template("targets/lists.html", page=page, status=status)


def _list_or_404(list_id: int) -> RewardList:
    return db.session.get(RewardList, list_id) or abort(404)


def _list_page(reward_list: RewardList, form: DecisionForm | None = None):
    rule = services.rule_of(reward_list)
    may_decide = (
        reward_list.status == "proposed"
        and current_user.has_role(EXECUTIVE)
        and reward_list.proposed_by_id != current_user.id
    )
    if form is None and may_decide:
        form = DecisionForm(version=str(reward_list.version))
    explanations = {
        entry.id: explain(
            rule,
            recovered=entry.recovered,
            target=entry.recovery_target,
            broken_promises=entry.broken_promises,
        )
        for entry in reward_list.entries
    }
    return render_template(
        "targets/list.html",
        reward_list=reward_list,
        period=services.list_period(reward_list),
        rule=rule,
        totals=services.list_totals(reward_list),
        explanations=explanations,
        form=form if may_decide else None,
    )


@bp.route("/lists/<int:list_id>")
@roles_required(EXECUTIVE, SUPERVISOR)
def list_show(list_id: int):
    return _list_page(_list_or_404(list_id))


@bp.route("/lists/<int:list_id>/decide", methods=["POST"])
@roles_required(EXECUTIVE)
def decide(list_id: int):
    reward_list = _list_or_404(list_id)
    form = DecisionForm()
    form.validate_on_submit()
    if not form.errors:
        try:
            services.decide_list(
                reward_list,
                approve=bool(form.approve.data),
                note=form.note.data,
                actor=current_user,
                version=request.form.get("version"),
            )
        except TargetError as error:
            db.session.rollback()
            reward_list = _list_or_404(list_id)
            if isinstance(error, StaleTarget) or error.field is None:
                form.form_errors.append(error.message)
            else:
                form.note.errors = [*form.note.errors, error.message]
            form.version.data = str(reward_list.version)
            return _list_page(reward_list, form)
        db.session.commit()
        flash(
            _("The list was approved.") if form.approve.data else _("The list was rejected."),
            "success",
        )
        return redirect(url_for("targets.list_show", list_id=list_id))
    return _list_page(reward_list, form)


@bp.route("/lists/<int:list_id>/export")
@roles_required(EXECUTIVE, SUPERVISOR)
def export(list_id: int):
    from recovery.imports.exporter import send_table

    reward_list = _list_or_404(list_id)
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("csv", "xlsx"):
        abort(404)
    columns, rows = services.export_table(reward_list)
    period = services.list_period(reward_list)
    name = f"rewards-{period.label}-{reward_list.ranked_by}-{reward_list.status}"
    return send_table(columns, rows, fmt, name)
