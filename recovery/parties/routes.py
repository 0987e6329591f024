"""Counterparties and projects: lists with balances, the counterparty's statement, the
project's items, and the forms for counterparties, contacts, projects and contracts.

A sales user sees only their own counterparties; another's page answers 404 (not 403), so
that the page does not tell whether the counterparty exists.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SUPERVISOR, roles_required
from recovery.extensions import db
from recovery.ledger import queries, rules, screen_queries
from recovery.ledger.forms import DecisionForm
from recovery.ledger.routes import (
    READERS,
    WRITERS,
    as_of_from,
    department_choices,
    install_template_helpers,
    scope,
    submitted,
    user_choices,
)
from recovery.ledger.statement import build_statement, item_lines
from recovery.parties import services
from recovery.parties.forms import (
    ArchiveForm,
    ContactForm,
    ContractForm,
    CounterpartyForm,
    ProjectForm,
    attach_error,
)
from recovery.parties.models import Contact, Contract, Counterparty, Project

bp = Blueprint("parties", __name__)
install_template_helpers(bp)

# The counterparty list's archive filter: archived ones are hidden unless asked for.
ARCHIVE_FILTERS = {
    "active": _l("Not archived"),
    "archived": _l("Archived"),
    "all": _l("All"),
}


def get_visible_counterparty(counterparty_id: int) -> Counterparty:
    counterparty = db.session.get(Counterparty, counterparty_id)
    if counterparty is None or not screen_queries.counterparty_visible(counterparty.id, scope()):
        abort(404)
    return counterparty


def get_visible_project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or not screen_queries.project_visible(project.id, scope()):
        abort(404)
    return project


# ---------------------------------------------------------------------------------------------
# Counterparties


@bp.route("/counterparties")
@roles_required(*READERS)
def counterparties():
    as_of, bad_as_of = as_of_from(request.args)
    search = request.args.get("q", "").strip()
    open_only = request.args.get("open") in screen_queries.TRUE_VALUES
    archived = request.args.get("archived", "active")
    if archived not in ARCHIVE_FILTERS:
        archived = "active"
    page = screen_queries.counterparty_page(
        as_of,
        search,
        visible_to=scope(),
        page=request.args.get("page", 1, type=int),
        with_balance_only=open_only,
        archived=archived,
    )
    return render_template(
        "parties/counterparties.html",
        page=page,
        as_of=as_of,
        bad_as_of=bad_as_of,
        search=search,
        open_only=open_only,
        archived=archived,
        archive_filters=ARCHIVE_FILTERS,
    )


@bp.route("/counterparties/<int:counterparty_id>")
@roles_required(*READERS)
def counterparty(counterparty_id: int):
    counterparty = get_visible_counterparty(counterparty_id)
    as_of, bad_as_of = as_of_from(request.args)
    statement = build_statement(
        counterparty.id,
        as_of,
        page=request.args.get("page", 1, type=int),
        receipts_page=request.args.get("receipts_page", 1, type=int),
        open_only=request.args.get("items") == "open",
    )
    contracts = db.session.scalars(
        sa.select(Contract)
        .where(Contract.counterparty_id == counterparty.id)
        .order_by(Contract.number)
    ).all()
    pending = screen_queries.pending_adjustments(counterparty.id)
    return render_template(
        "parties/counterparty.html",
        counterparty=counterparty,
        statement=statement,
        contracts=contracts,
        pending=pending,
        decision_form=DecisionForm(),
        as_of=as_of,
        bad_as_of=bad_as_of,
        show_open=request.args.get("items") == "open",
        bucket_links={
            bucket: url_for(
                "ledger.index",
                counterparty_id=counterparty.id,
                as_of=as_of.isoformat(),
                bucket=bucket,
            )
            for bucket in (*rules.DUE_BUCKETS, *rules.AGE_BUCKETS)
        },
    )


def _prepare_counterparty_form(form: CounterpartyForm) -> CounterpartyForm:
    form.department_id.choices = department_choices()
    form.responsible_id.choices = user_choices()
    return form


def _counterparty_values(form: CounterpartyForm) -> dict:
    return {
        "code": form.code.data,
        "name": (form.name.data or "").strip(),
        "kind": form.kind.data,
        "credit_code": form.credit_code.data,
        "credit_limit": form.credit_limit.data,
        "financial_status": form.financial_status.data,
        "business_status": form.business_status.data,
        "department_id": form.department_id.data,
        "responsible_id": form.responsible_id.data,
        "active": form.active.data,
    }


@bp.route("/counterparties/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def counterparty_new():
    form = _prepare_counterparty_form(CounterpartyForm())
    if form.validate_on_submit():
        try:
            counterparty = services.save_counterparty(None, **_counterparty_values(form))
        except services.PartyError as error:
            db.session.rollback()
            attach_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("Counterparty %(code)s was added.", code=counterparty.code), "success")
            return redirect(url_for("parties.counterparty", counterparty_id=counterparty.id))
    return render_template("parties/counterparty_form.html", form=form, counterparty=None)


@bp.route("/counterparties/<int:counterparty_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def counterparty_edit(counterparty_id: int):
    counterparty = db.session.get(Counterparty, counterparty_id) or abort(404)
    form = _prepare_counterparty_form(CounterpartyForm(obj=counterparty))
    if form.validate_on_submit():
        try:
            services.save_counterparty(counterparty, **_counterparty_values(form))
        except services.PartyError as error:
            db.session.rollback()
            attach_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("Counterparty %(code)s was saved.", code=counterparty.code), "success")
            return redirect(url_for("parties.counterparty", counterparty_id=counterparty.id))
    return render_template("parties/counterparty_form.html", form=form, counterparty=counterparty)


@bp.route("/counterparties/<int:counterparty_id>/archive", methods=["GET", "POST"])
@roles_required(FINANCE, SUPERVISOR)
def counterparty_archive(counterparty_id: int):
    """Close and archive a counterparty, with the reason (refused while anything is open)."""
    from flask_login import current_user

    from recovery.retention import services as retention
    from recovery.targets.services import company_today

    counterparty = get_visible_counterparty(counterparty_id)
    form = ArchiveForm()
    if request.method == "GET":
        form.closed_on.data = company_today()
    blockers = [] if counterparty.archived_at else retention.open_reasons(counterparty.id)
    if form.validate_on_submit():
        try:
            retention.archive(
                counterparty,
                reason=form.reason.data,
                actor=current_user,
                closed_on=form.closed_on.data,
            )
        except retention.RetentionError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            db.session.commit()
            flash(_("Counterparty %(code)s was closed and archived.", code=counterparty.code))
            return redirect(url_for("parties.counterparty", counterparty_id=counterparty.id))
    return render_template(
        "parties/archive.html", form=form, counterparty=counterparty, blockers=blockers
    )


@bp.route("/counterparties/<int:counterparty_id>/restore", methods=["POST"])
@roles_required(FINANCE, SUPERVISOR)
def counterparty_restore(counterparty_id: int):
    """Take a counterparty out of the archive (business with it resumes)."""
    from recovery.retention import services as retention

    counterparty = get_visible_counterparty(counterparty_id)
    try:
        retention.restore(counterparty)
    except retention.RetentionError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("Counterparty %(code)s is back in use.", code=counterparty.code), "success")
    return redirect(url_for("parties.counterparty", counterparty_id=counterparty.id))


# ---------------------------------------------------------------------------------------------
# Contacts


def _contact_values(form: ContactForm) -> dict:
    return {
        "name": (form.name.data or "").strip(),
        "title": (form.title.data or "").strip() or None,
        "phone": (form.phone.data or "").strip() or None,
        "email": (form.email.data or "").strip() or None,
        "is_primary": form.is_primary.data,
        "active": form.active.data,
    }


@bp.route("/counterparties/<int:counterparty_id>/contacts/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def contact_new(counterparty_id: int):
    counterparty = db.session.get(Counterparty, counterparty_id) or abort(404)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.save_contact(None, counterparty_id=counterparty.id, **_contact_values(form))
        except services.PartyError as error:
            db.session.rollback()
            attach_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("The contact was added."), "success")
            return redirect(url_for("parties.counterparty", counterparty_id=counterparty.id))
    return render_template(
        "parties/contact_form.html", form=form, counterparty=counterparty, contact=None
    )


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def contact_edit(contact_id: int):
    contact = db.session.get(Contact, contact_id) or abort(404)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            services.save_contact(contact, **_contact_values(form))
        except services.PartyError as error:
            db.session.rollback()
            attach_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("The contact was saved."), "success")
            return redirect(
                url_for("parties.counterparty", counterparty_id=contact.counterparty_id)
            )
    return render_template(
        "parties/contact_form.html", form=form, counterparty=contact.counterparty, contact=contact
    )


# ---------------------------------------------------------------------------------------------
# Projects


@bp.route("/projects")
@roles_required(FINANCE, SUPERVISOR, LEGAL, EXECUTIVE)
def projects():
    """Every project (sales reach a project's page through their own items instead)."""
    as_of, bad_as_of = as_of_from(request.args)
    search = request.args.get("q", "").strip()
    page = screen_queries.project_page(as_of, search, page=request.args.get("page", 1, type=int))
    return render_template(
        "parties/projects.html", page=page, as_of=as_of, bad_as_of=bad_as_of, search=search
    )


@bp.route("/projects/<int:project_id>")
@roles_required(*READERS)
def project(project_id: int):
    project = get_visible_project(project_id)
    args = request.args
    as_of, bad_as_of = as_of_from(args)
    item_filter = screen_queries.ScreenFilter(project_id=project.id, visible_to=scope())
    item_filter.open_only = args.get("show", "open") != "all"
    sort, direction = screen_queries.parse_sort(args.get("sort"), args.get("dir"))
    totals = screen_queries.totals(as_of, item_filter)
    page = screen_queries.ledger_page(
        as_of, item_filter, sort, direction, args.get("page", 1, type=int), total=totals.count
    )
    lines = item_lines([row.id for row in page.items], as_of)
    aging_filter = screen_queries.ScreenFilter(project_id=project.id, visible_to=scope())
    basis = args.get("basis") if args.get("basis") in ("due", "age") else "due"
    by_counterparty = queries.aging(as_of, by="counterparty", basis=basis, item_filter=aging_filter)
    contracts = db.session.scalars(
        sa.select(Contract).where(Contract.project_id == project.id).order_by(Contract.number)
    ).all()
    return render_template(
        "parties/project.html",
        project=project,
        page=page,
        lines=lines,
        totals=totals,
        by_counterparty=by_counterparty,
        basis=basis,
        contracts=contracts if scope() is None else [],
        as_of=as_of,
        bad_as_of=bad_as_of,
        item_filter=item_filter,
        sort=sort,
        direction=direction,
        bucket_links={
            bucket: url_for(
                "ledger.index", project_id=project.id, as_of=as_of.isoformat(), bucket=bucket
            )
            for bucket in (*rules.DUE_BUCKETS, *rules.AGE_BUCKETS)
        },
    )


def _project_values(form: ProjectForm) -> dict | None:
    employer_id = None
    if form.employer_code.data:
        employer = services.find_counterparty(form.employer_code.data)
        if employer is None:
            form.employer_code.errors.append(_("No counterparty has this code."))
            return None
        employer_id = employer.id
    return {
        "code": form.code.data,
        "name": (form.name.data or "").strip(),
        "employer_id": employer_id,
        "department_id": form.department_id.data,
        "prospects": form.prospects.data,
        "active": form.active.data,
    }


@bp.route("/projects/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def project_new():
    form = ProjectForm()
    form.department_id.choices = department_choices()
    if submitted(form):
        values = _project_values(form)
        if values is not None and not form.errors:
            try:
                project = services.save_project(None, **values)
            except services.PartyError as error:
                db.session.rollback()
                attach_error(form, error, "code")
            else:
                db.session.commit()
                flash(_("Project %(code)s was added.", code=project.code), "success")
                return redirect(url_for("parties.project", project_id=project.id))
    return render_template("parties/project_form.html", form=form, project=None)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def project_edit(project_id: int):
    project = db.session.get(Project, project_id) or abort(404)
    form = ProjectForm(obj=project)
    form.department_id.choices = department_choices()
    if request.method == "GET":
        form.employer_code.data = project.employer.code if project.employer else ""
    if submitted(form):
        values = _project_values(form)
        if values is not None and not form.errors:
            try:
                services.save_project(project, **values)
            except services.PartyError as error:
                db.session.rollback()
                attach_error(form, error, "code")
            else:
                db.session.commit()
                flash(_("Project %(code)s was saved.", code=project.code), "success")
                return redirect(url_for("parties.project", project_id=project.id))
    return render_template("parties/project_form.html", form=form, project=project)


# ---------------------------------------------------------------------------------------------
# Contracts


def _contract_values(form: ContractForm) -> dict | None:
    counterparty = None
    if form.counterparty_code.data:
        counterparty = services.find_counterparty(form.counterparty_code.data)
        if counterparty is None:
            form.counterparty_code.errors.append(_("No counterparty has this code."))
    project_id = None
    if form.project_code.data:
        project = services.find_project(form.project_code.data)
        if project is None:
            form.project_code.errors.append(_("No project has this code."))
            return None
        project_id = project.id
    if counterparty is None:
        return None
    return {
        "number": form.number.data,
        "counterparty_id": counterparty.id,
        "project_id": project_id,
        "signed_on": form.signed_on.data,
        "amount": form.amount.data,
        "overdue_rate": form.overdue_rate.data,
        "rate_basis": form.rate_basis.data,
        "reviewed": form.reviewed.data,
        "signer_id": form.signer_id.data,
        "installments": form.installments.data,
    }


@bp.route("/contracts/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def contract_new():
    form = ContractForm()
    form.signer_id.choices = user_choices()
    if request.method == "GET":
        form.counterparty_code.data = request.args.get("counterparty", "")
        form.project_code.data = request.args.get("project", "")
    if submitted(form):
        values = _contract_values(form)
        if values is not None and not form.errors:
            try:
                contract = services.save_contract(None, **values)
            except services.PartyError as error:
                db.session.rollback()
                attach_error(form, error, "number")
            else:
                db.session.commit()
                flash(_("Contract %(no)s was added.", no=contract.number), "success")
                return redirect(
                    url_for("parties.counterparty", counterparty_id=contract.counterparty_id)
                )
    return render_template("parties/contract_form.html", form=form, contract=None)


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def contract_edit(contract_id: int):
    contract = db.session.get(Contract, contract_id) or abort(404)
    form = ContractForm(obj=contract)
    form.signer_id.choices = user_choices()
    if request.method == "GET":
        form.counterparty_code.data = contract.counterparty.code
        form.project_code.data = contract.project.code if contract.project else ""
    if submitted(form):
        values = _contract_values(form)
        if values is not None and not form.errors:
            try:
                services.save_contract(contract, **values)
            except services.PartyError as error:
                db.session.rollback()
                attach_error(form, error, "number")
            else:
                db.session.commit()
                flash(_("Contract %(no)s was saved.", no=contract.number), "success")
                return redirect(
                    url_for("parties.counterparty", counterparty_id=contract.counterparty_id)
                )
    return render_template("parties/contract_form.html", form=form, contract=contract)
