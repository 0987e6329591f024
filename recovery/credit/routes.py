"""Credit control pages: holds, exceptions (request, approve, refuse, revoke), groups, a
credit check by hand, and the status panel of a counterparty page. Thin views."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from recovery.auth.models import Department
from recovery.core.money import from_fen
from recovery.core.pagination import paginate
from recovery.core.permissions import (
    EXECUTIVE,
    FINANCE,
    LEGAL,
    SALES,
    SUPERVISOR,
    roles_required,
)
from recovery.core.views import REFUSED, form_status, on_form, save
from recovery.credit import labels, queries, rules, services
from recovery.credit.forms import (
    CheckForm,
    DecisionForm,
    ExceptionRequestForm,
    GroupForm,
    MemberForm,
    RevokeForm,
)
from recovery.credit.models import CreditException, CreditGroup, CreditGroupMember
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.ledger.queries import scope_user_id
from recovery.parties.models import Counterparty

bp = Blueprint("credit", __name__, cli_group="credit")

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
REQUESTERS = (FINANCE, SALES)
GROUP_MANAGERS = (FINANCE, SUPERVISOR)


def credit_helpers() -> dict:
    return {
        "credit_rule_labels": labels.RULE_LABELS,
        "credit_state_labels": labels.EXCEPTION_STATE_LABELS,
        "credit_reason_text": labels.reason_text,
        "credit_fen": from_fen,
    }


def credit_panel_for(counterparty_id: int) -> dict:
    """What the counterparty page shows: the stored status, its group, the exceptions."""
    today = services.company_today()
    status, written = services.status_for_page(counterparty_id, today)
    if written:
        db.session.commit()
    member = db.session.scalar(
        sa.select(CreditGroupMember).where(
            CreditGroupMember.counterparty_id == counterparty_id,
            CreditGroupMember.left_at.is_(None),
        )
    )
    exceptions = db.session.scalars(
        queries.exceptions_query(counterparty_id=counterparty_id).limit(5)
    ).all()
    return {
        "status": status,
        "reasons": [rules.Reason.from_json(r) for r in (status.reasons if status else [])],
        "member": member,
        "exceptions": exceptions,
        "today": today,
        "rooms": queries.exception_rooms([counterparty_id], today).get(counterparty_id, []),
    }


bp.add_app_template_global(credit_panel_for, "credit_panel_for")
bp.add_app_template_global(services.exception_state, "credit_exception_state")
bp.app_context_processor(credit_helpers)


@bp.cli.command("reevaluate")
@click.option("--stale", is_flag=True, help="Only those the calendar has moved on.")
def reevaluate_command(stale: bool) -> None:
    """Re-evaluate the credit holds (all, or only the stale ones; e.g. daily from cron)."""
    if stale:
        written = services.refresh_stale()
        db.session.commit()
    else:  # recorded as a job run here and now, so that the holds page knows it ran
        job = services.reevaluate_all_now()
        if job.status != "done":
            raise click.ClickException(job.error or job.status)
        written = json.loads(job.result)["changed"]
    click.echo(f"{written} statuses written")


def _pending_message(pending: services.Pending) -> Markup:
    """The holds page while the hold rules changed and the re-evaluation has not run."""
    text = _(
        "The hold rules were changed; every counterparty is being re-evaluated. Until that "
        "is finished this list may show holds under the previous rules (a credit check "
        "always applies the current rules)."
    )
    job = pending.job
    if job is None or not jobs.visible_to(job, current_user):
        return Markup("{}").format(text)
    label = _("The re-evaluation failed.") if job.status == "failed" else _("Follow its progress")
    return Markup('{} <a href="{}">{}</a>').format(text, url_for("jobs.show", job_id=job.id), label)


def _visible_counterparty(counterparty_id: int | None) -> Counterparty:
    counterparty = db.session.get(Counterparty, counterparty_id) if counterparty_id else None
    if counterparty is None or not queries.is_visible(counterparty.id, scope_user_id(current_user)):
        abort(404)
    return counterparty


def _visible_exception(exception_id: int) -> CreditException:
    exception = db.session.get(CreditException, exception_id)
    if exception is None or not queries.is_visible(
        exception.counterparty_id, scope_user_id(current_user)
    ):
        abort(404)
    return exception


def _page() -> int:
    text = request.args.get("page", "")
    return int(text) if text.isdigit() and int(text) > 0 else 1


def _department_ids(text: str):
    if not text.isdigit() or db.session.get(Department, int(text)) is None:
        return None
    from recovery.dashboard.queries import scope_for

    return scope_for(int(text)).department_ids


@bp.route("/")
@roles_required(*READERS)
def holds():
    today = services.company_today()
    if services.refresh_stale(today):
        db.session.commit()
    pending = services.rules_pending()
    if pending is not None:
        flash(_pending_message(pending), "warning")
    rule = request.args.get("rule", "")
    rule = rule if rule in rules.RULES else ""
    department = request.args.get("department_id", "")
    filters = {
        "department_ids": _department_ids(department),
        "rule": rule or None,
        "visible_to": scope_user_id(current_user),
    }
    page = queries.holds_page(today, _page(), **filters)
    count, exposure, overdue = queries.hold_totals(**filters)
    departments = db.session.scalars(sa.select(Department).order_by(Department.name)).all()
    return render_template(
        "credit/holds.html",
        page=page,
        count=count,
        exposure=exposure,
        overdue=overdue,
        rule=rule,
        department=department,
        departments=departments,
        rules_list=rules.RULES,
        today=today,
    )


@bp.route("/exceptions")
@roles_required(*READERS)
def exceptions():
    status = request.args.get("status", "")
    status = status if status in ("requested", "approved", "refused", "revoked") else ""
    page = paginate(
        queries.exceptions_query(status=status or None, visible_to=scope_user_id(current_user)),
        _page(),
    )
    return render_template(
        "credit/exceptions.html", page=page, status=status, today=services.company_today()
    )


@bp.route("/exceptions/new", methods=["GET", "POST"])
@roles_required(*REQUESTERS)
def exception_new():
    form = ExceptionRequestForm()
    page_errors: list = []
    if request.method == "GET" and request.args.get("counterparty"):
        form.counterparty.data = request.args["counterparty"]
    if form.validate_on_submit():
        code = (form.counterparty.data or "").strip()
        counterparty = db.session.scalar(sa.select(Counterparty).where(Counterparty.code == code))
        scope = scope_user_id(current_user)
        if counterparty is None or not queries.is_visible(counterparty.id, scope):
            form.counterparty.errors = [_("No counterparty has the code %(code)s.", code=code)]
        else:
            done = save(
                lambda: services.request_exception(
                    counterparty,
                    amount_cap=form.amount_cap.data,
                    valid_until=form.valid_until.data,
                    reason=form.reason.data,
                    actor=current_user,
                ),
                refused=services.CreditError,
                show=on_form(form, page_errors),
                message=_("The exception was requested; a leader decides on it."),
                then=lambda exception: url_for("credit.exception", exception_id=exception.id),
            )
            if done:
                return done
    return render_template(
        "credit/exception_form.html", form=form, page_errors=page_errors
    ), form_status()


@bp.route("/exceptions/<int:exception_id>")
@roles_required(*READERS)
def exception(exception_id: int):
    item = _visible_exception(exception_id)
    return _render_exception(item)


def _render_exception(item, decision=None, revoke=None, page_errors=(), status=200):
    today = services.company_today()
    rooms = queries.exception_rooms([item.counterparty_id], today).get(item.counterparty_id, [])
    room = next((r for r in rooms if r.id == item.id), None)
    return render_template(
        "credit/exception.html",
        item=item,
        decision=decision or DecisionForm(formdata=None),
        revoke=revoke or RevokeForm(formdata=None),
        page_errors=list(page_errors),
        may_decide=services.may_decide(item, current_user),
        room=room,
        state=services.exception_state(item, today),
    ), status


@bp.route("/exceptions/<int:exception_id>/approve", methods=["POST"])
@roles_required(EXECUTIVE)
def exception_approve(exception_id: int):
    return _decide(exception_id, approve=True)


@bp.route("/exceptions/<int:exception_id>/refuse", methods=["POST"])
@roles_required(EXECUTIVE)
def exception_refuse(exception_id: int):
    return _decide(exception_id, approve=False)


def _decide(exception_id: int, *, approve: bool):
    item = _visible_exception(exception_id)
    form = DecisionForm()
    page_errors: list = []
    if form.validate_on_submit():
        done = save(
            lambda: services.decide_exception(
                item, approve=approve, actor=current_user, note=form.note.data
            ),
            refused=services.CreditError,
            show=on_form(form, page_errors),
            message=_("Approved.") if approve else _("Refused."),
            then=url_for("credit.exception", exception_id=item.id),
        )
        if done:
            return done
    return _render_exception(item, decision=form, page_errors=page_errors, status=REFUSED)


@bp.route("/exceptions/<int:exception_id>/revoke", methods=["POST"])
@roles_required(FINANCE, SALES, EXECUTIVE)
def exception_revoke(exception_id: int):
    item = _visible_exception(exception_id)
    form = RevokeForm()
    page_errors: list = []
    if form.validate_on_submit():
        done = save(
            lambda: services.revoke_exception(item, actor=current_user, reason=form.reason.data),
            refused=services.CreditError,
            show=on_form(form, page_errors),
            message=_("Revoked."),
            then=url_for("credit.exception", exception_id=item.id),
        )
        if done:
            return done
    return _render_exception(item, revoke=form, page_errors=page_errors, status=REFUSED)


@bp.route("/check", methods=["GET", "POST"])
@roles_required(*READERS)
def check():
    form = CheckForm()
    decision = None
    counterparty = None
    status = 200
    if form.validate_on_submit():
        code = (form.counterparty.data or "").strip()
        try:
            counterparty = services.find_counterparty(code)
            if not queries.is_visible(counterparty.id, scope_user_id(current_user)):
                raise services.UnknownCounterparty(
                    _("No counterparty has the code %(code)s.", code=code), field="counterparty"
                )
            decision = services.credit_check(counterparty, form.amount.data or 0)
            db.session.rollback()  # a check writes nothing
        except services.CreditError as error:
            on_form(form, [])(error)
            status = 404 if isinstance(error, services.UnknownCounterparty) else 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "credit/check.html", form=form, decision=decision, counterparty=counterparty
    ), status


# ---------------------------------------------------------------------------------------------
# Groups


@bp.route("/groups")
@roles_required(*GROUP_MANAGERS, EXECUTIVE)
def groups():
    rows = db.session.scalars(sa.select(CreditGroup).order_by(CreditGroup.code)).all()
    exposures = queries.group_exposures(services.company_today(), [g.id for g in rows])
    return render_template(
        "credit/groups.html", groups=rows, exposures={k: from_fen(v) for k, v in exposures.items()}
    )


@bp.route("/groups/new", methods=["GET", "POST"])
@roles_required(*GROUP_MANAGERS)
def group_new():
    return _group_form(None)


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
@roles_required(*GROUP_MANAGERS, EXECUTIVE)
def group(group_id: int):
    item = db.session.get(CreditGroup, group_id) or abort(404)
    if request.method == "POST" and not current_user.has_role(*GROUP_MANAGERS):
        abort(403)
    return _group_form(item)


def _group_form(item: CreditGroup | None, member_form=None, status=200):
    form = GroupForm(obj=item) if member_form is None else GroupForm(formdata=None, obj=item)
    page_errors: list = []
    if member_form is None and form.validate_on_submit():
        done = save(
            lambda: services.save_group(
                item,
                code=form.code.data,
                name=form.name.data,
                credit_limit=form.credit_limit.data,
                note=form.note.data,
            ),
            refused=services.CreditError,
            show=on_form(form, page_errors),
            message=_("The group was saved."),
            then=lambda group: url_for("credit.group", group_id=group.id),
        )
        if done:
            return done
    if member_form is None:
        status = form_status()
    exposure = None
    if item is not None and item.id is not None:
        exposure = from_fen(
            queries.group_exposures(services.company_today(), [item.id]).get(item.id, 0)
        )
    return render_template(
        "credit/group.html",
        form=form,
        group=item,
        member_form=member_form or MemberForm(formdata=None),
        page_errors=page_errors,
        exposure=exposure,
    ), status


@bp.route("/groups/<int:group_id>/members", methods=["POST"])
@roles_required(*GROUP_MANAGERS)
def member_add(group_id: int):
    item = db.session.get(CreditGroup, group_id) or abort(404)
    form = MemberForm()
    if form.validate_on_submit():
        done = save(
            lambda: services.add_member(
                item, form.counterparty.data, is_parent=form.is_parent.data
            ),
            refused=services.CreditError,
            show=on_form(form, []),
            message=_("The member was added."),
            then=url_for("credit.group", group_id=item.id),
        )
        if done:
            return done
    return _group_form(item, member_form=form, status=REFUSED)


@bp.route("/groups/members/<int:member_id>/remove", methods=["POST"])
@roles_required(*GROUP_MANAGERS)
def member_remove(member_id: int):
    member = db.session.get(CreditGroupMember, member_id) or abort(404)
    try:
        services.remove_member(member)
    except services.CreditError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("The member left the group."), "success")
    return redirect(url_for("credit.group", group_id=member.group_id))
