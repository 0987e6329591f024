"""The ledger screens: the item list, aging views, items, receipts, credit notes / write-offs.

Finance writes; finance, supervisor, legal and executive read everything; sales reads only
their own accounts (LedgerFilter.visible_to); the administrator runs the system, not the
ledger. Every figure comes from screen_queries / queries (SQL) or statement (one item's or one
counterparty's rows through rules.py); the views parse input, call them, commit once, render.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from recovery.activities.disputes import disputed_by
from recovery.auth.models import Department, User
from recovery.core.forms import choices
from recovery.core.money import display_amount
from recovery.core.pagination import Page
from recovery.core.permissions import (
    EXECUTIVE,
    FINANCE,
    LEGAL,
    SALES,
    SUPERVISOR,
    roles_required,
)
from recovery.core.urls import safe_next
from recovery.extensions import db
from recovery.ledger import codes, queries, rules, screen_queries, services
from recovery.ledger.forms import (
    ADJUSTMENT_KINDS,
    ADJUSTMENT_STATUSES,
    AdjustmentForm,
    DecisionForm,
    ItemForm,
    ReceiptForm,
)
from recovery.ledger.models import Adjustment, Item, Receipt
from recovery.ledger.statement import item_line
from recovery.parties.forms import attach_error
from recovery.parties.models import Contract, Counterparty, Project
from recovery.parties.services import find_contract, find_counterparty, find_project

bp = Blueprint("ledger", __name__)

# Who reads the ledger (sales: only their own accounts) and who writes it.
READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
WRITERS = (FINANCE,)

DUE_BUCKET_LABELS = {
    "not_due": _l("Not due"),
    "d1_30": _l("1–30 days"),
    "d31_90": _l("31–90 days"),
    "d91_180": _l("91–180 days"),
    "d181_365": _l("181–365 days"),
    "d366_730": _l("366–730 days"),
    "d731_1095": _l("731–1095 days"),
    "d1096_plus": _l("Over 1095 days"),
}
AGE_BUCKET_LABELS = {
    "y0_1": _l("Within 1 year"),
    "y1_2": _l("1–2 years"),
    "y2_3": _l("2–3 years"),
    "y3_4": _l("3–4 years"),
    "y4_5": _l("4–5 years"),
    "y5_plus": _l("Over 5 years"),
}
DIMENSION_LABELS = {
    "counterparty": _l("Counterparty"),
    "project": _l("Project"),
    "department": _l("Department"),
    "responsible": _l("Responsible person"),
}
BASIS_LABELS = {"due": _l("Days past due"), "age": _l("Account age")}
RATE_SOURCES = {
    "item": _l("item rate"),
    "contract": _l("contract rate"),
    "default": _l("default rate"),
}


# ---------------------------------------------------------------------------------------------
# Template helpers (app-wide: the parties and home pages use them too)


money = display_amount  # the template filter's name


def ledger_labels() -> dict:
    def labels(vocabulary):
        return {code: c.label for code, c in vocabulary.items()}

    return {
        "ledger_labels": {
            "item_types": labels(codes.ITEM_TYPES),
            "categories": labels(codes.CATEGORIES),
            "kinds": labels(codes.COUNTERPARTY_KINDS),
            "methods": labels(codes.RECEIPT_METHODS),
            "financial": labels(codes.FINANCIAL_STATUS),
            "business": labels(codes.BUSINESS_STATUS),
            "prospects": labels(codes.PROSPECTS),
            "due_buckets": DUE_BUCKET_LABELS,
            "age_buckets": AGE_BUCKET_LABELS,
            "buckets": {**DUE_BUCKET_LABELS, **AGE_BUCKET_LABELS},
            "adjustment_kinds": ADJUSTMENT_KINDS,
            "adjustment_statuses": ADJUSTMENT_STATUSES,
            "dimensions": DIMENSION_LABELS,
            "bases": BASIS_LABELS,
            "rate_sources": RATE_SOURCES,
        }
    }


def install_template_helpers(blueprint: Blueprint) -> None:
    blueprint.add_app_template_filter(money, "money")
    blueprint.app_context_processor(ledger_labels)


install_template_helpers(bp)


# ---------------------------------------------------------------------------------------------
# Shared view helpers


def company_today() -> date:
    """Today in the company's time zone (Beijing), the default as-of date."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(zone).date()


def as_of_from(args) -> tuple[date, str | None]:
    """The as-of date of a screen (default today) and the text typed when it was not a date."""
    text = (args.get("as_of") or "").strip()
    if not text:
        return company_today(), None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return company_today(), text


def scope() -> int | None:
    """None for users who read the whole ledger, else the sales user's id."""
    return queries.scope_user_id(current_user)


def user_choices():
    users = db.session.scalars(
        sa.select(User).where(User.active.is_(True)).order_by(User.display_name)
    ).all()
    return choices([(None, "—"), *((u.id, f"{u.display_name} ({u.username})") for u in users)])


def department_choices():
    departments = db.session.scalars(sa.select(Department)).all()
    pairs = [(None, "—")]
    pairs += [(d.id, d.path) for d in sorted(departments, key=lambda d: d.path)]
    return choices(pairs)


def get_visible_item(item_id: int, options=()) -> Item:
    """The item, or 404 when it does not exist or the user may not see it (sales).
    ``options``: loader options (e.g. the relations a page shows, in the same statement)."""
    item = db.session.get(Item, item_id, options=list(options))
    if item is None or not screen_queries.counterparty_visible(item.counterparty_id, scope()):
        abort(404)
    return item


def _back(default: str) -> str:
    return safe_next(request.values.get("next"), default)


def submitted(form) -> bool:
    """True on a POST: the form is validated, and the view goes on to check the codes typed
    in it, so that every mistake is shown at once (not one after the other)."""
    if request.method != "POST":
        return False
    form.validate_on_submit()
    return True


# ---------------------------------------------------------------------------------------------
# The ledger list


def _resolve_code_filters(args, item_filter, errors: dict) -> dict[str, str]:
    """Codes typed in the filter form (counterparty, project, contract) → ids on the filter.
    Returns what to show in those inputs."""
    shown = {}
    lookups = (
        ("counterparty", "counterparty_id", find_counterparty, Counterparty, "code"),
        ("project", "project_id", find_project, Project, "code"),
        ("contract", "contract_id", find_contract, Contract, "number"),
    )
    for arg, attribute, find, model, column in lookups:
        text = (args.get(arg) or "").strip()
        if text:
            found = find(text)
            if found is None:
                errors[arg] = text
                setattr(item_filter, attribute, -1)  # matches nothing
            else:
                setattr(item_filter, attribute, found.id)
            shown[arg] = text
        elif getattr(item_filter, attribute) is not None:
            found = db.session.get(model, getattr(item_filter, attribute))
            shown[arg] = getattr(found, column) if found is not None else ""
        else:
            shown[arg] = ""
    return shown


@bp.route("/")
@roles_required(*READERS)
def index():
    args = request.args
    as_of, bad_as_of = as_of_from(args)
    item_filter = screen_queries.ScreenFilter.from_args(args)
    item_filter.visible_to = scope()
    errors = {"as_of": bad_as_of} if bad_as_of else {}
    shown = _resolve_code_filters(args, item_filter, errors)
    sort, direction = screen_queries.parse_sort(args.get("sort"), args.get("dir"))
    totals = screen_queries.totals(as_of, item_filter)
    page = screen_queries.ledger_page(
        as_of, item_filter, sort, direction, args.get("page", 1, type=int), total=totals.count
    )
    link_args = {**item_filter.to_args(), "as_of": as_of.isoformat()}
    bucket_links = {
        bucket: url_for("ledger.index", **{**link_args, "bucket": bucket})
        for bucket in (*rules.DUE_BUCKETS, *rules.AGE_BUCKETS)
    }
    return render_template(
        "ledger/index.html",
        page=page,
        totals=totals,
        credit=screen_queries.visible_unapplied_credit(as_of, item_filter),
        as_of=as_of,
        item_filter=item_filter,
        shown=shown,
        errors=errors,
        sort=sort,
        direction=direction,
        link_args=link_args,
        bucket_links=bucket_links,
        departments=db.session.scalars(sa.select(Department).order_by(Department.name)).all(),
        users=db.session.scalars(
            sa.select(User).where(User.active.is_(True)).order_by(User.display_name)
        ).all(),
        pending=screen_queries.pending_adjustment_count() if current_user.has_role(FINANCE) else 0,
    )


# ---------------------------------------------------------------------------------------------
# Aging views

AGING_PER_PAGE = 100
DIMENSION_ARGS = {
    "counterparty": ("counterparty_id", None),
    "project": ("project_id", "no_project"),
    "department": ("department_id", "no_department"),
    "responsible": ("responsible_id", "no_responsible"),
}


def drill_args(by: str, row: queries.AgingRow | None, as_of: date, column: str) -> dict | None:
    """Query arguments of the ledger list holding exactly the items behind one aging cell
    (``row`` None: the totals row). None for cells that are not items (unapplied credit)."""
    if column == "unapplied_credit":
        return None
    args = {"as_of": as_of.isoformat()}
    if row is not None:
        if row.key == "UNAPPLIED" and row.key_id is None and by != "counterparty":
            return None
        id_arg, none_arg = DIMENSION_ARGS[by]
        if row.key_id is not None:
            args[id_arg] = str(row.key_id)
        elif none_arg:
            args[none_arg] = "1"
    if column == "overdue":
        args["overdue_only"] = "1"
    elif column != "outstanding":
        args["bucket"] = column
    return args


@bp.route("/aging")
@roles_required(*READERS)
def aging():
    args = request.args
    as_of, bad_as_of = as_of_from(args)
    by = args.get("by") if args.get("by") in queries.DIMENSIONS else "counterparty"
    basis = args.get("basis") if args.get("basis") in ("due", "age") else "due"
    item_filter = None
    if scope() is not None:
        item_filter = screen_queries.ScreenFilter(visible_to=scope())
    rows = queries.aging(as_of, by=by, basis=basis, item_filter=item_filter)
    # The totals row adds up the report's rows, each an SQL aggregate (one per key, not per
    # item): a second scan of the ledger would double the page's time for the same figures.
    columns = queries.DUE_COLUMNS if basis == "due" else queries.AGE_COLUMNS
    totals = {column: sum((r.values[column] for r in rows), Decimal("0.00")) for column in columns}
    number = max(1, args.get("page", 1, type=int) or 1)
    start = (number - 1) * AGING_PER_PAGE
    page = Page(
        items=rows[start : start + AGING_PER_PAGE],
        number=number,
        per_page=AGING_PER_PAGE,
        total=len(rows),
    )
    buckets = rules.DUE_BUCKETS if basis == "due" else rules.AGE_BUCKETS
    shown = ("outstanding", *buckets, *(("overdue",) if basis == "due" else ()))
    # "Of which disputed": on screen only, the aging report and exports keep their columns.
    disputed = disputed_by(as_of, by, item_filter)
    return render_template(
        "ledger/aging.html",
        page=page,
        totals=totals,
        as_of=as_of,
        bad_as_of=bad_as_of,
        by=by,
        basis=basis,
        buckets=buckets,
        columns=shown,
        drill_args=drill_args,
        scoped=item_filter is not None,
        disputed=disputed,
        disputed_total=sum(disputed.values(), Decimal("0.00")),
    )


# ---------------------------------------------------------------------------------------------
# Items


@bp.route("/items/<int:item_id>")
@roles_required(*READERS)
def item(item_id: int):
    # What the page shows of the item's relations, read with it (not one query each).
    item = get_visible_item(
        item_id,
        options=[
            joinedload(Item.counterparty),
            joinedload(Item.project),
            joinedload(Item.contract),
            joinedload(Item.department),
            joinedload(Item.responsible),
        ],
    )
    as_of, bad_as_of = as_of_from(request.args)
    line = item_line(item.id, as_of)
    adjustments = db.session.scalars(
        sa.select(Adjustment).where(Adjustment.item_id == item.id).order_by(Adjustment.id)
    ).all()
    receipts = db.session.scalars(
        sa.select(Receipt).where(Receipt.item_id == item.id).order_by(Receipt.received_on)
    ).all()
    return render_template(
        "ledger/item.html",
        item=item,
        line=line,
        as_of=as_of,
        bad_as_of=bad_as_of,
        adjustments=adjustments,
        naming_receipts=receipts,
        decision_form=DecisionForm(),
    )


def _lookup(field, find, message):
    """The record a code field names (None when empty); an unknown code adds ``message``."""
    if not field.data:
        return None
    found = find(field.data)
    if found is None:
        field.errors.append(message)
    return found


def _item_values(form: ItemForm) -> dict | None:
    """Plain values for services.create_item/update_item, or None with errors on the form."""
    counterparty = _lookup(
        form.counterparty_code, find_counterparty, _("No counterparty has this code.")
    )
    project = _lookup(form.project_code, find_project, _("No project has this code."))
    contract = _lookup(form.contract_no, find_contract, _("No contract has this number."))
    ok = not (form.counterparty_code.errors or form.project_code.errors or form.contract_no.errors)
    if contract and counterparty and contract.counterparty_id != counterparty.id:
        form.contract_no.errors.append(_("This contract is with another counterparty."))
        ok = False
    if not ok or counterparty is None:
        return None
    if project is None and contract is not None:
        project = contract.project
    return {
        "document_no": (form.document_no.data or "").strip(),
        "counterparty_id": counterparty.id,
        "project_id": project.id if project else None,
        "contract_id": contract.id if contract else None,
        "item_type": form.item_type.data,
        "amount": form.amount.data,
        "recognized_on": form.recognized_on.data,
        "due_on": form.due_on.data,
        # Empty: create_item gives the counterparty's department and responsible person.
        "department_id": form.department_id.data or None,
        "responsible_id": form.responsible_id.data or None,
        "overdue_rate": form.overdue_rate.data,
        "description": (form.description.data or "").strip() or None,
    }


def _prepare_item_form(form: ItemForm) -> ItemForm:
    form.department_id.choices = department_choices()
    form.responsible_id.choices = user_choices()
    return form


@bp.route("/items/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def item_new():
    form = _prepare_item_form(ItemForm())
    if request.method == "GET" and request.args.get("counterparty"):
        form.counterparty_code.data = request.args["counterparty"]
    if submitted(form):
        values = _item_values(form)
        if values is not None and not form.errors:
            try:
                item = services.create_item(**values)
            except services.LedgerError as error:
                db.session.rollback()
                attach_error(form, error, "document_no")
            else:
                db.session.commit()
                flash(_("Item %(no)s was added.", no=item.document_no), "success")
                return redirect(url_for("ledger.item", item_id=item.id))
    return render_template("ledger/item_form.html", form=form, item=None)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def item_edit(item_id: int):
    item = db.session.get(Item, item_id) or abort(404)
    form = _prepare_item_form(ItemForm(obj=item))
    if request.method == "GET":
        form.counterparty_code.data = item.counterparty.code
        form.project_code.data = item.project.code if item.project else ""
        form.contract_no.data = item.contract.number if item.contract else ""
    if submitted(form):
        values = _item_values(form)
        if values is not None and not form.errors:
            try:
                services.update_item(item, **values)
            except services.LedgerError as error:
                db.session.rollback()
                attach_error(form, error, "document_no")
            else:
                db.session.commit()
                flash(_("Item %(no)s was saved.", no=item.document_no), "success")
                return redirect(url_for("ledger.item", item_id=item.id))
    return render_template("ledger/item_form.html", form=form, item=item)


# ---------------------------------------------------------------------------------------------
# Receipts


def _receipt_values(form: ReceiptForm) -> dict | None:
    counterparty = _lookup(
        form.counterparty_code, find_counterparty, _("No counterparty has this code.")
    )
    ok = not form.counterparty_code.errors
    item_id = None
    if form.item_document_no.data:
        item_id = db.session.scalar(
            sa.select(Item.id).where(Item.document_no == form.item_document_no.data.strip())
        )
        if item_id is None:
            form.item_document_no.errors.append(_("No item has this document number."))
            ok = False
    if not ok or counterparty is None:
        return None
    return {
        "receipt_no": (form.receipt_no.data or "").strip(),
        "counterparty_id": counterparty.id,
        "amount": form.amount.data,
        "received_on": form.received_on.data,
        "method": form.method.data,
        "reference": (form.reference.data or "").strip() or None,
        "item_id": item_id,
    }


RECEIPT_FIELDS = {"item_id": "item_document_no", "counterparty_id": "counterparty_code"}


@bp.route("/receipts/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def receipt_new():
    form = ReceiptForm()
    if request.method == "GET":
        form.counterparty_code.data = request.args.get("counterparty", "")
        form.item_document_no.data = request.args.get("item", "")
    if submitted(form):
        values = _receipt_values(form)
        if values is not None and not form.errors:
            try:
                receipt = services.create_receipt(**values)
            except services.LedgerError as error:
                db.session.rollback()
                attach_error(form, error, "receipt_no", RECEIPT_FIELDS)
            else:
                db.session.commit()
                flash(_("Receipt %(no)s was added.", no=receipt.receipt_no), "success")
                return redirect(
                    url_for("parties.counterparty", counterparty_id=receipt.counterparty_id)
                )
    return render_template("ledger/receipt_form.html", form=form, receipt=None)


@bp.route("/receipts/<int:receipt_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def receipt_edit(receipt_id: int):
    receipt = db.session.get(Receipt, receipt_id) or abort(404)
    form = ReceiptForm(obj=receipt)
    if request.method == "GET":
        form.counterparty_code.data = receipt.counterparty.code
        form.item_document_no.data = receipt.item.document_no if receipt.item else ""
    if submitted(form):
        values = _receipt_values(form)
        if values is not None and not form.errors:
            try:
                services.update_receipt(receipt, **values)
            except services.LedgerError as error:
                db.session.rollback()
                attach_error(form, error, "receipt_no", RECEIPT_FIELDS)
            else:
                db.session.commit()
                flash(_("Receipt %(no)s was saved.", no=receipt.receipt_no), "success")
                return redirect(
                    url_for("parties.counterparty", counterparty_id=receipt.counterparty_id)
                )
    return render_template("ledger/receipt_form.html", form=form, receipt=receipt)


# ---------------------------------------------------------------------------------------------
# Credit notes and write-offs


@bp.route("/items/<int:item_id>/adjustments/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def adjustment_new(item_id: int):
    item = db.session.get(Item, item_id) or abort(404)
    form = AdjustmentForm()
    if form.validate_on_submit():
        try:
            adjustment = services.propose_adjustment(
                item,
                kind=form.kind.data,
                amount=form.amount.data,
                dated_on=form.dated_on.data,
                reason=form.reason.data,
                number=form.number.data.strip(),
                actor=current_user,
            )
        except services.LedgerError as error:
            db.session.rollback()
            attach_error(form, error, "number")
        else:
            db.session.commit()
            flash(
                _(
                    "%(no)s was proposed; another finance user must approve it.",
                    no=adjustment.number,
                ),
                "success",
            )
            return redirect(url_for("ledger.item", item_id=item.id))
    return render_template("ledger/adjustment_form.html", form=form, item=item)


@bp.route("/adjustments")
@roles_required(FINANCE, SUPERVISOR, LEGAL, EXECUTIVE)
def adjustments():
    return render_template(
        "ledger/adjustments.html",
        pending=screen_queries.pending_adjustments(),
        decision_form=DecisionForm(),
    )


@bp.route("/adjustments/<int:adjustment_id>/decide", methods=["POST"])
@roles_required(*WRITERS)
def adjustment_decide(adjustment_id: int):
    adjustment = db.session.get(Adjustment, adjustment_id) or abort(404)
    form = DecisionForm()
    back = _back(url_for("ledger.adjustments"))
    if not form.validate_on_submit():
        flash(_("The decision was not understood; try again."), "danger")
        return redirect(back)
    approve = bool(form.approve.data)
    try:
        services.decide_adjustment(
            adjustment, approve=approve, actor=current_user, note=form.note.data or ""
        )
    except services.LedgerError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        if approve:
            flash(_("%(no)s was approved.", no=adjustment.number), "success")
        else:
            flash(_("%(no)s was rejected.", no=adjustment.number), "info")
    return redirect(back)
