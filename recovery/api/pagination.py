"""Pagination of API lists: ``page`` (from 1) and ``per_page`` (1–200, default 50).

Every list answers ``{"data": [...], "pagination": {"page", "per_page", "total", "pages",
"links": {"self", "first", "last", "prev", "next"}}}``; each list has a fixed order that ends
with a unique column (the id or the code), so pages never overlap.
"""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask import request, url_for

from recovery.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


class PageArgs(ma.Schema):
    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1, max=1_000_000), metadata={"example": 1}
    )
    per_page = ma.fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE)
    )


class LinksSchema(ma.Schema):
    self = ma.fields.String()
    first = ma.fields.String()
    last = ma.fields.String()
    prev = ma.fields.String(allow_none=True)
    next = ma.fields.String(allow_none=True)


class PaginationSchema(ma.Schema):
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()
    links = ma.fields.Nested(LinksSchema)


def _link(number: int) -> str:
    args = dict(request.args)
    args["page"] = str(number)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def pagination(page: int, per_page: int, total: int) -> dict:
    pages = max(1, -(-total // per_page))
    return {
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "links": {
            "self": _link(page),
            "first": _link(1),
            "last": _link(pages),
            "prev": _link(page - 1) if page > 1 else None,
            "next": _link(page + 1) if page < pages else None,
        },
    }


def page_of(query, page: int, per_page: int) -> tuple[list, dict]:
    """One page of a SELECT (ORM entities or rows) and its pagination object."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = rows.scalars().all() if _single_entity(query) else rows.all()
    return items, pagination(page, per_page, total or 0)


def _single_entity(query) -> bool:
    return len(query.column_descriptions) == 1 and query.column_descriptions[0].get("entity")


def page_of_list(rows: list, page: int, per_page: int) -> tuple[list, dict]:
    start = (page - 1) * per_page
    return rows[start : start + per_page], pagination(page, per_page, len(rows))
