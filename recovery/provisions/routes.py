"""The provisions pages (坏账准备): the matrix as of a date with the movement since the last
closed period, specific provisions and their approval, provision runs, and the exports.

Finance proposes, makes runs and closes periods; executives read and may approve specific
provisions; nobody approves their own proposal. The figures come from services (SQL)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from recovery.auth.models import Department
from recovery.core.pagination import Page
from recovery.core.permissions import EXECUTIVE, FINANCE, roles_required
from recovery.core.spreadsheets import MIMETYPES, write_csv
from recovery.core.web import current_language
from recovery.extensions import db
from recovery.ledger.routes import as_of_from, company_today
from recovery.parties.forms import attach_error
from recovery.parties.services import find_counterparty
from recovery.provisions import export, services
from recovery.provisions.forms import (
    METHOD_LABELS,
    DecisionForm,
    RunForm,
    SpecificForm,
    VersionForm,
)
from recovery.provisions.models import ProvisionRun, SpecificProvision

bp = Blueprint("provisions", __name__)

READERS = (FINANCE, EXECUTIVE)
WRITERS = (FINANCE,)
DECIDERS = services.APPROVERS
PER_PAGE = 100
VIEWS = ("counterparty", "department", "buckets")


@bp.app_context_processor
def provision_labels() -> dict:
    return {"provision_methods": METHOD_LABELS, "rate_text": export.percent}


def _department_id() -> int | None:
    value = request.args.get("department_id", "")
    return int(value) if value.isdigit() else None


def _departments():
    departments = db.session.scalars(sa.select(Department)).all()
    return sorted(departments, key=lambda d: d.path)


def _page(rows: list) -> Page:
    number = max(1, request.args.get("page", 1, type=int) or 1)
    start = (number - 1) * PER_PAGE
    return Page(
        items=rows[start : start + PER_PAGE], number=number, per_page=PER_PAGE, total=len(rows)
    )


def _view() -> str:
    view = request.args.get("view", "counterparty")
    return view if view in VIEWS else "counterparty"


def _render_movement(template: str, result: services.Movement, **context):
    return render_template(
        template,
        result=result,
        page=_page(result.lines),
        view=_view(),
        department_id=result.matrix.department_id,
        departments=_departments(),
        buckets=services.BUCKETS,
        basis=export.specific_basis,
        **context,
    )


@bp.route("/")
@roles_required(*READERS)
def index():
    as_of, bad_as_of = as_of_from(request.args)
    result = services.live_movement(as_of, _department_id())
    form = RunForm(formdata=None, as_of=as_of)
    return _render_movement(
        "provisions/index.html",
        result,
        as_of=as_of,
        bad_as_of=bad_as_of,
        run=None,
        run_form=form,
        pending=_pending_count(),
    )


def _pending_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SpecificProvision)
        .where(SpecificProvision.status == "proposed")
    )


def _send(data: bytes, fmt: str, filename: str) -> Response:
    response = Response(data, mimetype=MIMETYPES[fmt])
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _export(result: services.Movement, stem: str) -> Response:
    fmt = request.args.get("format", "xlsx")
    part = request.args.get("part", "lines")
    language = request.args.get("lang") or ("zh" if current_language() == "zh_CN" else "en")
    if (
        fmt not in ("csv", "xlsx")
        or part not in export.EXPORT_PARTS
        or language not in ("en", "zh")
    ):
        abort(400)
    if fmt == "xlsx":
        return _send(export.workbook(result, language), fmt, f"{stem}.xlsx")
    if part == "journal":
        data = write_csv(
            export.columns(export.JOURNAL_COLUMNS, language), export.journal_rows(result, language)
        )
    else:
        data = write_csv(export.columns(export.LINE_COLUMNS, language), export.line_rows(result))
    return _send(data, fmt, f"{stem}-{part}.csv")


@bp.route("/export")
@roles_required(*READERS)
def export_live():
    text = request.args.get("as_of", "")
    try:
        as_of = date.fromisoformat(text) if text else company_today()
    except ValueError:
        abort(400)
    department_id = _department_id()
    result = services.live_movement(as_of, department_id)
    stem = f"provisions-{as_of.isoformat()}" + (f"-d{department_id}" if department_id else "")
    return _export(result, stem)


# ---------------------------------------------------------------------------------------------
# Runs


@bp.route("/runs")
@roles_required(*READERS)
def runs():
    rows = db.session.scalars(
        sa.select(ProvisionRun).order_by(ProvisionRun.as_of.desc(), ProvisionRun.id.desc())
    ).all()
    return render_template(
        "provisions/runs.html",
        runs=rows,
        form=RunForm(formdata=None, as_of=company_today()),
        latest_closed=services.latest_closed_run(),
    )


@bp.route("/runs", methods=["POST"])
@roles_required(*WRITERS)
def create_run():
    form = RunForm()
    if form.validate_on_submit():
        try:
            run = services.create_run(
                form.as_of.data, actor=current_user, today=company_today(), note=form.note.data
            )
        except services.ProvisionError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("Run #%(id)s as of %(date)s was saved.", id=run.id, date=run.as_of), "success")
            return redirect(url_for("provisions.run", run_id=run.id))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
    return redirect(url_for("provisions.runs"))


def _get_run(run_id: int) -> ProvisionRun:
    run = db.session.get(ProvisionRun, run_id)
    if run is None:
        abort(404)
    return run


@bp.route("/runs/<int:run_id>")
@roles_required(*READERS)
def run(run_id: int):
    run = _get_run(run_id)
    result = services.run_movement(run, _department_id())
    form = VersionForm(formdata=None, version=str(run.version))
    return _render_movement(
        "provisions/run.html",
        result,
        as_of=run.as_of,
        run=run,
        close_form=form,
        latest_closed=services.latest_closed_run(),
    )


@bp.route("/runs/<int:run_id>/close", methods=["POST"])
@roles_required(*WRITERS)
def close_run(run_id: int):
    run = _get_run(run_id)
    try:
        services.close_run(run, actor=current_user, version=request.form.get("version"))
    except services.StaleProvision as error:
        db.session.rollback()
        flash(str(error.message), "warning")
    except services.ProvisionError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("The period up to %(date)s is closed.", date=run.as_of.isoformat()), "success")
    return redirect(url_for("provisions.run", run_id=run_id))


@bp.route("/runs/<int:run_id>/export")
@roles_required(*READERS)
def export_run(run_id: int):
    run = _get_run(run_id)
    department_id = _department_id()
    result = services.run_movement(run, department_id)
    stem = f"provisions-run{run.id}-{run.as_of.isoformat()}"
    if department_id:
        stem += f"-d{department_id}"
    return _export(result, stem)


# ---------------------------------------------------------------------------------------------
# Specific provisions


@bp.route("/specific")
@roles_required(*READERS)
def specifics():
    rows = db.session.scalars(
        sa.select(SpecificProvision).order_by(
            (SpecificProvision.status == "proposed").desc(), SpecificProvision.id.desc()
        )
    ).all()
    today = company_today()
    in_force = services.specifics_in_force(today)
    return render_template(
        "provisions/specifics.html",
        rows=rows,
        in_force={terms.id for terms in in_force.values()},
        today=today,
        decision_form=DecisionForm(formdata=None),
        version_form=VersionForm(formdata=None),
    )


@bp.route("/specific/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_specific():
    form = SpecificForm()
    if request.method == "GET":
        form.counterparty_code.data = request.args.get("counterparty", "")
        form.effective_from.data = company_today()
    if request.method == "POST" and form.validate_on_submit():
        counterparty = find_counterparty(form.counterparty_code.data)
        if counterparty is None:
            form.counterparty_code.errors = [_("No counterparty has this code.")]
        else:
            try:
                specific = services.propose_specific(
                    counterparty,
                    method=form.method.data,
                    rate=form.rate.data,
                    amount=form.amount.data,
                    reason=form.reason.data,
                    effective_from=form.effective_from.data,
                    actor=current_user,
                    today=company_today(),
                )
            except services.ProvisionError as error:
                db.session.rollback()
                attach_error(form, error, "reason")
            else:
                db.session.commit()
                flash(
                    _(
                        "The specific provision for %(code)s was proposed; another finance "
                        "user or an executive approves it.",
                        code=counterparty.code,
                    ),
                    "success",
                )
                return redirect(url_for("provisions.specifics", _anchor=f"sp-{specific.id}"))
    return render_template("provisions/specific_form.html", form=form)


def _get_specific(specific_id: int) -> SpecificProvision:
    specific = db.session.get(SpecificProvision, specific_id)
    if specific is None:
        abort(404)
    return specific


@bp.route("/specific/<int:specific_id>/decide", methods=["POST"])
@roles_required(*DECIDERS)
def decide_specific(specific_id: int):
    specific = _get_specific(specific_id)
    form = DecisionForm()
    approve = bool(form.approve.data)
    try:
        services.decide_specific(
            specific,
            approve=approve,
            actor=current_user,
            note=form.note.data or "",
            version=request.form.get("version"),
            today=company_today(),
        )
    except services.StaleProvision as error:
        db.session.rollback()
        flash(str(error.message), "warning")
    except services.ProvisionError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("Approved.") if approve else _("Rejected."), "success")
    return redirect(url_for("provisions.specifics", _anchor=f"sp-{specific_id}"))


@bp.route("/specific/<int:specific_id>/withdraw", methods=["POST"])
@roles_required(*WRITERS)
def withdraw_specific(specific_id: int):
    specific = _get_specific(specific_id)
    try:
        services.withdraw_specific(
            specific, actor=current_user, version=request.form.get("version")
        )
    except services.ProvisionError as error:
        db.session.rollback()
        flash(
            str(error.message),
            "warning" if isinstance(error, services.StaleProvision) else "danger",
        )
    else:
        db.session.commit()
        flash(_("The proposal was withdrawn."), "success")
    return redirect(url_for("provisions.specifics", _anchor=f"sp-{specific_id}"))
