"""The screens of collection work: log an activity (with evidence, a promise, the conduct
guard), review visit records, promises, disputes, and evidence downloads.

Finance, sales, supervisors and legal log work; executives read it. A sales user reaches only
the counterparties they are responsible for: anything else answers 404, as in the ledger.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from recovery.activities import evidence, rules, services
from recovery.activities.disputes import item_disputed
from recovery.activities.forms import (
    ActivityForm,
    CancelPromiseForm,
    DisputeForm,
    PromiseForm,
    ResolveForm,
    ResubmitForm,
    ReviewForm,
)
from recovery.activities.models import ACTIVITY_KINDS, Activity, Dispute, EvidenceFile, Promise
from recovery.activities.promises import STATUSES, promise_status_rows
from recovery.auth.models import User
from recovery.cases.models import RecoveryCase
from recovery.core.forms import choices
from recovery.core.money import display_amount, from_fen
from recovery.core.pagination import PER_PAGE, Page, paginate
from recovery.core.permissions import (
    EXECUTIVE,
    FINANCE,
    LEGAL,
    SALES,
    SUPERVISOR,
    roles_required,
)
from recovery.core.timeutil import utcnow
from recovery.core.urls import safe_next
from recovery.core.views import form_status, on_form, save
from recovery.extensions import db
from recovery.ledger import queries, screen_queries
from recovery.ledger.models import Item
from recovery.ledger.routes import as_of_from, scope
from recovery.parties.models import Counterparty

bp = Blueprint("activities", __name__)

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
WRITERS = (FINANCE, SALES, SUPERVISOR, LEGAL)


# ---------------------------------------------------------------------------------------------
# Template helpers (app-wide: the case and counterparty pages include the panel)


def activity_labels() -> dict:
    return {
        "activity_labels": {
            "kinds": rules.KIND_LABELS,
            "review": rules.REVIEW_STATUS_LABELS,
            "grounds": rules.INTERRUPTION_GROUNDS,
            "promise_statuses": rules.PROMISE_STATUS_LABELS,
            "dispute_statuses": rules.DISPUTE_STATUS_LABELS,
            "dispute_reasons": rules.DISPUTE_REASON_LABELS,
        }
    }


def activity_panel_for(counterparty_id: int, as_of):
    """The panel of a counterparty page (the page has already checked who may see it)."""
    return services.counterparty_panel(counterparty_id, as_of)


bp.add_app_template_filter(services.format_local, "activity_time")
bp.add_app_template_global(activity_panel_for, "activity_panel_for")
bp.app_context_processor(activity_labels)


# ---------------------------------------------------------------------------------------------
# Shared view helpers


def may_see(counterparty_id: int) -> bool:
    """Whether the user may see a counterparty's collection work: everyone but sales; a sales
    user for the accounts they are responsible for (as in the ledger) and for the
    counterparties of cases assigned to them (a collector works the case)."""
    user_id = scope()
    if screen_queries.counterparty_visible(counterparty_id, user_id):
        return True
    return (
        db.session.scalar(
            sa.select(RecoveryCase.id)
            .where(
                RecoveryCase.counterparty_id == counterparty_id,
                RecoveryCase.assignee_id == user_id,
            )
            .limit(1)
        )
        is not None
    )


def visible_counterparty(counterparty_id: int | None) -> Counterparty:
    """The counterparty, or 404 when it does not exist or the user may not see it."""
    counterparty = db.session.get(Counterparty, counterparty_id) if counterparty_id else None
    if counterparty is None or not may_see(counterparty.id):
        abort(404)
    return counterparty


def visible_activity(activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        abort(404)
    visible_counterparty(activity.counterparty_id)
    return activity


def case_of(counterparty: Counterparty, case_id: int | None) -> RecoveryCase | None:
    """The case named in the address (404 unless it is the counterparty's), else its open one."""
    if case_id is None:
        return services.open_case_of(counterparty.id)
    case = db.session.get(RecoveryCase, case_id)
    if case is None or case.counterparty_id != counterparty.id:
        abort(404)
    return case


def show_error(form, error, page_errors: list) -> None:
    """A refusal beside the field it names, or above the form when no field shows it."""
    on_form(form, page_errors)(error)


def visible_ids():
    """None (everything) or a SELECT of the counterparties a sales user may see (may_see)."""
    user_id = scope()
    if user_id is None:
        return None
    # The ledger's own accounts as a subquery: SQLite refuses a UNION nested in a UNION.
    own = screen_queries.visible_counterparty_ids(user_id).subquery("own")
    return sa.union(
        sa.select(*own.c),
        sa.select(RecoveryCase.counterparty_id).where(RecoveryCase.assignee_id == user_id),
    )


def _page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _rows_page(query, count_query) -> Page:
    number = _page_number()
    total = db.session.scalar(count_query) or 0
    rows = db.session.execute(query.limit(PER_PAGE).offset((number - 1) * PER_PAGE)).all()
    return Page(items=rows, number=number, per_page=PER_PAGE, total=total)


# ---------------------------------------------------------------------------------------------
# Activities


def _contact_choices(contacts):
    pairs = [(None, _("— the debtor itself (no named person)"))]
    for contact in contacts:
        label = contact.name + (f", {contact.title}" if contact.title else "")
        if contact.phone:
            label += f" · {contact.phone}"
        pairs.append((contact.id, label))
    return choices(pairs)


def _activity_input(form: ActivityForm, counterparty, case) -> services.ActivityInput:
    return services.ActivityInput(
        counterparty_id=counterparty.id,
        case_id=case.id if case else None,
        kind=form.kind.data,
        occurred_at=form.occurred_at.data,
        summary=form.summary.data or "",
        contact_id=form.contact_id.data,
        connected=bool(form.connected.data),
        outcome=form.outcome.data,
        next_step=form.next_step.data,
        next_step_on=form.next_step_on.data,
        proof_of_arrival=form.proof_of_arrival.data,
        debtor_acknowledged=bool(form.debtor_acknowledged.data),
        conduct_override_reason=form.conduct_override_reason.data,
        promise_amount=form.promise_amount.data,
        promise_due_on=form.promise_due_on.data,
        promise_note=form.promise_note.data,
    )


def _save_activity(values: services.ActivityInput, storages) -> Activity:
    """Conduct check first (before any file is written), then files, then the rows: a
    refusal anywhere leaves nothing behind."""
    warnings = services.check_activity(values)
    if warnings and not (values.conduct_override_reason or "").strip():
        raise services.ConductWarning(warnings)
    values.files = evidence.stage_files(storages)
    try:
        activity = services.record_activity(values, actor=current_user)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        evidence.discard(values.files)
        raise
    return activity


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new():
    counterparty_id = request.args.get("counterparty_id", type=int)
    if counterparty_id is None:
        flash(_("Open the counterparty first, then log the activity from its page."), "info")
        return redirect(url_for("parties.counterparties"))
    counterparty = visible_counterparty(counterparty_id)
    case = case_of(counterparty, request.args.get("case_id", type=int))
    contacts = services.named_contacts(counterparty.id)
    form = ActivityForm()
    form.contact_id.choices = _contact_choices(contacts)
    page_errors: list = []
    warnings: list[str] = []
    if request.method == "GET":
        kind = request.args.get("kind")
        form.kind.data = kind if kind in ACTIVITY_KINDS else "call"
        form.occurred_at.data = services.utc_to_local(utcnow()).replace(second=0, microsecond=0)
        primary = next((c for c in contacts if c.is_primary), None)
        form.contact_id.data = primary.id if primary else None
    if form.validate_on_submit():
        values = _activity_input(form, counterparty, case)
        try:
            activity = _save_activity(values, form.files.data)
        except services.ConductWarning as warning:
            warnings = warning.warnings
        except (services.ActivityError, evidence.EvidenceError) as error:
            show_error(form, error, page_errors)
        else:
            flash(_("The activity was saved."), "success")
            return redirect(url_for("activities.show", activity_id=activity.id, saved=1))
    return render_template(
        "activities/form.html",
        form=form,
        counterparty=counterparty,
        case=case,
        contacts=contacts,
        warnings=warnings,
        page_errors=page_errors,
        max_mb=evidence.megabytes(evidence.max_file_bytes()),
        allowed_types=sorted(evidence.ALLOWED_TYPES),
        rules=rules,
    )


@bp.route("/<int:activity_id>")
@roles_required(*READERS)
def show(activity_id: int):
    activity = visible_activity(activity_id)
    promises = db.session.scalars(
        sa.select(Promise).where(Promise.activity_id == activity.id).order_by(Promise.id)
    ).all()
    ground = rules.interruption_ground(
        activity.kind, activity.interrupts_limitation, any(not p.cancelled for p in promises)
    )
    return render_template(
        "activities/show.html",
        activity=activity,
        promises=promises,
        ground=ground,
        review_form=ReviewForm(),
        resubmit_form=ResubmitForm(),
        cancel_form=CancelPromiseForm(),
        may_cancel=services.may_cancel_promise,
        just_saved=request.args.get("saved") == "1",
    )


@bp.route("/<int:activity_id>/review", methods=["POST"])
@roles_required(SUPERVISOR)
def review(activity_id: int):
    activity = visible_activity(activity_id)
    form = ReviewForm()
    back = safe_next(request.values.get("next"), url_for("activities.reviews"))
    if not form.validate_on_submit() or not (form.approve.data or form.send_back.data):
        flash(_("The decision was not understood; try again."), "danger")
        return redirect(back)
    approve = not form.send_back.data
    try:
        services.review_visit(
            activity, actor=current_user, approve=approve, note=form.note.data or ""
        )
    except services.ActivityError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        if approve:
            flash(_("The visit record was approved."), "success")
        else:
            flash(_("The visit record was returned to its author."), "info")
    return redirect(back)


@bp.route("/<int:activity_id>/resubmit", methods=["POST"])
@roles_required(*WRITERS)
def resubmit(activity_id: int):
    activity = visible_activity(activity_id)
    form = ResubmitForm()
    back = url_for("activities.show", activity_id=activity.id)
    if not form.validate_on_submit():
        flash(_("Add what the reviewer asked for."), "danger")
        return redirect(back)
    staged = []
    try:
        staged = evidence.stage_files(form.files.data)
        services.resubmit_visit(
            activity, actor=current_user, supplement=form.supplement.data, files=staged
        )
        db.session.commit()
    except (services.ActivityError, evidence.EvidenceError) as error:
        db.session.rollback()
        evidence.discard(staged)
        flash(str(error.message), "danger")
    except BaseException:
        db.session.rollback()
        evidence.discard(staged)
        raise
    else:
        flash(_("The visit record waits for review again."), "success")
    return redirect(back)


@bp.route("/reviews")
@roles_required(SUPERVISOR)
def reviews():
    page = paginate(services.pending_visits(), _page_number())
    return render_template("activities/reviews.html", page=page, review_form=ReviewForm())


@bp.route("/files/<int:file_id>")
@roles_required(*READERS)
def download(file_id: int):
    record = db.session.get(EvidenceFile, file_id)
    if record is None or not may_see(record.counterparty_id):
        abort(404)
    try:
        path = evidence.stored_path(record.stored_name)
    except ValueError:
        abort(404)
    if not path.is_file():
        current_app.logger.error("evidence file %s is missing from %s", record.id, path)
        abort(404)
    response = send_file(
        path,
        mimetype=record.content_type,
        as_attachment=True,
        download_name=record.original_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    # Never rendered by the browser: saved as a file, its type as stored, not as guessed.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------------------------
# Promises


@bp.route("/promises/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_promise():
    activity = None
    activity_id = request.args.get("activity_id", type=int)
    if activity_id is not None:
        activity = visible_activity(activity_id)
        counterparty = activity.counterparty
    else:
        counterparty = visible_counterparty(request.args.get("counterparty_id", type=int))
    case_id = request.args.get("case_id", type=int) or (activity.case_id if activity else None)
    case = case_of(counterparty, case_id)
    form = PromiseForm()
    page_errors: list = []
    if request.method == "GET":
        today = services.company_today()
        form.promised_on.data = (
            services.utc_to_local(activity.occurred_at).date() if activity else today
        )
    if form.validate_on_submit():
        if activity is not None:
            back = url_for("activities.show", activity_id=activity.id)
        else:
            back = url_for("activities.promises", counterparty_id=counterparty.id)
        done = save(
            lambda: services.record_promise(
                counterparty_id=counterparty.id,
                case_id=case.id if case else None,
                activity_id=activity.id if activity else None,
                amount=form.amount.data,
                promised_on=form.promised_on.data,
                due_on=form.due_on.data,
                note=form.note.data,
                actor=current_user,
            ),
            refused=services.ActivityError,
            show=on_form(form, page_errors),
            message=_("The promise to pay was recorded."),
            then=back,
        )
        if done:
            return done
    return render_template(
        "activities/promise_form.html",
        form=form,
        counterparty=counterparty,
        case=case,
        activity=activity,
        page_errors=page_errors,
    ), form_status()


@bp.route("/promises/<int:promise_id>/cancel", methods=["POST"])
@roles_required(*WRITERS)
def cancel_promise(promise_id: int):
    """Withdraw a promise recorded by mistake (its recorder or a supervisor), with a reason.
    A refusal re-shows the reason typed on a page of its own."""
    promise = db.session.get(Promise, promise_id)
    if promise is None:
        abort(404)
    visible_counterparty(promise.counterparty_id)
    if promise.activity_id is not None:
        fallback = url_for("activities.show", activity_id=promise.activity_id)
    else:
        fallback = url_for("activities.promises", counterparty_id=promise.counterparty_id)
    back = safe_next(request.values.get("next"), fallback)
    form = CancelPromiseForm()
    page_errors: list = []
    status = 200
    if form.validate_on_submit():
        try:
            services.cancel_promise(promise, actor=current_user, reason=form.reason.data)
        except services.ActivityError as error:
            db.session.rollback()
            show_error(form, error, page_errors)
            if not services.may_cancel_promise(promise, current_user):
                status = 403
        else:
            db.session.commit()
            flash(_("The promise was withdrawn."), "success")
            return redirect(back)
    return (
        render_template(
            "activities/cancel_promise.html",
            form=form,
            promise=promise,
            back=back,
            page_errors=page_errors,
            may_cancel=services.may_cancel_promise,
        ),
        status,
    )


WITHDRAWN = "withdrawn"


@bp.route("/promises")
@roles_required(*READERS)
def promises():
    as_of, bad_as_of = as_of_from(request.args)
    status = request.args.get("status", "")
    status = status if status in (*STATUSES, WITHDRAWN) else ""
    counterparty_id = request.args.get("counterparty_id", type=int)
    counterparty = visible_counterparty(counterparty_id) if counterparty_id else None
    ids = [counterparty.id] if counterparty else visible_ids()
    rows = promise_status_rows(as_of, counterparty_ids=ids).subquery("status")
    counts = dict(
        db.session.execute(sa.select(rows.c.status, sa.func.count()).group_by(rows.c.status)).all()
    )
    # Withdrawn promises have no status: they are listed apart, with the reason.
    withdrawn = sa.select(Promise.id).where(
        Promise.cancelled.is_(True), Promise.promised_on <= as_of
    )
    if ids is not None:
        withdrawn = withdrawn.where(Promise.counterparty_id.in_(ids))
    withdrawn = withdrawn.subquery("withdrawn")
    counts[WITHDRAWN] = db.session.scalar(sa.select(sa.func.count()).select_from(withdrawn))
    if status == WITHDRAWN:
        query = (
            sa.select(
                Promise, Counterparty, sa.null().label("paid"), sa.literal(WITHDRAWN).label("st")
            )
            .join(withdrawn, withdrawn.c.id == Promise.id)
            .join(Counterparty, Counterparty.id == Promise.counterparty_id)
            .order_by(Promise.due_on.desc(), Promise.id.desc())
        )
        count_query = sa.select(sa.func.count()).select_from(withdrawn)
    else:
        query = (
            sa.select(Promise, Counterparty, rows.c.paid, rows.c.status)
            .join(rows, rows.c.promise_id == Promise.id)
            .join(Counterparty, Counterparty.id == Promise.counterparty_id)
        )
        count_query = sa.select(sa.func.count()).select_from(rows)
        if status:
            query = query.where(rows.c.status == status)
            count_query = count_query.where(rows.c.status == status)
        # Broken first (they need action), then the nearest due date.
        query = query.order_by(
            (rows.c.status == "broken").desc(), (rows.c.status == "open").desc(), Promise.due_on
        )
    return render_template(
        "activities/promises.html",
        page=_rows_page(query, count_query),
        counts=counts,
        status=status,
        as_of=as_of,
        bad_as_of=bad_as_of,
        counterparty=counterparty,
        statuses=(*STATUSES, WITHDRAWN),
        scoped=scope() is not None,
        cancel_form=CancelPromiseForm(),
        may_cancel=services.may_cancel_promise,
    )


# ---------------------------------------------------------------------------------------------
# Disputes


def _open_item_choices(counterparty_id: int):
    """The counterparty's items with something outstanding today (SQL), for the form."""
    balances = queries.outstanding_items(
        services.company_today(), queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    rows = db.session.execute(
        sa.select(
            balances.c.id, balances.c.document_no, balances.c.outstanding_fen, balances.c.due_on
        )
        .where(balances.c.outstanding_fen > 0)
        .order_by(balances.c.due_on, balances.c.document_no)
    ).all()
    pairs = [(None, "—")]
    for r in rows:
        label = _(
            "%(no)s · due %(due)s · outstanding %(amount)s",
            no=r.document_no,
            due=r.due_on.isoformat(),
            amount=display_amount(from_fen(r.outstanding_fen)),
        )
        pairs.append((r.id, label))
    return choices(pairs)


def _owner_choices():
    users = db.session.scalars(
        sa.select(User).where(User.active.is_(True)).order_by(User.display_name)
    ).all()
    return choices([(u.id, f"{u.display_name} ({u.username})") for u in users])


@bp.route("/disputes/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_dispute():
    item = None
    item_id = request.args.get("item_id", type=int)
    if item_id is not None:
        item = db.session.get(Item, item_id)
        if item is None:
            abort(404)
        counterparty = visible_counterparty(item.counterparty_id)
    else:
        counterparty = visible_counterparty(request.args.get("counterparty_id", type=int))
    form = DisputeForm()
    form.item_id.choices = _open_item_choices(counterparty.id)
    form.owner_id.choices = _owner_choices()
    page_errors: list = []
    today = services.company_today()
    if request.method == "GET":
        form.item_id.data = item.id if item else None
        form.owner_id.data = current_user.id
        form.deadline.data = today + timedelta(days=30)
    chosen = None
    if form.validate_on_submit():
        chosen = db.session.get(Item, form.item_id.data) if form.item_id.data else None
        if chosen is None or chosen.counterparty_id != counterparty.id:
            form.item_id.errors.append(_("Choose an item of this counterparty."))
        else:
            done = save(
                lambda: services.open_dispute(
                    chosen,
                    amount=form.amount.data,
                    reason=form.reason.data,
                    description=form.description.data,
                    owner_id=form.owner_id.data,
                    deadline=form.deadline.data,
                    actor=current_user,
                    raised_on=today,
                ),
                refused=services.ActivityError,
                show=on_form(form, page_errors),
                message=_("The dispute was opened."),
                then=lambda dispute: url_for(
                    "activities.disputes", counterparty_id=dispute.counterparty_id
                ),
            )
            if done:
                return done
    shown_item = chosen or item
    return render_template(
        "activities/dispute_form.html",
        form=form,
        counterparty=counterparty,
        item=shown_item,
        outstanding=services.item_outstanding(shown_item, today) if shown_item else None,
        disputed=item_disputed(shown_item.id, today) if shown_item else None,
        page_errors=page_errors,
    ), form_status()


@bp.route("/disputes")
@roles_required(*READERS)
def disputes():
    status = request.args.get("status", "open")
    if status not in (*rules.DISPUTE_STATUS_LABELS, "all"):
        status = "open"
    counterparty_id = request.args.get("counterparty_id", type=int)
    counterparty = visible_counterparty(counterparty_id) if counterparty_id else None
    query = sa.select(Dispute)
    if counterparty is not None:
        query = query.where(Dispute.counterparty_id == counterparty.id)
    elif (ids := visible_ids()) is not None:
        query = query.where(Dispute.counterparty_id.in_(ids))
    counts = dict(
        db.session.execute(
            query.with_only_columns(Dispute.status, sa.func.count()).group_by(Dispute.status)
        ).all()
    )
    if status != "all":
        query = query.where(Dispute.status == status)
    query = query.order_by(Dispute.deadline, Dispute.id)
    return render_template(
        "activities/disputes.html",
        page=paginate(query, _page_number()),
        counts=counts,
        status=status,
        counterparty=counterparty,
        today=services.company_today(),
    )


@bp.route("/disputes/<int:dispute_id>/resolve", methods=["GET", "POST"])
@roles_required(*WRITERS)
def resolve_dispute(dispute_id: int):
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        abort(404)
    visible_counterparty(dispute.counterparty_id)
    form = ResolveForm()
    page_errors: list = []
    if form.validate_on_submit() and not (form.accept.data or form.reject.data):
        page_errors.append(_("Choose: accept or reject."))
    elif form.validate_on_submit():
        done = save(
            lambda: services.resolve_dispute(
                dispute,
                accept=bool(form.accept.data),
                actor=current_user,
                note=form.note.data or "",
                credit_amount=form.credit_amount.data,
                credit_number=form.credit_number.data,
            ),
            refused=services.ActivityError,
            show=on_form(form, page_errors),
            message=lambda _result: _resolved_message(dispute),
            category=lambda _result: "success" if dispute.status == "accepted" else "info",
            then=url_for("activities.disputes", counterparty_id=dispute.counterparty_id),
        )
        if done:
            return done
    return render_template(
        "activities/resolve.html",
        form=form,
        dispute=dispute,
        may_resolve=services.may_resolve(dispute, current_user),
        page_errors=page_errors,
    ), form_status()


def _resolved_message(dispute: Dispute) -> str:
    if dispute.status == "accepted":
        return _(
            "The dispute was accepted; credit note %(no)s waits for finance's approval.",
            no=dispute.adjustment.number,
        )
    return _("The dispute was rejected; collection continues.")
