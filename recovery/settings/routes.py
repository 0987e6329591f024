"""The settings page: every business setting, grouped, validated, audited."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup

from recovery.core.permissions import ADMIN, roles_required
from recovery.credit import services as credit
from recovery.extensions import db
from recovery.settings import services
from recovery.settings.registry import SPECS

bp = Blueprint("settings", __name__)


@bp.route("/", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit():
    form = FlaskForm()
    values = services.all_texts()
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        submitted = {spec.key: request.form.get(spec.key, "") for spec in SPECS}
        errors = services.validate(submitted)
        values = submitted
        if not errors:
            changed = services.update_settings(submitted)
            db.session.commit()
            if changed:
                flash(_("%(n)s settings were changed.", n=len(changed)), "success")
            else:
                flash(_("Nothing was changed."), "info")
            if credit.affects_holds(changed):  # seconds of work: a job, after the commit
                job = credit.reevaluate_all_later(current_user)
                flash(
                    Markup('{} <a href="{}">{}</a>').format(
                        _("The hold rules changed: every counterparty is being re-evaluated."),
                        url_for("jobs.show", job_id=job.id),
                        _("Follow its progress"),
                    ),
                    "info",
                )
            return redirect(url_for("settings.edit"))
        flash(_("Some values are not valid; nothing was saved."), "danger")
    groups = [(group, list(specs)) for group, specs in groupby(SPECS, key=lambda s: s.group)]
    return render_template(
        "settings/edit.html", form=form, groups=groups, values=values, errors=errors
    ), (422 if errors else 200)
