"""The official working-day calendar: holidays, days in lieu and make-up working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from recovery.core.workdays import (
    add_working_days,
    calendar_known,
    is_working_day,
    next_working_day,
    working_day_on_or_after,
    working_days_between,
)

D = date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2024, 10, 1), False),  # National Day, a Tuesday
        (D(2024, 10, 7), False),  # a Monday given in lieu
        (D(2024, 9, 29), True),  # Sunday, make-up working day
        (D(2024, 10, 12), True),  # Saturday, make-up working day
        (D(2024, 10, 13), False),  # an ordinary Sunday
        (D(2025, 1, 26), True),  # Sunday before the Spring Festival, make-up day
        (D(2025, 1, 28), False),  # Spring Festival eve, a Tuesday
        (D(2025, 2, 8), True),  # Saturday, make-up working day
        (D(2025, 9, 28), True),  # Sunday, make-up day for National Day
        (D(2025, 10, 6), False),  # Mid-autumn Festival, a Monday
        (D(2025, 10, 8), False),  # Wednesday, last day of the 2025 National Day holiday
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday, make-up working day
        (D(2026, 1, 1), False),  # New Year's Day, a Thursday
        (D(2026, 1, 4), True),  # Sunday, make-up working day
        (D(2026, 2, 14), True),  # Saturday, make-up day before the Spring Festival
        (D(2026, 2, 16), False),  # Spring Festival (Monday)
        (D(2026, 2, 23), False),  # last day of the nine-day Spring Festival holiday
        (D(2026, 2, 28), True),  # Saturday, make-up working day
        (D(2026, 3, 2), True),  # an ordinary Monday
    ],
)
def test_official_calendar(day, working):
    assert is_working_day(day) is working


def test_beyond_the_known_years_only_weekends_are_off():
    assert calendar_known(2024) and calendar_known(2025) and calendar_known(2026)
    assert not calendar_known(2099)
    assert not calendar_known(1990)
    # 2099-01-01 is a Thursday: a working day when nothing is known about that year.
    assert is_working_day(D(2099, 1, 1))
    assert not is_working_day(D(2099, 1, 3))  # Saturday
    assert next_working_day(D(2099, 1, 2)) == D(2099, 1, 5)


def test_next_working_day_skips_holidays_and_stops_on_make_up_days():
    assert next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert next_working_day(D(2025, 10, 9)) == D(2025, 10, 10)
    assert next_working_day(D(2025, 10, 10)) == D(2025, 10, 11)  # the make-up Saturday
    assert next_working_day(D(2026, 2, 13)) == D(2026, 2, 14)
    assert next_working_day(D(2026, 2, 14)) == D(2026, 2, 24)
    assert working_day_on_or_after(D(2026, 2, 20)) == D(2026, 2, 24)
    assert working_day_on_or_after(D(2026, 2, 24)) == D(2026, 2, 24)


def test_add_working_days():
    assert add_working_days(D(2025, 9, 30), 0) == D(2025, 9, 30)
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert add_working_days(D(2025, 9, 30), 4) == D(2025, 10, 13)
    # From a Saturday: Monday is the first working day after it.
    assert add_working_days(D(2026, 3, 7), 1) == D(2026, 3, 9)
    assert add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert add_working_days(D(2026, 2, 24), -2) == D(2026, 2, 13)


def test_working_days_between():
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 8)) == 0
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 11)) == 3
    assert working_days_between(D(2025, 10, 11), D(2025, 9, 30)) == -3
    assert working_days_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    # February 2026: weeks of the 2nd and 9th (5 + 5), the 24th–27th (4) and the make-up
    # Saturdays 14th and 28th; the 16th–23rd are the Spring Festival holiday.
    assert working_days_between(D(2026, 1, 31), D(2026, 2, 28)) == 5 + 5 + 4 + 2


def test_between_and_add_agree_over_three_years():
    start = D(2024, 1, 1)
    for offset in range(0, 3 * 366, 7):
        day = start + timedelta(days=offset)
        for count in (0, 1, 2, 5, 23):
            assert working_days_between(day, add_working_days(day, count)) == count
