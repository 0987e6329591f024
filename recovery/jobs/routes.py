"""Pages that follow long work: the list of one's jobs, a job's page and its progress JSON."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from recovery.core.pagination import paginate
from recovery.core.permissions import signed_in
from recovery.extensions import db
from recovery.jobs import services, tasks  # noqa: F401  (tasks: registers its kinds)
from recovery.jobs.models import Job

bp = Blueprint("jobs", __name__)


def _get_job(job_id: int) -> Job:
    """The job, if the current user may see it (its creator or an administrator); else 404."""
    job = db.session.get(Job, job_id)
    if job is None or not services.visible_to(job, current_user):
        abort(404)
    return job


@bp.route("/")
@signed_in
def index():
    query = sa.select(Job).order_by(Job.id.desc())
    if not current_user.has_role("admin"):
        query = query.where(Job.created_by_id == current_user.id)
    page = paginate(query, request.args.get("page", 1, type=int))
    return render_template(
        "jobs/index.html",
        page=page,
        task_for=services.task_for,
        status_labels=services.STATUS_LABELS,
    )


@bp.route("/<int:job_id>")
@signed_in
def show(job_id: int):
    job = _get_job(job_id)
    return render_template(
        "jobs/show.html",
        job=job,
        task=services.task_for(job.kind),
        state=services.status(job),
        subtitle=services.describe(job),
        status_labels=services.STATUS_LABELS,
        params=services.params_of(job),
        result=services.result_of(job),
        retried_as=services.retried_as(job),
        can_retry=services.can_retry(job),
    )


@bp.route("/<int:job_id>.json")
@signed_in
def show_json(job_id: int):
    return jsonify(services.status(_get_job(job_id)))


@bp.route("/<int:job_id>/retry", methods=["POST"])
@signed_in
def retry(job_id: int):
    """Queue a failed job again (its owner or an administrator: whoever may see it)."""
    job = _get_job(job_id)
    try:
        attempt = services.retry(job, current_user)
    except services.JobError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("jobs.show", job_id=job_id))
    flash(_("Trying the work again."), "success")
    return redirect(url_for("jobs.show", job_id=attempt.id))
