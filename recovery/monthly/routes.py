"""The monthly report for head office (篇三 12): choose the month, generate the PDF or the
workbook in the background (progress on the job's page), download it; the reports made
before stay listed for download. Executives, finance and supervisors."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_login import current_user

from recovery.core.permissions import EXECUTIVE, FINANCE, SUPERVISOR, roles_required
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.jobs.models import Job
from recovery.ledger.routes import company_today
from recovery.monthly import report
from recovery.monthly.forms import MonthlyForm
from recovery.monthly.jobs import FORMAT_LABELS, JOB_KIND, job_params, stored_path

bp = Blueprint("monthly", __name__)

READERS = (EXECUTIVE, FINANCE, SUPERVISOR)
RECENT = 24


def _recent_jobs() -> list[tuple[Job, dict]]:
    rows = db.session.scalars(
        sa.select(Job).where(Job.kind == JOB_KIND).order_by(Job.id.desc()).limit(RECENT)
    ).all()
    return [(job, jobs.params_of(job)) for job in rows]


def _result(job: Job) -> dict:
    return json.loads(job.result) if job.result else {}


@bp.route("/", methods=["GET", "POST"])
@roles_required(*READERS)
def index():
    today = company_today()
    form = MonthlyForm()
    if form.validate_on_submit():
        try:
            month = report.parse_month(form.month.data)
            report.check_month(month, today)
        except report.ReportError as error:
            form.month.errors = [*form.month.errors, str(error)]
        else:
            fmt = "xlsx" if form.xlsx.data else "pdf"
            locale = "zh_CN" if get_locale().language == "zh" else "en"
            job = jobs.submit(
                JOB_KIND,
                job_params(month, fmt, locale=locale, today=today, user=current_user),
                current_user,
                title=month.label,
            )
            return redirect(url_for("jobs.show", job_id=job.id))
    elif not form.is_submitted():
        form.month.data = report.previous_month(today).label
    return render_template(
        "monthly/index.html",
        form=form,
        recent=_recent_jobs(),
        result_of=_result,
        format_labels=FORMAT_LABELS,
        status_labels=jobs.STATUS_LABELS,
    )


@bp.route("/<int:job_id>/download")
@roles_required(*READERS)
def download(job_id: int):
    """A finished monthly report: the company's report, so any of its readers may fetch it."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND or job.status != "done":
        abort(404)
    result = _result(job)
    path = stored_path(result)
    if path is None or not path.is_file():
        abort(404)
    fmt = result.get("format", "pdf")
    mimetype = (
        "application/pdf"
        if fmt == "pdf"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = send_file(
        path, mimetype=mimetype, as_attachment=True, download_name=result.get("filename")
    )
    response.headers["Cache-Control"] = "no-store"
    return response
