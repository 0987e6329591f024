"""Screens of the letters: generate a letter for a counterparty (or from its case), the list
of letters, a letter's page (download, e-mail, record its delivery), and batch runs (a
background job with a progress bar, a ZIP of the PDFs, resending the failed e-mails).

Letters are evidence: whoever may see a counterparty's collection work may see and download
its letters (``activities.routes.may_see``: a sales user their own accounts and the
counterparties of cases assigned to them; another's answers 404). Batches span many
counterparties: finance, supervisors and legal run them; executives read them.
"""

from __future__ import annotations

from datetime import date

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

from recovery.activities import evidence
from recovery.activities import services as activity_services
from recovery.activities.routes import case_of, may_see, visible_counterparty, visible_ids
from recovery.cases.models import RecoveryCase
from recovery.core.forms import choices
from recovery.core.mail import MailError, mail_configured
from recovery.core.pagination import paginate
from recovery.core.permissions import (
    EXECUTIVE,
    FINANCE,
    LEGAL,
    SALES,
    SUPERVISOR,
    roles_required,
)
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.ledger.routes import department_choices, install_template_helpers
from recovery.letters import batch as batches
from recovery.letters import labels, services
from recovery.letters.forms import BatchForm, ButtonForm, DeliveryForm, EmailForm, LetterForm
from recovery.letters.models import LETTER_KINDS, BatchLine, Letter, LetterBatch
from recovery.parties.models import Contact

bp = Blueprint("letters", __name__)
install_template_helpers(bp)
bp.app_context_processor(labels.labels)

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
WRITERS = (FINANCE, SALES, SUPERVISOR, LEGAL)
BATCH_READERS = (FINANCE, SUPERVISOR, LEGAL, EXECUTIVE)
BATCH_RUNNERS = (FINANCE, SUPERVISOR, LEGAL)


def _show_error(form, error, page_errors: list, renames: dict | None = None) -> None:
    """A refusal beside the field it names, or above the form when no field shows it."""
    name = (renames or {}).get(error.field, error.field)
    field = getattr(form, name, None) if name else None
    if field is None:
        page_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


def visible_letter(letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id)
    if letter is None or not may_see(letter.counterparty_id):
        abort(404)
    return letter


def _page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


# ---------------------------------------------------------------------------------------------
# Letters


@bp.route("/")
@roles_required(*READERS)
def index():
    counterparty_id = request.args.get("counterparty_id", type=int)
    case_id = request.args.get("case_id", type=int)
    kind = request.args.get("kind")
    counterparty = visible_counterparty(counterparty_id) if counterparty_id else None
    case = None
    if case_id is not None:
        case = db.session.get(RecoveryCase, case_id)
        if case is None:
            abort(404)
        visible_counterparty(case.counterparty_id)
    query = sa.select(Letter).order_by(Letter.letter_date.desc(), Letter.id.desc())
    if counterparty is not None:
        query = query.where(Letter.counterparty_id == counterparty.id)
    elif (ids := visible_ids()) is not None:
        query = query.where(Letter.counterparty_id.in_(ids))
    if case is not None:
        query = query.where(Letter.case_id == case.id)
    if kind in LETTER_KINDS:
        query = query.where(Letter.kind == kind)
    else:
        kind = None
    return render_template(
        "letters/index.html",
        page=paginate(query, _page_number()),
        counterparty=counterparty,
        case=case,
        kind=kind,
    )


def _preview(form: LetterForm, counterparty, case):
    """The figures the letter would carry, or the reason it would be refused."""
    if form.kind.data not in LETTER_KINDS or not isinstance(form.letter_date.data, date):
        return None, None
    try:
        content = services.prepare(
            counterparty.id,
            form.kind.data,
            form.letter_date.data,
            deadline=form.deadline.data,
            case_id=case.id if case else None,
        )
    except services.LetterError as error:
        return None, error.message
    return content, None


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new():
    counterparty_id = request.args.get("counterparty_id", type=int)
    if counterparty_id is None:
        flash(_("Open the counterparty first, then generate the letter from its page."), "info")
        return redirect(url_for("parties.counterparties"))
    counterparty = visible_counterparty(counterparty_id)
    case = case_of(counterparty, request.args.get("case_id", type=int))
    form = LetterForm() if request.method == "POST" else LetterForm(request.args)
    page_errors: list = []
    if request.method == "GET":
        if form.kind.data not in LETTER_KINDS:
            form.kind.data = "demand"
        form.letter_date.errors = []
        form.deadline.errors = []
        if not isinstance(form.letter_date.data, date):
            form.letter_date.data = activity_services.company_today()
            form.letter_date.raw_data = None
    if request.method == "POST" and form.validate_on_submit():
        generated = None
        try:
            generated = services.generate_letter(
                counterparty.id,
                form.kind.data,
                form.letter_date.data,
                actor=current_user,
                deadline=form.deadline.data,
                case_id=case.id if case and case.status != "closed" else None,
            )
            db.session.commit()
        except services.LetterError as error:
            db.session.rollback()
            _show_error(form, error, page_errors)
        except BaseException:
            db.session.rollback()
            if generated is not None:
                services.discard([generated])
            raise
        else:
            flash(_("Letter %(number)s was generated.", number=generated.letter.number), "success")
            return redirect(url_for("letters.show", letter_id=generated.letter.id))
    content, refusal = _preview(form, counterparty, case)
    return render_template(
        "letters/new.html",
        form=form,
        counterparty=counterparty,
        case=case,
        content=content,
        refusal=refusal,
        page_errors=page_errors,
        company=services.company_settings(),
    )


def _contact_choices(contacts, *, nobody: str | None):
    pairs = [(None, nobody)] if nobody else []
    for contact in contacts:
        label = contact.name + (f", {contact.title}" if contact.title else "")
        if contact.email:
            label += f" · {contact.email}"
        pairs.append((contact.id, label))
    return choices(pairs)


def _forms_for(
    letter: Letter, delivery: DeliveryForm | None = None, email: EmailForm | None = None
):
    contacts = activity_services.named_contacts(letter.counterparty_id)
    delivery = delivery or DeliveryForm(formdata=None)
    delivery.contact_id.choices = _contact_choices(
        contacts, nobody=_("— the debtor itself (no named person)")
    )
    if delivery.version.data in (None, ""):
        delivery.version.data = str(letter.version)
    if delivery.delivered_at.data is None and not delivery.delivered_at.raw_data:
        delivery.delivered_at.data = activity_services.utc_to_local(
            activity_services.utcnow()
        ).replace(second=0, microsecond=0)
    email = email or EmailForm(formdata=None)
    email.contact_id.choices = _contact_choices(
        services.email_contacts(letter.counterparty_id), nobody=None
    )
    return delivery, email


def _render_letter(letter: Letter, delivery=None, email=None, page_errors=(), status=200):
    delivery, email = _forms_for(letter, delivery, email)
    sends = db.session.scalars(
        sa.select(BatchLine).where(BatchLine.letter_id == letter.id).order_by(BatchLine.id)
    ).all()
    return (
        render_template(
            "letters/show.html",
            letter=letter,
            delivery_form=delivery,
            email_form=email,
            page_errors=list(page_errors),
            sends=sends,
            mail_on=mail_configured(),
            may_write=current_user.has_role(*WRITERS),
        ),
        status,
    )


@bp.route("/<int:letter_id>")
@roles_required(*READERS)
def show(letter_id: int):
    return _render_letter(visible_letter(letter_id))


@bp.route("/<int:letter_id>/pdf")
@roles_required(*READERS)
def download(letter_id: int):
    letter = visible_letter(letter_id)
    try:
        path = evidence.stored_path(letter.file.stored_name)
    except ValueError:
        abort(404)
    if not path.is_file():
        current_app.logger.error("letter %s: its file is missing from %s", letter.id, path)
        abort(404)
    response = send_file(
        path,
        mimetype=services.PDF_TYPE,
        as_attachment=True,
        download_name=letter.file.original_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    # As evidence downloads: saved as a file, never rendered in the application's origin.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:letter_id>/delivery", methods=["POST"])
@roles_required(*WRITERS)
def delivery(letter_id: int):
    letter = visible_letter(letter_id)
    form = DeliveryForm()
    _forms_for(letter, form)
    page_errors: list = []
    if not form.validate_on_submit():
        return _render_letter(letter, delivery=form, status=400)
    staged = []
    try:
        staged = evidence.stage_files(form.files.data)
        services.record_delivery(
            letter,
            delivered_at=form.delivered_at.data,
            method=form.method.data,
            proof=form.proof.data,
            actor=current_user,
            contact_id=form.contact_id.data,
            files=staged,
            version=form.version.data,
        )
        db.session.commit()
    except (services.LetterError, evidence.EvidenceError) as error:
        db.session.rollback()
        evidence.discard(staged)
        _show_error(form, error, page_errors)
        letter = visible_letter(letter_id)
        return _render_letter(letter, delivery=form, page_errors=page_errors, status=400)
    except BaseException:
        db.session.rollback()
        evidence.discard(staged)
        raise
    flash(
        _("The delivery was recorded: the letter now interrupts the limitation period."),
        "success",
    )
    return redirect(url_for("letters.show", letter_id=letter.id))


@bp.route("/<int:letter_id>/email", methods=["POST"])
@roles_required(*WRITERS)
def email(letter_id: int):
    letter = visible_letter(letter_id)
    form = EmailForm()
    _forms_for(letter, email=form)
    page_errors: list = []
    if not form.validate_on_submit():
        return _render_letter(letter, email=form, status=400)
    contact = db.session.get(Contact, form.contact_id.data) if form.contact_id.data else None
    try:
        if contact is None:
            raise services.LetterError(_("Choose the contact to write to."), field="contact_id")
        services.email_letter(letter, contact, actor=current_user)
        db.session.commit()
    except services.LetterError as error:
        db.session.rollback()
        _show_error(form, error, page_errors)
        return _render_letter(letter, email=form, page_errors=page_errors, status=400)
    except MailError as error:
        db.session.rollback()
        page_errors.append(error.message)
        return _render_letter(letter, email=form, page_errors=page_errors, status=400)
    flash(
        _(
            "The letter was e-mailed to %(email)s. Record its delivery once you have proof "
            "that it arrived (a reply or a read receipt).",
            email=contact.email,
        ),
        "success",
    )
    return redirect(url_for("letters.show", letter_id=letter.id))


# ---------------------------------------------------------------------------------------------
# Batch runs


@bp.route("/batches")
@roles_required(*BATCH_READERS)
def batches_index():
    query = sa.select(LetterBatch).order_by(LetterBatch.id.desc())
    page = paginate(query, _page_number())
    counts = {batch.id: batches.summary(batch) for batch in page.items}
    return render_template("letters/batches.html", page=page, counts=counts)


@bp.route("/batches/new", methods=["GET", "POST"])
@roles_required(*BATCH_RUNNERS)
def batch_new():
    form = BatchForm()
    form.department_id.choices = department_choices()
    page_errors: list = []
    mail_on = mail_configured()
    if request.method == "GET":
        form.letter_date.data = activity_services.company_today()
    if form.validate_on_submit():
        values = batches.BatchFilter(
            kind=form.kind.data,
            letter_date=form.letter_date.data,
            overdue_more_than=form.overdue_more_than.data,
            department_id=form.department_id.data,
            level=form.level.data,
        )
        try:
            batch = batches.start_batch(
                values, send_email=bool(form.send_email.data), actor=current_user
            )
        except services.LetterError as error:
            db.session.rollback()
            _show_error(form, error, page_errors)
        else:
            return redirect(url_for("jobs.show", job_id=batch.job_id))
    return render_template(
        "letters/batch_form.html", form=form, page_errors=page_errors, mail_on=mail_on
    )


def _get_batch(batch_id: int) -> LetterBatch:
    batch = db.session.get(LetterBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


@bp.route("/batches/<int:batch_id>")
@roles_required(*BATCH_READERS)
def batch(batch_id: int):
    batch = _get_batch(batch_id)
    lines = db.session.scalars(
        sa.select(BatchLine).where(BatchLine.batch_id == batch.id).order_by(BatchLine.id)
    ).all()
    job_state = jobs.status(batch.job) if batch.job is not None else None
    return render_template(
        "letters/batch.html",
        batch=batch,
        lines=lines,
        counts=batches.summary(batch),
        job_state=job_state,
        resend_form=ButtonForm(),
        mail_on=mail_configured(),
        may_run=current_user.has_role(*BATCH_RUNNERS),
        describe=batches.describe_batch(batch),
    )


@bp.route("/batches/<int:batch_id>/letters.zip")
@roles_required(*BATCH_READERS)
def batch_zip(batch_id: int):
    batch = _get_batch(batch_id)
    letters = batches.batch_letters(batch.id)
    if not letters:
        abort(404)
    response = send_file(
        batches.zip_of(letters),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"letters-batch-{batch.id}-{batch.letter_date.isoformat()}.zip",
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/batches/<int:batch_id>/resend", methods=["POST"])
@roles_required(*BATCH_RUNNERS)
def batch_resend(batch_id: int):
    batch = _get_batch(batch_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        job = batches.resend_failed(batch, actor=current_user)
    except services.LetterError as error:
        flash(str(error.message), "warning")
        return redirect(url_for("letters.batch", batch_id=batch.id))
    return redirect(url_for("jobs.show", job_id=job.id))
