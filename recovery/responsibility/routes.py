"""Who answers for a debt: history, reassignment, leaders and hand-overs.

Supervisors act (reassign, appoint leaders, draft and apply hand-overs); finance, legal and
executives read the history; a sales user reads the history of their own counterparties
(another's answers 404). Lifetime responsibility is shown on the ledger's own screens through
the template globals registered here.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from recovery.core.forms import choices
from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SUPERVISOR, roles_required
from recovery.core.urls import safe_next
from recovery.extensions import db
from recovery.ledger import screen_queries
from recovery.ledger.models import Item
from recovery.ledger.routes import READERS, company_today, scope, user_choices
from recovery.parties.forms import attach_error
from recovery.parties.models import Counterparty
from recovery.responsibility import queries, services
from recovery.responsibility.forms import (
    ChecklistForm,
    ConfirmForm,
    HandoverForm,
    LeaderForm,
    ReassignForm,
)
from recovery.responsibility.listeners import EDITED_ON_RECORD
from recovery.responsibility.models import Handover

bp = Blueprint("responsibility", __name__)

HISTORY_READERS = (FINANCE, SUPERVISOR, LEGAL, EXECUTIVE)

KIND_LABELS = {
    "initial": _l("First assignment"),
    "reassignment": _l("Reassignment"),
    "handover": _l("Hand-over"),
}
ROLE_LABELS = {"responsible": _l("First-responsible person"), "leader": _l("Leader")}
HANDOVER_STATUSES = {
    "draft": _l("Draft"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}


def reason_text(reason: str | None) -> str:
    """A stored reason as the reader reads it (changes made on the record carry a marker)."""
    if reason == EDITED_ON_RECORD:
        return str(_l("Changed on the record (ledger or counterparty form, or an import)"))
    return reason or ""


def _labels() -> dict:
    return {
        "responsibility_labels": {
            "kinds": KIND_LABELS,
            "roles": ROLE_LABELS,
            "statuses": HANDOVER_STATUSES,
        }
    }


bp.add_app_template_global(services.lifetime_names, "lifetime_names")
bp.add_app_template_global(
    services.lifetime_responsible_for_counterparty, "lifetime_responsible_for_counterparty"
)
bp.add_app_template_filter(reason_text, "responsibility_reason")
bp.context_processor(_labels)


def _visible_counterparty(counterparty_id: int) -> Counterparty:
    counterparty = db.session.get(Counterparty, counterparty_id)
    if counterparty is None or not screen_queries.counterparty_visible(counterparty.id, scope()):
        abort(404)
    return counterparty


def _visible_item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None or not screen_queries.counterparty_visible(item.counterparty_id, scope()):
        abort(404)
    return item


def _executive_choices():
    leaders = db.session.scalars(services.executives()).all()
    return choices([(None, "—"), *((u.id, f"{u.display_name} ({u.username})") for u in leaders)])


def _reassign_form() -> ReassignForm:
    form = ReassignForm()
    form.to_user_id.choices = user_choices()
    return form


def _leader_form() -> LeaderForm:
    form = LeaderForm()
    form.leader_id.choices = _executive_choices()
    return form


# ---------------------------------------------------------------------------------------------
# A counterparty's history, reassignment and leader


def _render_counterparty(counterparty: Counterparty, reassign_form=None, leader_form=None):
    changes = queries.counterparty_changes(counterparty.id)
    return render_template(
        "responsibility/counterparty.html",
        counterparty=counterparty,
        changes=changes,
        first_responsible=queries.first_holder(changes, "responsible", counterparty.responsible_id),
        item_changes=queries.item_changes_page(
            counterparty.id, request.args.get("page", 1, type=int)
        ),
        lifetime=services.lifetime_responsible_for_counterparty(counterparty.id),
        reassign_form=reassign_form or _reassign_form(),
        leader_form=leader_form or _leader_form(),
    )


@bp.route("/counterparties/<int:counterparty_id>")
@roles_required(*READERS)
def counterparty(counterparty_id: int):
    return _render_counterparty(_visible_counterparty(counterparty_id))


@bp.route("/counterparties/<int:counterparty_id>/reassign", methods=["POST"])
@roles_required(SUPERVISOR)
def reassign(counterparty_id: int):
    counterparty = db.session.get(Counterparty, counterparty_id) or abort(404)
    form = _reassign_form()
    if form.validate_on_submit():
        try:
            moved = services.reassign(
                counterparty, form.to_user_id.data, reason=form.reason.data, actor=current_user
            )
        except services.ResponsibilityError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            db.session.commit()
            flash(
                _(
                    "%(code)s was reassigned, with %(n)d open items.",
                    code=counterparty.code,
                    n=moved.items,
                ),
                "success",
            )
            return redirect(url_for(".counterparty", counterparty_id=counterparty.id))
    return _render_counterparty(counterparty, reassign_form=form)


@bp.route("/counterparties/<int:counterparty_id>/leader", methods=["POST"])
@roles_required(SUPERVISOR)
def set_leader(counterparty_id: int):
    counterparty = db.session.get(Counterparty, counterparty_id) or abort(404)
    form = _leader_form()
    if form.validate_on_submit():
        try:
            services.set_leader(
                counterparty, form.leader_id.data, reason=form.reason.data, actor=current_user
            )
        except services.ResponsibilityError as error:
            db.session.rollback()
            attach_error(form, error, "leader_id")
        else:
            db.session.commit()
            flash(_("The leader of %(code)s was set.", code=counterparty.code), "success")
            default = url_for(".counterparty", counterparty_id=counterparty.id)
            return redirect(safe_next(form.next.data, default))
    return _render_counterparty(counterparty, leader_form=form)


# ---------------------------------------------------------------------------------------------
# An item's history and reassignment


def _render_item(item: Item, form=None):
    changes = queries.item_changes(item.id)
    return render_template(
        "responsibility/item.html",
        item=item,
        changes=changes,
        first_responsible=queries.first_holder(changes, "responsible", item.responsible_id),
        lifetime=services.lifetime_responsible([item.id]).get(item.id),
        form=form or _reassign_form(),
    )


@bp.route("/items/<int:item_id>")
@roles_required(*READERS)
def item(item_id: int):
    return _render_item(_visible_item(item_id))


@bp.route("/items/<int:item_id>/reassign", methods=["POST"])
@roles_required(SUPERVISOR)
def item_reassign(item_id: int):
    item = db.session.get(Item, item_id) or abort(404)
    form = _reassign_form()
    if form.validate_on_submit():
        try:
            services.reassign_item(
                item, form.to_user_id.data, reason=form.reason.data, actor=current_user
            )
        except services.ResponsibilityError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            db.session.commit()
            flash(_("Item %(no)s was reassigned.", no=item.document_no), "success")
            return redirect(url_for(".item", item_id=item.id))
    return _render_item(item, form)


# ---------------------------------------------------------------------------------------------
# Hand-overs


@bp.route("/handovers")
@roles_required(*HISTORY_READERS)
def handovers():
    return render_template(
        "responsibility/handovers.html",
        page=queries.handovers_page(request.args.get("page", 1, type=int)),
    )


@bp.route("/handovers/new", methods=["GET", "POST"])
@roles_required(SUPERVISOR)
def new_handover():
    form = HandoverForm()
    form.from_user_id.choices = user_choices()
    form.to_user_id.choices = user_choices()
    if request.method == "GET" and request.args.get("from_user_id", type=int):
        form.from_user_id.data = request.args.get("from_user_id", type=int)
    if form.validate_on_submit():
        try:
            handover = services.draft_handover(
                from_user_id=form.from_user_id.data,
                to_user_id=form.to_user_id.data,
                reason=form.reason.data,
                actor=current_user,
                as_of=company_today(),
                extra_lines=(form.extra_lines.data or "").splitlines(),
            )
        except services.ResponsibilityError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            db.session.commit()
            flash(_("The hand-over was drafted: tick its checklist, then apply it."), "success")
            return redirect(url_for(".handover", handover_id=handover.id))
    return render_template("responsibility/handover_form.html", form=form)


def _checklist_form(handover: Handover) -> ChecklistForm:
    data = [{"check_id": c.id, "done": c.done, "note": c.note or ""} for c in handover.checklist]
    return ChecklistForm(data={"lines": data})


def _render_handover(handover: Handover, form=None, error=None):
    preview = None
    if handover.status == "draft":
        preview = services.holdings(handover.from_user_id, company_today())
    return render_template(
        "responsibility/handover.html",
        handover=handover,
        form=form or _checklist_form(handover),
        labels={c.id: c for c in handover.checklist},
        preview=preview,
        error=error,
        cancel_form=ConfirmForm(),
        moved=queries.handover_changes_page(handover.id, request.args.get("page", 1, type=int)),
    )


@bp.route("/handovers/<int:handover_id>")
@roles_required(*HISTORY_READERS)
def handover(handover_id: int):
    return _render_handover(db.session.get(Handover, handover_id) or abort(404))


def _ticks(form: ChecklistForm) -> dict[int, tuple[bool, str | None]]:
    ticks = {}
    for line in form.lines:
        text = line.form.check_id.data or ""
        if text.isdigit():
            ticks[int(text)] = (bool(line.form.done.data), line.form.note.data)
    return ticks


@bp.route("/handovers/<int:handover_id>/checklist", methods=["POST"])
@roles_required(SUPERVISOR)
def handover_checklist(handover_id: int):
    handover = db.session.get(Handover, handover_id) or abort(404)
    form = ChecklistForm()
    if not form.validate_on_submit():
        return _render_handover(handover, form)
    try:
        services.tick_checklist(handover, _ticks(form), actor=current_user)
    except services.ResponsibilityError as error:
        db.session.rollback()
        return _render_handover(handover, form, error.message)
    db.session.commit()
    if not form.apply.data:
        flash(_("The checklist was saved."), "success")
        return redirect(url_for(".handover", handover_id=handover.id))
    try:
        moved = services.apply_handover(handover, actor=current_user)
    except services.ResponsibilityError as error:
        db.session.rollback()
        return _render_handover(handover, form, error.message)
    db.session.commit()
    flash(
        _(
            "The hand-over was applied: %(cps)d counterparties, %(items)d open items and "
            "%(cases)d open cases moved.",
            cps=moved.counterparties,
            items=moved.items,
            cases=moved.cases,
        ),
        "success",
    )
    return redirect(url_for(".handover", handover_id=handover.id))


@bp.route("/handovers/<int:handover_id>/cancel", methods=["POST"])
@roles_required(SUPERVISOR)
def handover_cancel(handover_id: int):
    handover = db.session.get(Handover, handover_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.cancel_handover(handover, actor=current_user)
    except services.ResponsibilityError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("The draft hand-over was cancelled."), "info")
    return redirect(url_for(".handover", handover_id=handover.id))


# ---------------------------------------------------------------------------------------------
# Debts that need a leader


@bp.route("/leaders")
@roles_required(SUPERVISOR, EXECUTIVE)
def leaders():
    as_of = company_today()
    amount, days = queries.leader_thresholds()
    return render_template(
        "responsibility/leaders.html",
        page=queries.needing_leader(as_of, request.args.get("page", 1, type=int)),
        as_of=as_of,
        amount=amount,
        days=days,
        executives=db.session.scalars(services.executives()).all(),
        with_leader=db.session.scalar(
            sa.select(sa.func.count()).where(Counterparty.leader_id.is_not(None))
        ),
    )
