"""Target periods: calendar months, quarters and years, and the text that names them.

A target period is canonical: a month runs from its 1st to its last day, a quarter from the
1st of January, April, July or October to the last day of its third month, a year from
1 January to 31 December. Pure functions, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

PERIOD_KINDS = ("month", "quarter", "year")
PERIOD_KIND_LABELS = {"month": _l("Month"), "quarter": _l("Quarter"), "year": _l("Year")}


class PeriodError(ValueError):
    """A period that is not a calendar month, quarter or year; the message says how to write
    one."""

    def __init__(self, message=None):
        message = message or _l(
            "Not a period: write a month (2026-03), a quarter (2026-Q1) or a year (2026)."
        )
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end + timedelta(days=1))


def _month_end(day: date) -> date:
    following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following - timedelta(days=1)


def month_of(day: date) -> Period:
    return Period("month", day.replace(day=1), _month_end(day))


def quarter_of(day: date) -> Period:
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    return Period("quarter", start, _month_end(date(day.year, first_month + 2, 1)))


def year_of(day: date) -> Period:
    return Period("year", date(day.year, 1, 1), date(day.year, 12, 31))


def period_of(kind: str, day: date) -> Period:
    """The month, quarter or year containing ``day``."""
    if kind == "month":
        return month_of(day)
    if kind == "quarter":
        return quarter_of(day)
    if kind == "year":
        return year_of(day)
    raise PeriodError()


def canonical(start: date, end: date) -> Period | None:
    """The calendar period that runs exactly from ``start`` to ``end``, or None. A period
    that is both (none is: a month is never a quarter) is read as the shortest kind."""
    for kind in PERIOD_KINDS:
        period = period_of(kind, start)
        if period.start == start and period.end == end:
            return period
    return None


def require_canonical(start: date, end: date) -> Period:
    """``canonical`` or a refusal that says what a target period is."""
    if start is None or end is None or end < start:
        raise PeriodError(_l("The period must end on or after the day it starts."))
    period = canonical(start, end)
    if period is None:
        raise PeriodError(
            _l(
                "A target period is a calendar month (1st to last day), quarter or year; "
                "%(start)s to %(end)s is none of these.",
                start=start.isoformat(),
                end=end.isoformat(),
            )
        )
    return period


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(text: str | None, today: date | None = None, default_kind="month") -> Period:
    """``2026-03`` (month), ``2026-Q1`` (quarter), ``2026`` (year); empty: the current
    ``default_kind`` period of ``today``."""
    text = (text or "").strip()
    if not text:
        if today is None:
            raise PeriodError()
        return period_of(default_kind, today)
    try:
        if match := _MONTH.match(text):
            return month_of(date(int(match.group(1)), int(match.group(2)), 1))
        if match := _QUARTER.match(text):
            return quarter_of(date(int(match.group(1)), (int(match.group(2)) - 1) * 3 + 1, 1))
        if match := _YEAR.match(text):
            return year_of(date(int(match.group(1)), 1, 1))
    except ValueError as error:
        raise PeriodError() from error
    raise PeriodError()


def months_overlapping(start: date, end: date) -> Iterator[Period]:
    """The calendar months that share at least one day with [start, end]."""
    month = month_of(start)
    while month.start <= end:
        yield month
        month = month.next()
