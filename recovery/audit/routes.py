"""The audit viewer (admin, executive): filter by user, table, row and date."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request

from recovery.audit.models import AuditLog
from recovery.core.pagination import paginate
from recovery.core.permissions import ADMIN, EXECUTIVE, roles_required
from recovery.extensions import db

bp = Blueprint("audit", __name__)


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _local_midnight_in_utc(day: date) -> datetime:
    """The trail stores naive UTC; users pick calendar days in the company's time zone."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = datetime.combine(day, time(), tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


@bp.route("/")
@roles_required(ADMIN, EXECUTIVE)
def index():
    args = request.args
    query = sa.select(AuditLog).order_by(AuditLog.id.desc())
    filters = {
        "user": args.get("user", "").strip(),
        "table": args.get("table", "").strip(),
        "row": args.get("row", "").strip(),
        "date_from": args.get("date_from", "").strip(),
        "date_to": args.get("date_to", "").strip(),
    }
    errors = {}
    if filters["user"]:
        query = query.where(AuditLog.actor_name == filters["user"])
    if filters["table"]:
        query = query.where(AuditLog.table_name == filters["table"])
    if filters["row"]:
        query = query.where(AuditLog.row_id == filters["row"])
    for key in ("date_from", "date_to"):
        if filters[key] and _parse_date(filters[key]) is None:
            errors[key] = True
    start, end = _parse_date(filters["date_from"]), _parse_date(filters["date_to"])
    if start:
        query = query.where(AuditLog.at >= _local_midnight_in_utc(start))
    if end:
        query = query.where(AuditLog.at < _local_midnight_in_utc(end + timedelta(days=1)))
    page = paginate(query, args.get("page", 1, type=int))
    tables = db.session.scalars(
        sa.select(AuditLog.table_name).distinct().order_by(AuditLog.table_name)
    ).all()
    actors = db.session.scalars(
        sa.select(AuditLog.actor_name).distinct().order_by(AuditLog.actor_name)
    ).all()
    rows = [(entry, json.loads(entry.changes)) for entry in page.items]
    return render_template(
        "audit/index.html",
        page=page,
        rows=rows,
        filters=filters,
        errors=errors,
        tables=tables,
        actors=actors,
    )
