"""The screens of recovery cases, strategies and their approvals.

Sales work the cases of their own counterparties (and those assigned to them; any other case
answers 404); supervisors work every case and assign collectors; finance, legal and
executive read every case and decide their steps of the approval chains. The views parse
input, call recovery.cases.services / strategies, commit once, and render.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from recovery.auth.models import User, UserRole
from recovery.cases import queries, services, strategies
from recovery.cases.errors import CaseError, StaleEdit
from recovery.cases.forms import (
    AssignForm,
    CaseForm,
    CloseForm,
    CollateralForm,
    DecisionForm,
    ExtensionDecisionForm,
    ExtensionForm,
    RegistrationForm,
    StrategyForm,
    StrategyNewForm,
    VersionForm,
)
from recovery.cases.labels import STRATEGY_KIND_LABELS, case_labels
from recovery.cases.models import (
    CASE_STATUSES,
    Collateral,
    ExtensionRequest,
    RecoveryCase,
    Strategy,
)
from recovery.core.forms import choices
from recovery.core.pagination import PER_PAGE, Page, paginate
from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SALES, SUPERVISOR, roles_required
from recovery.extensions import db
from recovery.ledger import screen_queries
from recovery.ledger.routes import as_of_from, company_today, scope, submitted
from recovery.parties.forms import attach_error
from recovery.parties.models import Counterparty
from recovery.parties.services import find_counterparty

bp = Blueprint("cases", __name__)
bp.app_context_processor(case_labels)

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
WRITERS = (SALES, SUPERVISOR)
DECIDERS = (FINANCE, LEGAL, EXECUTIVE)


# ---------------------------------------------------------------------------------------------
# Helpers


def get_visible_case(case_id: int) -> RecoveryCase:
    """The case, or 404 when it does not exist or this sales user does not work it."""
    case = db.session.get(RecoveryCase, case_id)
    if case is None:
        abort(404)
    user_id = scope()
    if (
        user_id is not None
        and case.assignee_id != user_id
        and not screen_queries.counterparty_visible(case.counterparty_id, user_id)
    ):
        abort(404)
    return case


def get_visible_strategy(strategy_id: int) -> Strategy:
    strategy = db.session.get(Strategy, strategy_id) or abort(404)
    get_visible_case(strategy.case_id)
    return strategy


def get_visible_counterparty(counterparty_id: int) -> Counterparty:
    counterparty = db.session.get(Counterparty, counterparty_id)
    if counterparty is None or not screen_queries.counterparty_visible(counterparty.id, scope()):
        abort(404)
    return counterparty


def collectors() -> list[User]:
    """Active users who may work a case: sales users and supervisors."""
    return db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.id.in_(
                sa.select(UserRole.user_id).where(UserRole.role.in_(services.COLLECTOR_ROLES))
            ),
        )
        .order_by(User.display_name)
    ).all()


def collector_choices(empty: bool = True):
    pairs = [(None, "—")] if empty else []
    pairs += [(u.id, f"{u.display_name} ({u.username})") for u in collectors()]
    return choices(pairs)


def _flash_error(error: CaseError) -> None:
    flash(str(error.message), "warning" if isinstance(error, StaleEdit) else "danger")


def posted_version() -> str | None:
    """The version a form was shown at. Read from the request itself: a form built on the
    record would fill a missing field from the record and so defeat the check."""
    return request.form.get("version")


def activity_panel(case: RecoveryCase, as_of: date) -> dict | None:
    """The activities part of the case page, when that part of the application provides it
    (recovery.activities.services.case_panel); None before it exists."""
    try:
        from recovery.activities import services as activity_services
    except ImportError:
        return None
    panel = getattr(activity_services, "case_panel", None)
    return panel(case, as_of) if panel is not None else None


# ---------------------------------------------------------------------------------------------
# The case list and the automatic proposals


@bp.route("/")
@roles_required(*READERS)
def index():
    as_of = company_today()
    case_filter = queries.CaseFilter.from_args(request.args)
    case_filter.visible_to = scope()
    page = paginate(queries.case_list_query(case_filter), request.args.get("page", 1, type=int))
    ids = [case.id for case in page.items]
    return render_template(
        "cases/index.html",
        page=page,
        case_filter=case_filter,
        as_of=as_of,
        recovered=queries.recovered_since_opening(ids, as_of),
        balances=queries.balances_by_counterparty(
            list({case.counterparty_id for case in page.items}), as_of
        ),
        strategies=queries.strategy_kinds_by_case(ids),
        collectors=collectors(),
        statuses=CASE_STATUSES,
        kinds=STRATEGY_KIND_LABELS,
    )


@bp.route("/proposals")
@roles_required(SUPERVISOR)
def proposals():
    as_of = company_today()
    rows = services.proposals(as_of)
    number = max(1, request.args.get("page", 1, type=int) or 1)
    page = Page(
        items=rows[(number - 1) * PER_PAGE : number * PER_PAGE],
        number=number,
        per_page=PER_PAGE,
        total=len(rows),
    )
    min_overdue, min_days = services.proposal_thresholds()
    return render_template(
        "cases/proposals.html",
        page=page,
        as_of=as_of,
        min_overdue=min_overdue,
        min_days=min_days,
    )


# ---------------------------------------------------------------------------------------------
# Opening and editing a case


def _case_values(form: CaseForm) -> dict:
    return {
        "cause": form.cause.data,
        "cause_note": form.cause_note.data,
        "target_amount": form.target_amount.data,
        "target_date": form.target_date.data,
        "plan": form.plan.data,
    }


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new():
    counterparty_id = request.args.get("counterparty_id", "")
    code = (request.args.get("counterparty") or "").strip()
    if not counterparty_id.isdigit():
        found = find_counterparty(code) if code else None
        if found is None:
            # Ask which counterparty (a code typed wrongly is shown again with the reason).
            return render_template("cases/choose.html", code=code, unknown=bool(code))
        counterparty_id = str(found.id)
    counterparty = get_visible_counterparty(int(counterparty_id))
    existing = queries.open_case_for(counterparty.id)
    if existing is not None and request.method == "GET":
        flash(_("%(code)s already has an open case.", code=counterparty.code), "info")
        return redirect(url_for("cases.show", case_id=existing.id))
    today = company_today()
    form = CaseForm()
    del form.version
    if current_user.has_role(SUPERVISOR):
        form.assignee_id.choices = collector_choices()
    else:
        del form.assignee_id
    if request.method == "GET":
        form.origin.data = "proposed" if request.args.get("origin") == "proposed" else "manual"
    position = queries.counterparty_position(counterparty.id, today)
    if request.method == "GET" and position.overdue > 0:
        form.target_amount.data = position.overdue
    if form.validate_on_submit():
        try:
            case = services.open_case(
                counterparty,
                actor=current_user,
                today=today,
                opening_reason=form.opening_reason.data,
                assignee_id=form.assignee_id.data if "assignee_id" in form else None,
                origin=form.origin.data if form.origin.data in ("manual", "proposed") else "manual",
                **_case_values(form),
            )
        except CaseError as error:
            db.session.rollback()
            attach_error(form, error, "cause")
        else:
            db.session.commit()
            flash(_("Case %(no)s was opened.", no=case.number), "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template(
        "cases/form.html",
        form=form,
        case=None,
        counterparty=counterparty,
        position=position,
        as_of=today,
        current=None,
    )


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit(case_id: int):
    case = get_visible_case(case_id)
    form = CaseForm(obj=case)
    for name in ("opening_reason", "assignee_id", "origin"):
        delattr(form, name)
    if request.method == "GET":
        form.version.data = str(case.version)
    current = None
    if form.validate_on_submit():
        try:
            services.update_case(
                case,
                version=posted_version(),
                actor=current_user,
                today=company_today(),
                **_case_values(form),
            )
        except StaleEdit as error:
            db.session.rollback()
            # Keep what the user typed, show the current values beside it, and let the next
            # save (made knowing them) go through.
            current = db.session.get(RecoveryCase, case_id)
            form.version.data = str(current.version)
            form.form_errors.append(error.message)
        except CaseError as error:
            db.session.rollback()
            attach_error(form, error, "cause")
        else:
            db.session.commit()
            flash(_("Case %(no)s was saved.", no=case.number), "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template(
        "cases/form.html",
        form=form,
        case=case,
        counterparty=case.counterparty,
        position=None,
        as_of=company_today(),
        current=current,
    )


# ---------------------------------------------------------------------------------------------
# The case page


@bp.route("/<int:case_id>")
@roles_required(*READERS)
def show(case_id: int):
    case = get_visible_case(case_id)
    as_of, bad_as_of = as_of_from(request.args)
    assign_form = AssignForm()
    assign_form.assignee_id.choices = collector_choices(empty=False)
    assign_form.assignee_id.data = case.assignee_id
    extensions = db.session.scalars(
        sa.select(ExtensionRequest)
        .where(ExtensionRequest.case_id == case.id)
        .order_by(ExtensionRequest.requested_at.desc(), ExtensionRequest.id.desc())
    ).all()
    return render_template(
        "cases/show.html",
        case=case,
        as_of=as_of,
        bad_as_of=bad_as_of,
        progress=services.case_progress(case, as_of),
        position=queries.counterparty_position(case.counterparty_id, as_of),
        proposal=services.propose_strategy(case.counterparty, as_of),
        strategies=[s for s in case.strategies if s.status != "cancelled"],
        cancelled=[s for s in case.strategies if s.status == "cancelled"],
        extensions=extensions,
        assign_form=assign_form,
        version_form=VersionForm(),
        extension_form=ExtensionDecisionForm(),
        activity_panel=activity_panel(case, as_of),
        chain=strategies.CHAIN,
        chain_kinds=strategies.CHAIN_KINDS,
    )


def _case_action(case_id: int, action, done_message: str):
    """A button on the case page: the service with the version it was shown at."""
    case = get_visible_case(case_id)
    try:
        action(case, posted_version())
    except CaseError as error:
        db.session.rollback()
        _flash_error(error)
    else:
        db.session.commit()
        flash(done_message, "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/<int:case_id>/assign", methods=["POST"])
@roles_required(SUPERVISOR)
def assign(case_id: int):
    case = get_visible_case(case_id)
    form = AssignForm()
    form.assignee_id.choices = collector_choices(empty=False)
    if not form.validate_on_submit():
        flash(_("Choose the collector."), "danger")
        return redirect(url_for("cases.show", case_id=case_id))
    try:
        services.assign_case(
            case, form.assignee_id.data, version=posted_version(), actor=current_user
        )
    except CaseError as error:
        db.session.rollback()
        _flash_error(error)
    else:
        db.session.commit()
        flash(_("Assigned to %(name)s.", name=case.assignee.display_name), "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/<int:case_id>/start", methods=["POST"])
@roles_required(*WRITERS)
def start(case_id: int):
    return _case_action(
        case_id,
        lambda case, version: services.start_case(case, version=version, actor=current_user),
        _("The case is in progress."),
    )


@bp.route("/<int:case_id>/visit", methods=["POST"])
@roles_required(*WRITERS)
def visit(case_id: int):
    return _case_action(
        case_id,
        lambda case, version: services.request_visit(case, version=version, actor=current_user),
        _("Handed to a field visit: the visit is due within the service level."),
    )


def _typed_action(case_id: int, form, template: str, title: str, action):
    """A case action with typed input (refer, close): errors re-show the form as typed."""
    case = get_visible_case(case_id)
    if request.method == "GET":
        form.version.data = str(case.version)
    if form.validate_on_submit():
        try:
            action(case, form)
        except CaseError as error:
            db.session.rollback()
            if isinstance(error, StaleEdit):
                form.version.data = str(db.session.get(RecoveryCase, case_id).version)
                form.form_errors.append(error.message)
            else:
                attach_error(form, error, "note")
        else:
            db.session.commit()
            flash(_("Case %(no)s was saved.", no=case.number), "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template(template, form=form, case=case, title=title)


@bp.route("/<int:case_id>/refer", methods=["GET", "POST"])
@roles_required(*WRITERS)
def refer(case_id: int):
    """Referring to legal is the referral flow of the legal part (claim and evidence package):
    the case becomes 'referred' when the referral is sent."""
    case = get_visible_case(case_id)
    return redirect(url_for("legal.new_referral", case_id=case.id))


@bp.route("/<int:case_id>/close", methods=["GET", "POST"])
@roles_required(*WRITERS)
def close(case_id: int):
    return _typed_action(
        case_id,
        CloseForm(),
        "cases/case_action.html",
        _("Close the case"),
        lambda case, form: services.close_case(
            case,
            form.outcome.data,
            form.note.data,
            version=posted_version(),
            actor=current_user,
            today=company_today(),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Extension requests


@bp.route("/<int:case_id>/extensions/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_extension(case_id: int):
    case = get_visible_case(case_id)
    form = ExtensionForm()
    if submitted(form) and not form.errors:
        try:
            services.request_extension(
                case,
                reason=form.reason.data,
                next_plan=form.next_plan.data,
                until_on=form.until_on.data,
                actor=current_user,
                today=company_today(),
            )
        except CaseError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            db.session.commit()
            flash(_("The extension was requested; a supervisor decides."), "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template(
        "cases/case_action.html", form=form, case=case, title=_("Request an extension")
    )


@bp.route("/extensions/<int:request_id>/decide", methods=["POST"])
@roles_required(SUPERVISOR)
def decide_extension(request_id: int):
    extension = db.session.get(ExtensionRequest, request_id) or abort(404)
    get_visible_case(extension.case_id)
    form = ExtensionDecisionForm()
    if not form.validate_on_submit():
        flash(_("The decision was not understood; try again."), "danger")
        return redirect(url_for("cases.show", case_id=extension.case_id))
    approve = bool(form.approve.data)
    try:
        services.decide_extension(
            extension, approve=approve, note=form.note.data, actor=current_user
        )
    except CaseError as error:
        db.session.rollback()
        _flash_error(error)
    else:
        db.session.commit()
        flash(
            _("The extension was approved.") if approve else _("The extension was rejected."),
            "success",
        )
    return redirect(url_for("cases.show", case_id=extension.case_id))


# ---------------------------------------------------------------------------------------------
# Strategies


@bp.route("/<int:case_id>/strategies/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_strategy(case_id: int):
    case = get_visible_case(case_id)
    today = company_today()
    proposed_kind, reason = services.propose_strategy(case.counterparty, today)
    form = StrategyNewForm()
    if request.method == "GET":
        form.kind.data = proposed_kind
    if form.validate_on_submit():
        try:
            strategy = strategies.record_strategy(
                case, form.kind.data, form.rationale.data, actor=current_user, as_of=today
            )
        except CaseError as error:
            db.session.rollback()
            attach_error(form, error, "kind")
        else:
            db.session.commit()
            flash(_("The strategy was recorded."), "success")
            return redirect(url_for("cases.strategy", strategy_id=strategy.id))
    return render_template(
        "cases/strategy_new.html",
        form=form,
        case=case,
        proposed_kind=proposed_kind,
        reason=reason,
        chain_kinds=strategies.CHAIN_KINDS,
    )


def _render_strategy(strategy: Strategy, decision_form: DecisionForm | None = None):
    decision_form = decision_form or DecisionForm()
    if not decision_form.version.data:
        decision_form.version.data = str(strategy.version)
    refusal = strategies.refusal_to_decide(strategy, current_user)
    return render_template(
        "cases/strategy.html",
        strategy=strategy,
        case=strategy.case,
        decision_form=decision_form,
        refusal=refusal,
        version_form=VersionForm(),
        editable=strategies.editable_fields(strategy),
        missing=strategies.missing_for_submission(strategy),
        field_labels=strategies.FIELD_LABELS,
        chain=strategies.CHAIN,
        step_roles=strategies.STEP_ROLES,
        chain_kinds=strategies.CHAIN_KINDS,
        kind_fields=strategies.KIND_FIELDS[strategy.kind],
        position=queries.counterparty_position(strategy.case.counterparty_id, company_today()),
    )


@bp.route("/strategies/<int:strategy_id>")
@roles_required(*READERS)
def strategy(strategy_id: int):
    return _render_strategy(get_visible_strategy(strategy_id))


@bp.route("/strategies/<int:strategy_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def strategy_edit(strategy_id: int):
    strategy = get_visible_strategy(strategy_id)
    allowed = strategies.editable_fields(strategy)
    if not allowed:
        flash(_("This strategy can no longer be changed."), "warning")
        return redirect(url_for("cases.strategy", strategy_id=strategy.id))
    form = StrategyForm(obj=strategy)
    for name in list(strategies.FIELD_LABELS):
        if name in form and name not in allowed:
            delattr(form, name)
    if request.method == "GET":
        form.version.data = str(strategy.version)
    current = None
    if submitted(form) and not form.errors:
        values = {name: form[name].data for name in allowed}
        try:
            strategies.update_strategy(
                strategy,
                version=posted_version(),
                actor=current_user,
                today=company_today(),
                **values,
            )
        except StaleEdit as error:
            db.session.rollback()
            current = db.session.get(Strategy, strategy_id)
            form.version.data = str(current.version)
            form.form_errors.append(error.message)
        except CaseError as error:
            db.session.rollback()
            attach_error(form, error, allowed[0])
        else:
            db.session.commit()
            flash(_("The strategy was saved."), "success")
            return redirect(url_for("cases.strategy", strategy_id=strategy.id))
    return render_template(
        "cases/strategy_form.html",
        form=form,
        strategy=strategy,
        case=strategy.case,
        current=current,
        shown=allowed,
        field_labels=strategies.FIELD_LABELS,
    )


@bp.route("/strategies/<int:strategy_id>/collateral/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def collateral_new(strategy_id: int):
    strategy = get_visible_strategy(strategy_id)
    form = CollateralForm()
    if submitted(form) and not form.errors:
        try:
            strategies.add_collateral(
                strategy,
                kind=form.kind.data,
                asset=form.asset.data,
                value=form.value.data,
                registration_no=form.registration_no.data,
                registered_on=form.registered_on.data,
                registry_office=form.registry_office.data,
                today=company_today(),
            )
        except CaseError as error:
            db.session.rollback()
            attach_error(form, error, "asset")
        else:
            db.session.commit()
            flash(_("The collateral was added."), "success")
            return redirect(url_for("cases.strategy", strategy_id=strategy.id))
    return render_template(
        "cases/case_action.html",
        form=form,
        case=strategy.case,
        strategy=strategy,
        title=_("Add collateral"),
    )


@bp.route("/collateral/<int:collateral_id>", methods=["GET", "POST"])
@roles_required(*WRITERS)
def collateral_edit(collateral_id: int):
    line = db.session.get(Collateral, collateral_id) or abort(404)
    strategy = get_visible_strategy(line.strategy_id)
    form = RegistrationForm(obj=line)
    if submitted(form) and not form.errors:
        try:
            strategies.register_collateral(
                line,
                registration_no=form.registration_no.data,
                registered_on=form.registered_on.data,
                registry_office=form.registry_office.data,
                today=company_today(),
            )
        except CaseError as error:
            db.session.rollback()
            attach_error(form, error, "registration_no")
        else:
            db.session.commit()
            flash(_("The registration was saved."), "success")
            return redirect(url_for("cases.strategy", strategy_id=strategy.id))
    return render_template(
        "cases/case_action.html",
        form=form,
        case=strategy.case,
        strategy=strategy,
        title=_("Registration of %(asset)s", asset=line.asset),
    )


@bp.route("/collateral/<int:collateral_id>/withdraw", methods=["POST"])
@roles_required(*WRITERS)
def collateral_withdraw(collateral_id: int):
    line = db.session.get(Collateral, collateral_id) or abort(404)
    strategy = get_visible_strategy(line.strategy_id)
    if not VersionForm().validate_on_submit():
        abort(400)
    try:
        strategies.withdraw_collateral(line)
    except CaseError as error:
        db.session.rollback()
        _flash_error(error)
    else:
        db.session.commit()
        flash(_("The collateral was withdrawn."), "success")
    return redirect(url_for("cases.strategy", strategy_id=strategy.id))


def _strategy_action(strategy_id: int, action, done_message: str):
    strategy = get_visible_strategy(strategy_id)
    try:
        action(strategy, posted_version())
    except CaseError as error:
        db.session.rollback()
        _flash_error(error)
    else:
        db.session.commit()
        flash(done_message, "success")
    return redirect(url_for("cases.strategy", strategy_id=strategy_id))


@bp.route("/strategies/<int:strategy_id>/submit", methods=["POST"])
@roles_required(*WRITERS)
def strategy_submit(strategy_id: int):
    return _strategy_action(
        strategy_id,
        lambda strategy, version: strategies.submit_strategy(
            strategy, version=version, actor=current_user, as_of=company_today()
        ),
        _("Submitted for approval."),
    )


@bp.route("/strategies/<int:strategy_id>/complete", methods=["POST"])
@roles_required(FINANCE, *WRITERS)
def strategy_complete(strategy_id: int):
    return _strategy_action(
        strategy_id,
        lambda strategy, version: strategies.complete_strategy(
            strategy, version=version, actor=current_user, today=company_today()
        ),
        _("The strategy was completed."),
    )


@bp.route("/strategies/<int:strategy_id>/cancel", methods=["POST"])
@roles_required(*WRITERS)
def strategy_cancel(strategy_id: int):
    return _strategy_action(
        strategy_id,
        lambda strategy, version: strategies.cancel_strategy(
            strategy, version=version, actor=current_user
        ),
        _("The strategy was cancelled."),
    )


DECISION_MESSAGES = {
    "approved": _l("The step was approved; the next step decides now."),
    "rejected": _l("The strategy was rejected."),
    "sent_back": _l("The strategy was sent back to its proposer."),
}


@bp.route("/strategies/<int:strategy_id>/decide", methods=["POST"])
@roles_required(*DECIDERS)
def strategy_decide(strategy_id: int):
    strategy = get_visible_strategy(strategy_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_strategy(strategy, form)
    decision = form.decision()
    try:
        strategies.decide_strategy(
            strategy, decision, form.reason.data, version=posted_version(), actor=current_user
        )
    except CaseError as error:
        db.session.rollback()
        strategy = db.session.get(Strategy, strategy_id)
        if isinstance(error, StaleEdit):
            form.version.data = str(strategy.version)
            form.form_errors.append(error.message)
        else:
            attach_error(form, error, "reason")
        return _render_strategy(strategy, form)
    db.session.commit()
    if strategy.status == "approved":
        flash(_("Approved: the strategy may now be carried out."), "success")
    else:
        flash(str(DECISION_MESSAGES[decision]), "success")
    return redirect(url_for("cases.strategy", strategy_id=strategy.id))


@bp.route("/approvals")
@roles_required(*DECIDERS)
def approvals():
    query = strategies.pending_approvals_for(current_user)
    page = paginate(query, request.args.get("page", 1, type=int))
    return render_template(
        "cases/approvals.html",
        page=page,
        decision_form=DecisionForm(),
    )
