"""The limitation guard's pages: everything expiring by date, one item's limitation with what
set it and what would interrupt it, interruptions and suspensions recorded by hand; and the
daily command that sends the warnings (``flask --app recovery limitation warn``).

Everybody who reads the ledger reads these pages (sales: their own accounts); legal, finance
and supervisors record, end and withdraw events.
"""

from __future__ import annotations

from datetime import date

import click
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_login import current_user

from recovery.auth.models import Department, User
from recovery.core.pagination import Page
from recovery.core.permissions import (
    EXECUTIVE,
    FINANCE,
    LEGAL,
    SALES,
    SUPERVISOR,
    roles_required,
)
from recovery.core.views import form_status, on_form, save
from recovery.core.workdays import calendar_known
from recovery.extensions import db
from recovery.imports.exporter import send_table
from recovery.ledger.models import Item
from recovery.ledger.routes import as_of_from, company_today, get_visible_item, scope
from recovery.limitation import labels, services
from recovery.limitation.forms import EndSuspensionForm, EventForm, WithdrawForm
from recovery.limitation.models import LimitationEvent
from recovery.limitation.queries import department_subtree, item_history
from recovery.parties.services import find_counterparty
from recovery.reports.cli import ISO_DATE

bp = Blueprint("limitation", __name__)

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
WRITERS = (LEGAL, FINANCE, SUPERVISOR)
PER_PAGE = 100
MAX_WITHIN = 3650


@bp.app_context_processor
def limitation_helpers():
    def limitation_of_item(item_id: int, as_of: date):
        """The item's ExpiryRow as of the date (None when not open then)."""
        rows = services.expiry_rows(as_of, item_ids=[item_id])
        return rows[0] if rows else None

    return {
        "limitation_of_item": limitation_of_item,
        "limitation_labels": {
            "interruptions": labels.INTERRUPTION_LABELS,
            "events": labels.EVENT_LABELS,
            "periods": labels.PERIOD_LABELS,
        },
        "limitation_warning_days": services.warning_days,
    }


def _within(args) -> tuple[int, str | None]:
    default = (services.warning_days() or [180])[0]
    text = (args.get("within") or "").strip()
    if not text:
        return default, None
    if text.lstrip("-").isdigit() and 0 <= int(text) <= MAX_WITHIN:
        return int(text), None
    return default, text


def _number(args, name) -> int | None:
    value = args.get(name, "")
    return int(value) if str(value).isdigit() else None


# ---------------------------------------------------------------------------------------------
# Everything expiring, by date


@bp.route("/")
@roles_required(*READERS)
def index():
    args = request.args
    as_of, bad_as_of = as_of_from(args)
    within, bad_within = _within(args)
    code = (args.get("counterparty") or "").strip()
    counterparty, unknown_code = None, None
    if code:
        counterparty = find_counterparty(code)
        if counterparty is None:
            unknown_code = code
    department_id = _number(args, "department_id")
    responsible_id = _number(args, "responsible_id")
    rows = []
    if unknown_code is None:
        rows = services.expiry_rows(
            as_of,
            within=within,
            counterparty_id=counterparty.id if counterparty else None,
            department_ids=department_subtree(department_id),
            responsible_id=responsible_id,
            visible_to=scope(),
        )
    fmt = args.get("format")
    if fmt in ("csv", "xlsx"):
        from recovery.reports.limitation import limitation_table

        table = limitation_table(as_of, within, rows)
        return send_table(table.columns, table.rows, fmt, f"limitation-{as_of.isoformat()}")
    number = max(1, args.get("page", 1, type=int) or 1)
    start = (number - 1) * PER_PAGE
    page = Page(
        items=rows[start : start + PER_PAGE], number=number, per_page=PER_PAGE, total=len(rows)
    )
    thresholds = services.warning_days()
    names = _names({row.responsible_id for row in page.items if row.responsible_id})
    return render_template(
        "limitation/index.html",
        page=page,
        as_of=as_of,
        bad_as_of=bad_as_of,
        within=within,
        bad_within=bad_within,
        code=code,
        unknown_code=unknown_code,
        department_id=department_id,
        responsible_id=responsible_id,
        departments=db.session.scalars(sa.select(Department).order_by(Department.name)).all(),
        users=db.session.scalars(
            sa.select(User).where(User.active.is_(True)).order_by(User.display_name)
        ).all(),
        names=names,
        thresholds=thresholds,
        counts={
            "expired": sum(1 for row in rows if row.days_left < 0),
            **{days: sum(1 for row in rows if 0 <= row.days_left <= days) for days in thresholds},
        },
        provisional=any(not row.expiry.calendar_known for row in rows),
        calendar_known=calendar_known(as_of.year),
        export_args={k: v for k, v in args.items() if k not in ("page", "format")},
    )


def _names(ids) -> dict[int, str]:
    if not ids:
        return {}
    query = sa.select(User.id, User.display_name).where(User.id.in_(list(ids)))
    return {row.id: row.display_name for row in db.session.execute(query)}


# ---------------------------------------------------------------------------------------------
# One item


@bp.route("/items/<int:item_id>")
@roles_required(*READERS)
def item(item_id: int):
    item = get_visible_item(item_id)
    as_of, bad_as_of = as_of_from(request.args)
    history = item_history(item, as_of)
    return render_template(
        "limitation/item.html",
        item=item,
        as_of=as_of,
        bad_as_of=bad_as_of,
        history=history,
        row=history.row,
        names=_names({history.row.responsible_id} if history.row else set()),
        end_form=EndSuspensionForm(),
        withdraw_form=WithdrawForm(),
        may_write=current_user.has_role(*WRITERS),
    )


def _event_item(event_id: int) -> tuple[LimitationEvent, Item]:
    event = db.session.get(LimitationEvent, event_id)
    if event is None:
        abort(404)
    return event, get_visible_item(event.item_id)


@bp.route("/items/<int:item_id>/events/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_event(item_id: int):
    item = get_visible_item(item_id)
    form = EventForm()
    page_errors: list = []
    if request.method == "GET" and request.args.get("kind") in labels.EVENT_LABELS:
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        done = save(
            lambda: services.record_event(
                item,
                kind=form.kind.data,
                dated_on=form.dated_on.data,
                ended_on=form.ended_on.data,
                note=form.note.data,
                actor=current_user,
                today=company_today(),
            ),
            refused=services.LimitationError,
            show=on_form(form, page_errors),
            message=_("Recorded. The item's limitation is computed again from it."),
            then=url_for("limitation.item", item_id=item.id),
        )
        if done:
            return done
    page = render_template(
        "limitation/event_form.html", form=form, item=item, page_errors=page_errors
    )
    return page, form_status()


def _version(form) -> int | None:
    text = (form.version.data or "").strip()
    return int(text) if text.isdigit() else None


@bp.route("/events/<int:event_id>/end", methods=["POST"])
@roles_required(*WRITERS)
def end_suspension(event_id: int):
    event, item = _event_item(event_id)
    form = EndSuspensionForm()
    if form.validate_on_submit():
        try:
            services.end_suspension(
                event,
                ended_on=form.ended_on.data,
                actor=current_user,
                today=company_today(),
                version=_version(form),
            )
        except services.LimitationError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("The suspension ended: the period ends six months later."), "success")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
    return redirect(url_for("limitation.item", item_id=item.id))


@bp.route("/events/<int:event_id>/withdraw", methods=["POST"])
@roles_required(*WRITERS)
def withdraw_event(event_id: int):
    event, item = _event_item(event_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw_event(
                event, reason=form.reason.data, actor=current_user, version=_version(form)
            )
        except services.LimitationError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("Withdrawn: it no longer counts."), "success")
    else:
        flash(_("Say why it is withdrawn."), "danger")
    return redirect(url_for("limitation.item", item_id=item.id))


# ---------------------------------------------------------------------------------------------
# The daily warnings: flask --app recovery limitation warn [--as-of YYYY-MM-DD]


def _as_of_option(what: str):
    """The commands' ``--as-of YYYY-MM-DD``, today in Beijing when left out."""
    return click.option(
        "--as-of", "as_of", type=ISO_DATE, default=None, help=f"{what} (default: today in Beijing)."
    )


@bp.cli.command("warn")
@_as_of_option("The date the warnings are as of")
@with_appcontext
def warn(as_of):
    """E-mail the limitation warnings due (settings limitation.warning_days), once each."""
    day = as_of or company_today()
    run = services.send_warnings(day)
    click.echo(f"As of {day.isoformat()}: {run.items} item(s) with a warning due.")
    if run.mail_off:
        click.echo(
            "E-mail is not configured (RECOVERY_SMTP_HOST, RECOVERY_SMTP_SENDER): nothing was "
            "sent; the worklists show the warnings.",
            err=True,
        )
    for address, count in run.sent:
        click.echo(f"sent to {address}: {count} item(s)")
    for name in run.without_address:
        click.echo(f"no e-mail address: {name}", err=True)
    for address, reason in run.failed:
        click.echo(f"failed for {address}: {reason}", err=True)
    if run.failed:
        raise SystemExit(1)


@bp.cli.command("keep-signs")
@_as_of_option("The day the signs are kept for")
@with_appcontext
def keep_signs(as_of):
    """Keep every counterparty's worklist limitation sign for the day (run it daily, just
    after midnight in Beijing: the first worklists of the morning read them)."""
    day = as_of or company_today()
    counterparties, computed = services.keep_signs(day)
    click.echo(
        f"As of {day.isoformat()}: {counterparties} counterparties, {computed} sign(s) computed "
        "and kept."
    )
