"""Date arithmetic in SQL that reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement


class days_between(ColumnElement):  # noqa: N801 - reads like the SQL function it stands for
    """Whole days from ``earlier`` to ``later`` (later − earlier), as an integer."""

    type = sa.Integer()
    inherit_cache = True

    def __init__(self, later, earlier):
        self.later = sa.literal(later) if not isinstance(later, ColumnElement) else later
        self.earlier = sa.literal(earlier) if not isinstance(earlier, ColumnElement) else earlier


@compiles(days_between)
def _days_between_sqlite(element, compiler, **kw):
    return (
        f"CAST(julianday({compiler.process(element.later, **kw)}) - "
        f"julianday({compiler.process(element.earlier, **kw)}) AS INTEGER)"
    )


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    return (
        f"(CAST({compiler.process(element.later, **kw)} AS DATE) - "
        f"CAST({compiler.process(element.earlier, **kw)} AS DATE))"
    )
