"""The KPI formulas of docs/kpis.md as pure functions: exact Decimal, no Flask, no database.

Each function returns None where the formula is undefined (a division by zero: no sales, no
receivables); the caller shows "—" with the reason (``reasons`` below), never a made-up number.
The worked examples of docs/kpis.md are tests/dashboard/test_rules.py.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

RATIO_PLACES = Decimal("0.0001")  # ratios: overdue ratio, collection rate, completion
DAYS_PLACES = Decimal("0.01")  # DSO, ADD, average days
INDEX_PLACES = Decimal("0.01")  # CEI (a percentage)


def half_up(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------
# Calendar


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_month_end(day: date) -> bool:
    return day == month_end(day)


def previous_month_end(day: date) -> date:
    """The last day of the month before ``day``'s month."""
    return month_start(day) - timedelta(days=1)


def months_back(day: date, count: int) -> date:
    """The month-end ``count`` months before ``day``'s month (0: ``day``'s own month-end)."""
    year, month = day.year, day.month - count
    while month < 1:
        month += 12
        year -= 1
    return month_end(date(year, month, 1))


def month_ends_between(first: date, last: date) -> list[date]:
    """Every month-end M with first <= M <= last, oldest first."""
    result = []
    current = month_end(first)
    while current <= last:
        result.append(current)
        current = month_end(current + timedelta(days=1))
    return result


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: date) -> date:
    return months_back(quarter_start(day), -2)


def year_start(day: date) -> date:
    return date(day.year, 1, 1)


def year_end(day: date) -> date:
    return date(day.year, 12, 31)


def days_in(start: date, end: date) -> int:
    """Days of the period start..end, both included."""
    return (end - start).days + 1


# ---------------------------------------------------------------------------------------------
# Ratios


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole to four decimals (0.2500 for 25 %); None when whole is zero."""
    if not whole:
        return None
    return half_up(Decimal(part) / Decimal(whole), RATIO_PLACES)


# ---------------------------------------------------------------------------------------------
# DSO by the count-back method


@dataclass(frozen=True)
class SalesPeriod:
    """A period of the count-back, newest first: its days and the sales recognised in it."""

    start: date
    end: date
    sales: Decimal

    @property
    def days(self) -> int:
        return days_in(self.start, self.end)


@dataclass(frozen=True)
class CountBackStep:
    period: SalesPeriod
    receivables_left: Decimal  # before this period is counted
    days_counted: Decimal


def count_back_periods(as_of: date, sales_between, earliest: date):
    """The periods of the count-back as of ``as_of``, newest first: the month to date (1st
    of the month .. as_of), then whole calendar months back to the month of ``earliest``.

    A generator: ``sales_between(start, end) -> Decimal`` is asked for one period at a time,
    only as far back as the count-back needs."""
    yield SalesPeriod(month_start(as_of), as_of, sales_between(month_start(as_of), as_of))
    end = previous_month_end(as_of)
    while end >= earliest:
        yield SalesPeriod(month_start(end), end, sales_between(month_start(end), end))
        end = previous_month_end(end)


def count_back_dso(receivables: Decimal, periods) -> tuple[Decimal | None, list[CountBackStep]]:
    """Days sales outstanding by the count-back method.

    Walk back from the newest period: while the receivables left exceed the period's sales,
    count all its days and take its sales off; in the period where they no longer do, count
    the fraction receivables left / sales of its days, and stop. Exact until the end, then
    rounded to 0.01 day. Zero receivables: 0 days. None when the periods run out first
    (the receivables exceed every sale given).

    ``periods`` is an iterable of SalesPeriod, newest first (it may be a generator that reads
    one more month from the database each time it is asked).
    """
    left = Decimal(receivables)
    total = Decimal(0)
    steps: list[CountBackStep] = []
    if left <= 0:
        return Decimal("0.00"), steps
    for period in periods:
        if left > period.sales:
            counted = Decimal(period.days)
            steps.append(CountBackStep(period, left, counted))
            total += counted
            left -= period.sales
            continue
        counted = Decimal(period.days) * left / period.sales
        steps.append(CountBackStep(period, left, counted))
        total += counted
        return half_up(total, DAYS_PLACES), steps
    return None, steps


# ---------------------------------------------------------------------------------------------
# CEI, best possible DSO, ADD, collection rate, completion


def cei(
    beginning: Decimal, sales: Decimal, ending_total: Decimal, ending_current: Decimal
) -> Decimal | None:
    """Collection effectiveness index, in percent (Credit Research Foundation):

    (beginning receivables + sales − ending total receivables)
    / (beginning receivables + sales − ending current receivables) × 100

    None when the denominator is zero (nothing was collectable: everything open is current).
    """
    denominator = beginning + sales - ending_current
    if not denominator:
        return None
    return half_up((beginning + sales - ending_total) * 100 / denominator, INDEX_PLACES)


def best_possible_dso(current: Decimal, sales: Decimal, days: int) -> Decimal | None:
    """Current (not yet due) receivables / sales of the period × its days; None without sales."""
    if not sales:
        return None
    return half_up(Decimal(current) * days / Decimal(sales), DAYS_PLACES)


def average_days_delinquent(dso: Decimal | None, best: Decimal | None) -> Decimal | None:
    """ADD = DSO − best possible DSO (None when either is undefined)."""
    if dso is None or best is None:
        return None
    return half_up(dso - best, DAYS_PLACES)


def collection_rate(recovered: Decimal, beginning: Decimal, sales: Decimal) -> Decimal | None:
    """回款率 = recovered in the period / (receivables at its start + sales in it)."""
    return ratio(recovered, beginning + sales)


def average(total: int | Decimal, count: int) -> Decimal | None:
    """total / count to 0.01; None for no values."""
    if not count:
        return None
    return half_up(Decimal(total) / count, DAYS_PLACES)
