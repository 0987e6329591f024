"""Date arithmetic in SQL that reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


def as_date(value) -> date | None:
    """A date read back from SQL: aggregates of date columns (MIN, MAX) come back as text on
    SQLite, a timestamp as a datetime; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class days_between(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """Whole days from ``earlier`` to ``later`` (later − earlier), as an integer.

    A FunctionElement, so that statements using it take part in SQLAlchemy's compiled cache
    (its state is its two arguments)."""

    type = sa.Integer()
    inherit_cache = True
    name = "days_between"

    def __init__(self, later, earlier):
        super().__init__(
            sa.literal(later) if not isinstance(later, ColumnElement) else later,
            sa.literal(earlier) if not isinstance(earlier, ColumnElement) else earlier,
        )

    @property
    def later(self):
        return self.clauses.clauses[0]

    @property
    def earlier(self):
        return self.clauses.clauses[1]


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


class day_end_utc(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """The first moment after a date column's day (its 24:00) in a zone ``utc_offset_seconds``
    ahead of UTC, as a naive UTC timestamp: ``day + 1 day − offset``. A fixed offset, so only
    for zones without daylight-saving time (China's). Compare stored naive-UTC moments with
    it: ``effective_at < day_end_utc(received_on, 8 * 3600)`` is "on or before that day"."""

    type = sa.DateTime()
    inherit_cache = True
    name = "day_end_utc"

    def __init__(self, day, utc_offset_seconds: int):
        # The offset as literal SQL text: part of the statement (and its cache key), not a bind.
        seconds = 86400 - int(utc_offset_seconds)
        super().__init__(day, sa.literal_column(str(seconds)))

    @property
    def day(self):
        return self.clauses.clauses[0]

    @property
    def seconds(self) -> int:
        return int(self.clauses.clauses[1].name)


@compiles(day_end_utc)
def _day_end_utc_sqlite(element, compiler, **kw):
    # Stored as text; datetime() gives 'YYYY-MM-DD HH:MM:SS', which sorts correctly against
    # the stored 'YYYY-MM-DD HH:MM:SS.ffffff' moments.
    return f"datetime({compiler.process(element.day, **kw)}, '{element.seconds:+d} seconds')"


@compiles(day_end_utc, "postgresql")
def _day_end_utc_postgresql(element, compiler, **kw):
    return (
        f"(CAST({compiler.process(element.day, **kw)} AS TIMESTAMP) "
        f"+ INTERVAL '{element.seconds} seconds')"
    )


class not_indexed(FunctionElement):  # noqa: N801 - reads like the SQL it renders
    """A date column that SQLite must not pick an index for (its documented unary ``+``);
    the column itself elsewhere. For a condition that is true of nearly every row, where
    SQLite's planner would otherwise read a whole index instead of a selective one."""

    type = sa.Date()
    inherit_cache = True
    name = "not_indexed"


@compiles(not_indexed)
def _not_indexed(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(not_indexed, "sqlite")
def _not_indexed_sqlite(element, compiler, **kw):
    return f"+{compiler.process(element.clauses, **kw)}"
