"""Import (upload → background job → result) and export of the ledger.

Registered at /ledger: /ledger/import/ and /ledger/export/items, /ledger/export/receipts,
/ledger/export/adjustments.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SALES, SUPERVISOR, roles_required
from recovery.imports import exporter, services
from recovery.imports.formats import FORMATS, headers
from recovery.imports.forms import KIND_LABELS, ImportForm
from recovery.jobs import services as jobs
from recovery.ledger.queries import LedgerFilter, scope_user_id

bp = Blueprint("imports", __name__)

EXPORT_ROLES = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)


@bp.route("/import/", methods=["GET", "POST"])
@roles_required(FINANCE)
def upload():
    form = ImportForm()
    if form.validate_on_submit():
        storage = form.file.data
        suffix = Path(storage.filename or "").suffix.lower()
        path = services.save_upload(storage.stream, suffix, current_app.config["UPLOAD_FOLDER"])
        params = {
            "kind": form.kind.data,
            "path": str(path),
            "dry_run": bool(form.dry_run.data),
            "filename": Path(storage.filename or "").name[:150],
        }
        job = jobs.submit("import", params, current_user, title=params["filename"])
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template(
        "imports/upload.html", form=form, formats=FORMATS, kind_labels=KIND_LABELS
    )


@bp.route("/import/template/<kind>.<fmt>")
@roles_required(FINANCE)
def template(kind: str, fmt: str):
    """An empty file with the header row, in English or (?headers=zh) Chinese."""
    if kind not in FORMATS or fmt not in ("csv", "xlsx"):
        abort(404)
    language = "zh" if request.args.get("headers") == "zh" else "en"
    return exporter.send_table(headers(kind, language), [], fmt, f"{kind}-template.{fmt}")


def _export_arguments():
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(400)
    as_of = None
    if request.args.get("as_of"):
        try:
            as_of = date.fromisoformat(request.args["as_of"])
        except ValueError:
            abort(400)
    item_filter = LedgerFilter.from_args(request.args)
    item_filter.visible_to = scope_user_id(current_user)
    language = "zh" if request.args.get("headers") == "zh" else "en"
    return fmt, as_of, item_filter, language


@bp.route("/export/items")
@roles_required(*EXPORT_ROLES)
def export_items():
    fmt, as_of, item_filter, language = _export_arguments()
    columns, rows = exporter.export_table("items", item_filter, as_of, language)
    name = f"items-{(as_of or date.today()).isoformat()}.{fmt}"
    return exporter.send_table(columns, rows, fmt, name)


@bp.route("/export/receipts")
@roles_required(*EXPORT_ROLES)
def export_receipts():
    fmt, as_of, item_filter, language = _export_arguments()
    columns, rows = exporter.export_table("receipts", item_filter, as_of, language)
    name = f"receipts-{(as_of or date.today()).isoformat()}.{fmt}"
    return exporter.send_table(columns, rows, fmt, name)


@bp.route("/export/adjustments")
@roles_required(*EXPORT_ROLES)
def export_adjustments():
    """Approved credit notes and write-offs, in the format of their import."""
    fmt, as_of, item_filter, language = _export_arguments()
    columns, rows = exporter.export_table("adjustments", item_filter, as_of, language)
    name = f"adjustments-{(as_of or date.today()).isoformat()}.{fmt}"
    return exporter.send_table(columns, rows, fmt, name)


@bp.route("/export/aging")
@roles_required(*EXPORT_ROLES)
def export_aging():
    """The aging report as shown on the aging screen, with the columns of `report aging`."""
    from recovery.reports.aging import BASES, DIMENSIONS, aging_table

    fmt, as_of, _filter, _language = _export_arguments()
    by = request.args.get("by", "counterparty")
    basis = request.args.get("basis", "due")
    if by not in DIMENSIONS or basis not in BASES:
        abort(400)
    scope = scope_user_id(current_user)
    item_filter = LedgerFilter(visible_to=scope) if scope is not None else None
    as_of = as_of or date.today()
    table = aging_table(as_of, by=by, basis=basis, item_filter=item_filter)
    name = f"aging-{by}-{basis}-{as_of.isoformat()}.{fmt}"
    return exporter.send_table(table.columns, table.rows, fmt, name)
