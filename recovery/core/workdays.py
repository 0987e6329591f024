"""Working days under the official Chinese calendar (国务院办公厅 holiday notices).

A working day is a weekday that is not a statutory holiday or a day given in lieu, plus the
weekend days declared make-up working days (调休上班). Weekday arithmetic cannot know these,
so the calendar comes from the ``chinesecalendar`` package. Beyond the years that package
knows (notices are published a year ahead at most), only weekends are days off and
``calendar_known(year)`` is False, so that a page can say its dates are provisional.

Conventions (used by the service levels and the limitation rule alike):

- ``add_working_days(d, n)``: the n-th working day after ``d`` (``d`` itself never counts);
  ``n == 0`` gives ``d``; a negative ``n`` counts backwards.
- ``working_days_between(a, b)``: the working days in (a, b] — after ``a``, up to and
  including ``b`` (negative when ``b`` is before ``a``), so that
  ``working_days_between(d, add_working_days(d, n)) == n``.
- ``next_working_day(d)``: the first working day after ``d``;
  ``working_day_on_or_after(d)``: ``d`` itself when it is a working day, else the next one.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from chinese_calendar import constants

ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=1)
def _known_years() -> tuple[int, int]:
    """The first and last year the installed calendar has the official notices for."""
    years = {day.year for day in constants.holidays} | {day.year for day in constants.workdays}
    return min(years), max(years)


def calendar_known(year: int) -> bool:
    """Whether the official holidays and make-up days of ``year`` are known here."""
    first, last = _known_years()
    return first <= year <= last


@lru_cache(maxsize=8192)
def is_working_day(day: date) -> bool:
    if calendar_known(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def next_working_day(day: date) -> date:
    day += ONE_DAY
    while not is_working_day(day):
        day += ONE_DAY
    return day


def previous_working_day(day: date) -> date:
    day -= ONE_DAY
    while not is_working_day(day):
        day -= ONE_DAY
    return day


def working_day_on_or_after(day: date) -> date:
    return day if is_working_day(day) else next_working_day(day)


def add_working_days(day: date, count: int) -> date:
    step = next_working_day if count >= 0 else previous_working_day
    for _ in range(abs(count)):
        day = step(day)
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_working_day(day):
            count += 1
    return count
