"""Counterparties and projects (read), with their outstanding and overdue as of a date."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from recovery.api import access, blueprint
from recovery.api.common import as_of, not_found, scope, today, username_of
from recovery.api.pagination import pagination
from recovery.api.schemas import (
    AsOfArgs,
    CounterpartySchema,
    ProjectSchema,
    SearchArgs,
    page_schema,
)
from recovery.core.money import from_fen
from recovery.core.pagination import Page
from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SALES, SUPERVISOR
from recovery.extensions import db
from recovery.ledger import queries, screen_queries
from recovery.ledger.models import Item
from recovery.parties.models import Counterparty, Project

bp = blueprint("api_parties", "Counterparties and projects")

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)


def counterparty_json(row: screen_queries.BalanceRow) -> dict:
    cp = row.extra
    return {
        "id": cp.id,
        "code": cp.code,
        "name": cp.name,
        "kind": cp.kind,
        "credit_code": cp.credit_code,
        "credit_limit": cp.credit_limit,
        "financial_status": cp.financial_status,
        "business_status": cp.business_status,
        "active": cp.active,
        "department": cp.department.name if cp.department else None,
        "responsible": username_of(cp.responsible),
        "outstanding": row.outstanding,
        "overdue": row.overdue,
        "unapplied_credit": row.unapplied_credit,
    }


def project_json(row: screen_queries.BalanceRow) -> dict:
    project = row.extra
    return {
        "id": project.id,
        "code": project.code,
        "name": project.name,
        "employer_code": project.employer.code if project.employer else None,
        "department": project.department.name if project.department else None,
        "prospects": project.prospects,
        "active": project.active,
        "outstanding": row.outstanding,
        "overdue": row.overdue,
    }


@bp.route("/counterparties", methods=["GET"])
@access(*READERS)
@bp.arguments(SearchArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(CounterpartySchema))
def counterparties(page, per_page, q="", as_of=None):
    """Counterparties by code (a sales user: their own), with balances as of a date."""
    day = as_of or today()
    result = screen_queries.counterparty_page(
        day, q or "", visible_to=scope(), page=page, per_page=per_page
    )
    return {
        "data": [counterparty_json(r) for r in result.items],
        "pagination": pagination(page, per_page, result.total),
    }


@bp.route("/counterparties/<int:counterparty_id>", methods=["GET"])
@access(*READERS)
@bp.arguments(AsOfArgs, location="query")
@bp.response(200, CounterpartySchema)
def counterparty(args, counterparty_id: int):
    """One counterparty with its balances as of a date."""
    if not screen_queries.counterparty_visible(counterparty_id, scope()):
        raise not_found(_("No counterparty has this id."))
    rows = _one("counterparty", counterparty_id, as_of(args))
    if rows is None:
        raise not_found(_("No counterparty has this id."))
    return counterparty_json(rows)


@bp.route("/projects", methods=["GET"])
@access(*READERS)
@bp.arguments(SearchArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(ProjectSchema))
def projects(page, per_page, q="", as_of=None):
    """Projects by code, with balances as of a date (a sales user: those with their items)."""
    day = as_of or today()
    user_id = scope()
    if user_id is not None:
        result = _visible_projects(day, q or "", user_id, page, per_page)
    else:
        result = screen_queries.project_page(day, q or "", page=page, per_page=per_page)
    return {
        "data": [project_json(r) for r in result.items],
        "pagination": pagination(page, per_page, result.total),
    }


@bp.route("/projects/<int:project_id>", methods=["GET"])
@access(*READERS)
@bp.arguments(AsOfArgs, location="query")
@bp.response(200, ProjectSchema)
def project(args, project_id: int):
    """One project with its balances as of a date."""
    if not screen_queries.project_visible(project_id, scope()):
        raise not_found(_("No project has this id."))
    row = _one("project", project_id, as_of(args))
    if row is None:
        raise not_found(_("No project has this id."))
    return project_json(row)


def _one(kind: str, object_id: int, day) -> screen_queries.BalanceRow | None:
    """One counterparty or project with its balances (the list's row, for one id)."""
    model = Counterparty if kind == "counterparty" else Project
    obj = db.session.get(model, object_id)
    if obj is None:
        return None
    sums = screen_queries._balances_by(day, f"{kind}_id", [object_id])
    outstanding, overdue = sums.get(object_id, (0, 0))
    credit = None
    if kind == "counterparty":
        credit = from_fen(queries.unapplied_credit(day, object_id).get(object_id, 0))
    return screen_queries.BalanceRow(
        obj.id, obj.code, obj.name, obj, from_fen(outstanding), from_fen(overdue), credit
    )


def _visible_projects(day, search: str, user_id: int, page: int, per_page: int) -> Page:
    """The project list narrowed to projects where the sales user sees an item (the rule of
    screen_queries.project_visible)."""
    items, cps = Item.__table__, Counterparty.__table__
    own = sa.select(cps.c.id).where(cps.c.responsible_id == user_id)
    visible = sa.select(items.c.project_id).where(
        sa.or_(items.c.responsible_id == user_id, items.c.counterparty_id.in_(own))
    )
    query = sa.select(Project).where(Project.id.in_(visible)).order_by(Project.code)
    if search.strip():
        pattern = f"%{search.strip()}%"
        query = query.where(sa.or_(Project.code.ilike(pattern), Project.name.ilike(pattern)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    objects = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    rows = [_one("project", p.id, day) for p in objects]
    return Page(items=rows, number=page, per_page=per_page, total=total or 0)
