"""The screens of referrals to legal and of lawsuits.

Sales (their own counterparties and the cases assigned to them) and finance prepare and send
referrals; legal reviews them and runs the suits; supervisors and executives read everything
(sales: only their own; another's record answers 404). The views parse input, call
recovery.legal.services, commit once, and render.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from recovery.activities import evidence
from recovery.cases.errors import CaseError, StaleEdit
from recovery.cases.routes import get_visible_case
from recovery.core.forms import choices
from recovery.core.money import from_fen
from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SALES, SUPERVISOR, roles_required
from recovery.core.views import REFUSED, form_status, save
from recovery.extensions import db
from recovery.ledger.routes import as_of_from, company_today, install_template_helpers, scope
from recovery.legal import checklist, claims, judgment, notify, queries, services, summary
from recovery.legal.forms import (
    AttachForm,
    CancelHearingForm,
    CloseForm,
    CostForm,
    EnforcementForm,
    FileForm,
    HearingForm,
    JudgmentForm,
    PreservationForm,
    RecoveryForm,
    ReferralEditForm,
    ReferralForm,
    ReviewForm,
    UploadForm,
    VersionForm,
)
from recovery.legal.labels import DECISION_LABELS, legal_labels
from recovery.legal.models import Hearing, Lawsuit, Referral, ReferralDocument
from recovery.reports.interest import format_rate

bp = Blueprint("legal", __name__)
install_template_helpers(bp)
bp.app_context_processor(legal_labels)
bp.add_app_template_filter(format_rate, "legal_rate")

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
REFERRERS = (SALES, FINANCE)
RUNNERS = (LEGAL,)


@bp.app_template_global("legal_for_case")
def legal_for_case(case_id: int):
    """(referral, lawsuit) of a case, for the case page."""
    return queries.for_case(case_id)


# ---------------------------------------------------------------------------------------------
# Helpers


def get_visible_referral(referral_id: int) -> Referral:
    referral = db.session.get(Referral, referral_id) or abort(404)
    get_visible_case(referral.case_id)
    return referral


def get_visible_lawsuit(lawsuit_id: int) -> Lawsuit:
    lawsuit = db.session.get(Lawsuit, lawsuit_id) or abort(404)
    get_visible_case(lawsuit.case_id)
    return lawsuit


def attach_error(form, error: CaseError, default: str | None = None) -> None:
    """Show a refusal beside the field it names, else above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None and default:
        field = getattr(form, default, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


def _refused(form, error: CaseError, record_type, record_id: int, default=None) -> None:
    """After a refusal: roll back, and for a stale form show the current version so that a
    second save (knowing the current state) goes through."""
    db.session.rollback()
    _shown_on(form, record_type, record_id, default)(error)


def _shown_on(form, record_type=None, record_id: int | None = None, default=None):
    """How a refusal is shown on a legal form (for core.views.save, after its rollback):
    beside its field (or ``default``), a stale edit above the form with the current version
    put in the form."""

    def show(error: CaseError) -> None:
        if isinstance(error, StaleEdit) and record_type is not None:
            form.form_errors.append(error.message)
            if hasattr(form, "version"):
                form.version.data = str(db.session.get(record_type, record_id).version)
        else:
            attach_error(form, error, default)

    return show


# ---------------------------------------------------------------------------------------------
# Legal's page


@bp.route("/")
@roles_required(*READERS)
def index():
    today = company_today()
    user_id = scope()
    return render_template(
        "legal/index.html",
        today=today,
        waiting=queries.referrals_in(("submitted",), user_id),
        to_file=queries.referrals_in(("accepted",), user_id, without_suit=True),
        returned=queries.referrals_in(("returned",), user_id),
        drafts=queries.referrals_in(("draft",), user_id),
        suits=queries.suit_rows(user_id, today),
        closed=queries.suit_rows(user_id, today, closed=True, limit=20),
        by_stage=queries.lawsuits_by_stage(today) if user_id is None else None,
        enforcement_deadline=services.enforcement_deadline,
    )


# ---------------------------------------------------------------------------------------------
# Referrals


@bp.route("/referrals/new", methods=["GET", "POST"])
@roles_required(*REFERRERS)
def new_referral():
    case = get_visible_case(request.args.get("case_id", type=int) or abort(404))
    existing = services.live_referral(case.id)
    if existing is not None:
        flash(_("The case is already referred: %(no)s.", no=existing.number), "info")
        return redirect(url_for("legal.referral", referral_id=existing.id))
    form = ReferralForm()
    if request.method == "GET":
        form.claim_as_of.data = company_today()
    if form.validate_on_submit():
        done = save(
            lambda: services.start_referral(
                case,
                claim_type=form.claim_type.data,
                claim_as_of=form.claim_as_of.data,
                note=form.note.data,
                actor=current_user,
                today=company_today(),
            ),
            refused=CaseError,
            show=_shown_on(form),
            message=lambda referral: _(
                "Referral %(no)s prepared: complete the evidence, then send it.",
                no=referral.number,
            ),
            then=lambda referral: url_for("legal.referral", referral_id=referral.id),
        )
        if done:
            return done
    return render_template("legal/new_referral.html", form=form, case=case), form_status()


def _edit_form(referral: Referral, form: ReferralEditForm | None = None) -> ReferralEditForm:
    candidates = claims.overdue_item_ids(referral.counterparty_id, referral.claim_as_of)
    claimed = set(checklist.claimed_item_ids(referral))
    lines = claims.claim_lines(referral.counterparty_id, candidates, referral.claim_as_of)
    if form is None:
        form = ReferralEditForm(formdata=None)
        form.claim_type.data = referral.claim_type
        form.claim_as_of.data = referral.claim_as_of
        form.note.data = referral.note
        form.item_ids.data = [i for i in candidates if i in claimed]
        form.version.data = str(referral.version)
    form.item_ids.choices = choices(
        (line.item_id, f"{line.document_no} · {line.due_on.isoformat()} · {line.principal:,.2f}")
        for line in lines
    )
    return form


def _file_choices(package):
    return choices(
        [(None, "—")]
        + [(f.id, f"{f.original_name} · {f.uploaded_at:%Y-%m-%d}") for f in package.available_files]
    )


def _render_referral(referral: Referral, status: int = 200, **forms):
    package = checklist.build_package(referral)
    lines = claims.claim_lines(
        referral.counterparty_id, checklist.claimed_item_ids(referral), referral.claim_as_of
    )
    principal, interest = claims.totals(lines)
    editable = referral.status in ("draft", "returned")
    attach_form = forms.pop("attach_form", None) or AttachForm(formdata=None)
    attach_form.evidence_file_id.choices = _file_choices(package)
    review_form = forms.pop("review_form", None) or ReviewForm(formdata=None)
    if review_form.version.data is None:
        review_form.version.data = str(referral.version)
    context = {
        "referral": referral,
        "package": package,
        "lines": lines,
        "principal": principal,
        "interest": interest,
        "editable": editable,
        "lawsuit": queries.lawsuit_for_referral(referral.id),
        "edit_form": forms.pop("edit_form", None) or (_edit_form(referral) if editable else None),
        "upload_form": forms.pop("upload_form", None) or UploadForm(formdata=None),
        "attach_form": attach_form,
        "submit_form": forms.pop("submit_form", None) or VersionForm(formdata=None),
        "review_form": review_form,
        "file_form": forms.pop("file_form", None) or _file_form(),
        "printing": False,
        "today": company_today(),
    }
    return render_template("legal/referral.html", **context), status


def _file_form() -> FileForm:
    form = FileForm(formdata=None)
    form.filed_on.data = company_today()
    return form


@bp.route("/referrals/<int:referral_id>")
@roles_required(*READERS)
def referral(referral_id: int):
    return _render_referral(get_visible_referral(referral_id))


@bp.route("/referrals/<int:referral_id>/edit", methods=["POST"])
@roles_required(*REFERRERS)
def edit_referral(referral_id: int):
    referral = get_visible_referral(referral_id)
    form = _edit_form(referral, ReferralEditForm())
    if form.validate_on_submit():
        done = save(
            lambda: services.update_referral(
                referral,
                version=form.version.data,
                claim_type=form.claim_type.data,
                claim_as_of=form.claim_as_of.data,
                note=form.note.data,
                item_ids=form.item_ids.data or [],
                actor=current_user,
                today=company_today(),
            ),
            refused=CaseError,
            show=_shown_on(form, Referral, referral_id, default="item_ids"),
            message=_("Referral %(no)s was saved.", no=referral.number),
            then=url_for("legal.referral", referral_id=referral_id),
        )
        if done:
            return done
    referral = db.session.get(Referral, referral_id)
    return _render_referral(referral, form_status(), edit_form=_edit_form(referral, form))


@bp.route("/referrals/<int:referral_id>/documents", methods=["POST"])
@roles_required(*REFERRERS)
def upload(referral_id: int):
    referral = get_visible_referral(referral_id)
    form = UploadForm()
    if form.validate_on_submit():
        staged = []
        try:
            staged = evidence.stage_files(form.files.data)
            services.add_documents(
                referral, staged, kind=form.kind.data, note=form.note.data, actor=current_user
            )
            db.session.commit()
        except (CaseError, evidence.EvidenceError) as error:
            db.session.rollback()
            evidence.discard(staged)
            form.files.errors = [*form.files.errors, error.message]
        except BaseException:
            db.session.rollback()
            evidence.discard(staged)
            raise
        else:
            flash(_("Added to the evidence package."), "success")
            return redirect(url_for("legal.referral", referral_id=referral_id, _anchor="package"))
    return _render_referral(db.session.get(Referral, referral_id), upload_form=form)


@bp.route("/referrals/<int:referral_id>/documents/attach", methods=["POST"])
@roles_required(*REFERRERS)
def attach(referral_id: int):
    referral = get_visible_referral(referral_id)
    form = AttachForm()
    form.evidence_file_id.choices = _file_choices(checklist.build_package(referral))
    if form.validate_on_submit():
        done = save(
            lambda: services.attach_evidence(
                referral, form.evidence_file_id.data, kind=form.kind.data, actor=current_user
            ),
            refused=CaseError,
            show=_shown_on(form),
            message=_("Added to the evidence package."),
            then=url_for("legal.referral", referral_id=referral_id, _anchor="package"),
        )
        if done:
            return done
    return _render_referral(db.session.get(Referral, referral_id), REFUSED, attach_form=form)


@bp.route("/referrals/<int:referral_id>/documents/<int:document_id>/withdraw", methods=["POST"])
@roles_required(*REFERRERS)
def withdraw(referral_id: int, document_id: int):
    referral = get_visible_referral(referral_id)
    document = db.session.get(ReferralDocument, document_id) or abort(404)
    if not VersionForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_document(referral, document, actor=current_user)
    except CaseError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("Taken out of the evidence package."), "success")
    return redirect(url_for("legal.referral", referral_id=referral_id, _anchor="package"))


@bp.route("/referrals/<int:referral_id>/submit", methods=["POST"])
@roles_required(*REFERRERS)
def submit(referral_id: int):
    referral = get_visible_referral(referral_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)

    def send():
        services.submit_referral(
            referral, version=form.version.data, actor=current_user, today=company_today()
        )
        summary.store_summary(referral, actor=current_user)

    done = save(
        send,
        refused=CaseError,
        show=lambda error: form.form_errors.append(error.message),
        message=_("Referral %(no)s was sent to legal.", no=referral.number),
        then=url_for("legal.referral", referral_id=referral_id),
    )
    return done or _render_referral(
        db.session.get(Referral, referral_id), REFUSED, submit_form=form
    )


@bp.route("/referrals/<int:referral_id>/review", methods=["POST"])
@roles_required(*RUNNERS)
def review(referral_id: int):
    referral = get_visible_referral(referral_id)
    form = ReviewForm()
    if "accept" in request.form:
        decision = "accepted"
    elif "return" in request.form:
        decision = "returned"
    elif "decline" in request.form:
        decision = "declined"
    else:
        decision = None
    if form.validate_on_submit() and decision:
        try:
            services.review_referral(
                referral,
                decision,
                version=form.version.data,
                reason=form.reason.data,
                missing_kinds=form.missing.data,
                actor=current_user,
            )
        except CaseError as error:
            _refused(form, error, Referral, referral_id, default="reason")
        else:
            db.session.commit()
            sent = notify.notify_decision(referral)
            message = _(
                "Referral %(no)s: %(decision)s.",
                no=referral.number,
                decision=DECISION_LABELS[decision],
            )
            if sent:
                message += " " + _("E-mailed to %(to)s.", to=", ".join(sent))
            flash(message, "success")
            return redirect(url_for("legal.referral", referral_id=referral_id))
    elif decision is None:
        form.form_errors.append(_("Accept, return or decline."))
    return _render_referral(db.session.get(Referral, referral_id), review_form=form)


@bp.route("/referrals/<int:referral_id>/summary.pdf")
@roles_required(*READERS)
def summary_pdf(referral_id: int):
    referral = get_visible_referral(referral_id)
    response = Response(
        summary.summary_pdf(referral, printed_by=current_user), mimetype="application/pdf"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{summary.summary_filename(referral)}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/referrals/<int:referral_id>/file", methods=["POST"])
@roles_required(*RUNNERS)
def file_suit(referral_id: int):
    referral = get_visible_referral(referral_id)
    form = FileForm()
    if form.validate_on_submit():
        done = save(
            lambda: services.file_lawsuit(
                referral,
                court=form.court.data,
                case_number=form.case_number.data,
                filed_on=form.filed_on.data,
                court_fee=form.court_fee.data,
                actor=current_user,
                today=company_today(),
            ),
            refused=CaseError,
            show=_shown_on(form),
            message=_("The suit is filed."),
            then=lambda lawsuit: url_for("legal.lawsuit", lawsuit_id=lawsuit.id),
        )
        if done:
            return done
    return _render_referral(db.session.get(Referral, referral_id), REFUSED, file_form=form)


# ---------------------------------------------------------------------------------------------
# Lawsuits


def _dated_form(form_class, field: str, today: date):
    form = form_class(formdata=None)
    getattr(form, field).data = today
    return form


def _render_lawsuit(lawsuit: Lawsuit, **forms):
    as_of, bad_as_of = as_of_from(request.args)
    today = company_today()
    version = str(lawsuit.version)
    defaults = {
        "preservation_form": _dated_form(PreservationForm, "applied_on", today),
        "hearing_form": HearingForm(formdata=None),
        "judgment_form": _judgment_form(lawsuit),
        "enforcement_form": _dated_form(EnforcementForm, "applied_on", today),
        "recovery_form": _dated_form(RecoveryForm, "received_on", today),
        "cost_form": _dated_form(CostForm, "incurred_on", today),
        "close_form": _dated_form(CloseForm, "closed_on", today),
        "cancel_form": CancelHearingForm(formdata=None),
    }
    for form in defaults.values():
        if hasattr(form, "version"):
            form.version.data = version
    defaults.update(forms)
    return render_template(
        "legal/lawsuit.html",
        lawsuit=lawsuit,
        referral=lawsuit.referral,
        position=judgment.position(lawsuit, as_of),
        as_of=as_of,
        bad_as_of=bad_as_of,
        today=today,
        costs_total=sum((c.amount for c in lawsuit.costs), from_fen(0)),
        enforcement_deadline=services.enforcement_deadline(lawsuit.performance_deadline),
        **defaults,
    )


def _judgment_form(lawsuit: Lawsuit) -> JudgmentForm:
    form = JudgmentForm(formdata=None)
    if lawsuit.judgment_on is not None:
        for name in (
            "judgment_on",
            "awarded_principal",
            "awarded_interest",
            "awarded_costs",
            "performance_deadline",
            "post_judgment_rate",
            "interest_runs_from",
        ):
            getattr(form, name).data = getattr(lawsuit, name)
        form.kind.data = lawsuit.judgment_kind
        form.effective_on.data = lawsuit.judgment_effective_on
    else:
        form.awarded_principal.data = lawsuit.claimed_principal
        form.awarded_interest.data = lawsuit.claimed_interest
    return form


@bp.route("/lawsuits/<int:lawsuit_id>")
@roles_required(*READERS)
def lawsuit(lawsuit_id: int):
    return _render_lawsuit(get_visible_lawsuit(lawsuit_id))


def _lawsuit_action(lawsuit_id: int, form, form_name: str, action, done: str, default=None):
    """A lawsuit form: the service's refusal re-shows the page with what was typed."""
    lawsuit = get_visible_lawsuit(lawsuit_id)
    if form.validate_on_submit():
        saved = save(
            lambda: action(lawsuit, form),
            refused=CaseError,
            show=_shown_on(form, Lawsuit, lawsuit_id, default),
            message=done,
            then=url_for("legal.lawsuit", lawsuit_id=lawsuit_id),
        )
        if saved:
            return saved
    elif hasattr(form, "version") and not form.version.data:
        form.version.data = str(lawsuit.version)
    return _render_lawsuit(db.session.get(Lawsuit, lawsuit_id), **{form_name: form}), REFUSED


def _version(form):
    return form.version.data


@bp.route("/lawsuits/<int:lawsuit_id>/preservation", methods=["POST"])
@roles_required(*RUNNERS)
def preservation(lawsuit_id: int):
    return _lawsuit_action(
        lawsuit_id,
        PreservationForm(),
        "preservation_form",
        lambda suit, form: services.record_preservation(
            suit,
            version=_version(form),
            applied_on=form.applied_on.data,
            ruling=form.ruling.data,
            assets=form.assets.data,
            amount=form.amount.data,
            actor=current_user,
            today=company_today(),
        ),
        _("The preservation is recorded."),
    )


@bp.route("/lawsuits/<int:lawsuit_id>/hearings", methods=["POST"])
@roles_required(*RUNNERS)
def hearing(lawsuit_id: int):
    return _lawsuit_action(
        lawsuit_id,
        HearingForm(),
        "hearing_form",
        lambda suit, form: services.add_hearing(
            suit,
            version=_version(form),
            held_on=form.held_on.data,
            kind=form.kind.data,
            note=form.note.data,
            actor=current_user,
        ),
        _("The hearing is recorded."),
    )


@bp.route("/lawsuits/hearings/<int:hearing_id>/cancel", methods=["POST"])
@roles_required(*RUNNERS)
def cancel_hearing(hearing_id: int):
    record = db.session.get(Hearing, hearing_id) or abort(404)
    return _lawsuit_action(
        record.lawsuit_id,
        CancelHearingForm(),
        "cancel_form",
        lambda suit, form: services.cancel_hearing(
            record, version=_version(form), reason=form.reason.data, actor=current_user
        ),
        _("The hearing is cancelled."),
    )


@bp.route("/lawsuits/<int:lawsuit_id>/judgment", methods=["POST"])
@roles_required(*RUNNERS)
def record_judgment(lawsuit_id: int):
    return _lawsuit_action(
        lawsuit_id,
        JudgmentForm(),
        "judgment_form",
        lambda suit, form: services.record_judgment(
            suit,
            version=_version(form),
            kind=form.kind.data,
            judgment_on=form.judgment_on.data,
            awarded_principal=form.awarded_principal.data,
            awarded_interest=form.awarded_interest.data,
            awarded_costs=form.awarded_costs.data,
            effective_on=form.effective_on.data,
            performance_deadline=form.performance_deadline.data,
            post_judgment_rate=form.post_judgment_rate.data,
            interest_runs_from=form.interest_runs_from.data,
            actor=current_user,
            today=company_today(),
        ),
        _("The judgment is recorded."),
    )


@bp.route("/lawsuits/<int:lawsuit_id>/enforcement", methods=["POST"])
@roles_required(*RUNNERS)
def enforcement(lawsuit_id: int):
    return _lawsuit_action(
        lawsuit_id,
        EnforcementForm(),
        "enforcement_form",
        lambda suit, form: services.apply_enforcement(
            suit,
            version=_version(form),
            applied_on=form.applied_on.data,
            court=form.court.data,
            case_number=form.case_number.data,
            actor=current_user,
            today=company_today(),
        ),
        _("Enforcement is applied for."),
    )


@bp.route("/lawsuits/<int:lawsuit_id>/recoveries", methods=["POST"])
@roles_required(*RUNNERS)
def recovery(lawsuit_id: int):
    return _lawsuit_action(
        lawsuit_id,
        RecoveryForm(),
        "recovery_form",
        lambda suit, form: services.record_recovery(
            suit,
            version=_version(form),
            receipt_no=form.receipt_no.data,
            amount=form.amount.data,
            received_on=form.received_on.data,
            reference=form.reference.data,
            actor=current_user,
            today=company_today(),
        ),
        _("The recovery is recorded in the ledger."),
    )


@bp.route("/lawsuits/<int:lawsuit_id>/costs", methods=["POST"])
@roles_required(*RUNNERS)
def cost(lawsuit_id: int):
    return _lawsuit_action(
        lawsuit_id,
        CostForm(),
        "cost_form",
        lambda suit, form: services.add_cost(
            suit,
            kind=form.kind.data,
            amount=form.amount.data,
            incurred_on=form.incurred_on.data,
            note=form.note.data,
            actor=current_user,
            today=company_today(),
        ),
        _("The cost is recorded."),
    )


@bp.route("/lawsuits/<int:lawsuit_id>/close", methods=["POST"])
@roles_required(*RUNNERS)
def close(lawsuit_id: int):
    return _lawsuit_action(
        lawsuit_id,
        CloseForm(),
        "close_form",
        lambda suit, form: services.close_lawsuit(
            suit,
            version=_version(form),
            outcome=form.outcome.data,
            closed_on=form.closed_on.data,
            note=form.note.data,
            actor=current_user,
            today=company_today(),
        ),
        _("The suit is closed."),
    )
