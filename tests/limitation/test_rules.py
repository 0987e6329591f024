"""The limitation rule, computed by hand (pure: no database). Calendar facts used here, from
the State Council's holiday notices: National Day 2024 is 1–7 October with 29 September and
12 October (Saturday) worked; Spring Festival 2024 is 10–17 February with 4 and 18 February
(Sundays) worked; the package knows the notices up to 2026, so 2027 is weekends only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from recovery.core.workdays import calendar_known
from recovery.limitation import rules
from recovery.limitation.rules import (
    Event,
    Suspension,
    add_months,
    add_years,
    earliest_possible_start,
    expiry,
)

LATE = date(2030, 1, 1)  # an as-of date after everything below


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 8, 31), -6, date(2024, 2, 29)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2023, 3, 31), -1, date(2023, 2, 28)),
        (date(2024, 1, 15), 12, date(2025, 1, 15)),
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
    ],
)
def test_months_end_on_the_same_day_or_the_months_last(day, months, expected):
    assert add_months(day, months) == expected


def test_years_from_29_february():
    assert add_years(date(2020, 2, 29), 3) == date(2023, 2, 28)
    assert add_years(date(2020, 2, 29), 4) == date(2024, 2, 29)


def test_three_years_from_the_day_after_the_due_date_on_a_working_day():
    # Due Monday 15 March 2021: runs from the 16th, ends Friday 15 March 2024.
    result = expiry(date(2021, 3, 15), LATE)
    assert result.runs_from == date(2021, 3, 15)
    assert result.three_years_end == result.expires_on == date(2024, 3, 15)
    assert not result.moved and result.calendar_known and result.last_interruption is None


def test_29_february_due_date_ends_on_28_february():
    # 28 February 2023 is a Tuesday, a working day: it stays.
    result = expiry(date(2020, 2, 29), LATE)
    assert result.expires_on == date(2023, 2, 28) and not result.moved


def test_29_february_beyond_the_known_calendar_counts_weekends_only():
    # Due 29 February 2024 → 28 February 2027, a Sunday, in a year whose holidays are not
    # published yet: the next weekday, Monday 1 March, and the result says so.
    assert not calendar_known(2027)
    result = expiry(date(2024, 2, 29), LATE)
    assert result.three_years_end == date(2027, 2, 28)
    assert result.expires_on == date(2027, 3, 1)
    assert result.moved and not result.calendar_known


def test_a_last_day_in_the_national_day_holidays_moves_to_the_next_working_day():
    result = expiry(date(2021, 10, 3), LATE)
    assert result.natural_end == date(2024, 10, 3)
    assert result.expires_on == date(2024, 10, 8) and result.moved


def test_a_last_day_in_the_spring_festival_moves_to_the_make_up_sunday():
    # 12 February 2024 is a holiday; the next working day is Sunday 18 February (worked).
    result = expiry(date(2021, 2, 12), LATE)
    assert result.expires_on == date(2024, 2, 18)
    assert result.expires_on.weekday() == 6


def test_a_last_day_on_a_make_up_working_day_stays():
    # Saturday 12 October 2024 was a working day.
    result = expiry(date(2021, 10, 12), LATE)
    assert result.expires_on == date(2024, 10, 12) and not result.moved


def test_the_latest_interruption_restarts_the_full_period():
    events = [
        Event(date(2021, 5, 6), "payment"),
        Event(date(2022, 8, 1), "demand"),
        Event(date(2022, 3, 1), "promise"),
    ]
    result = expiry(date(2020, 1, 10), date(2025, 6, 30), events)
    assert result.last_interruption == Event(date(2022, 8, 1), "demand")
    assert result.runs_from == date(2022, 8, 1)
    # Friday 1 August 2025.
    assert result.expires_on == date(2025, 8, 1)


def test_interruptions_after_the_as_of_date_or_not_after_the_due_date_do_not_count():
    events = [Event(date(2020, 1, 10), "acknowledgement"), Event(date(2023, 1, 5), "payment")]
    result = expiry(date(2020, 1, 10), date(2022, 12, 31), events)
    assert result.last_interruption is None
    assert result.expires_on == date(2023, 1, 10)


def test_on_one_day_the_strongest_kind_is_reported():
    day = date(2022, 4, 6)
    events = [Event(day, "demand"), Event(day, "payment"), Event(day, "acknowledgement")]
    assert expiry(date(2021, 1, 4), LATE, events).last_interruption.kind == "payment"
    events.append(Event(day, "suit"))
    assert expiry(date(2021, 1, 4), LATE, events).last_interruption.kind == "suit"


def test_an_obstacle_in_the_last_six_months_ends_the_period_six_months_after_it_is_gone():
    # Due 30 June 2021: three years end Sunday 30 June 2024; the last six months start after
    # 30 December 2023. An obstacle from 1 March to 15 April 2024: ends Tuesday 15 October.
    obstacle = Suspension(date(2024, 3, 1), date(2024, 4, 15))
    result = expiry(date(2021, 6, 30), LATE, suspensions=[obstacle])
    assert result.three_years_end == date(2024, 6, 30)
    assert result.natural_end == result.expires_on == date(2024, 10, 15)
    assert result.suspension == obstacle and not result.suspension_lasting


def test_an_obstacle_gone_before_the_last_six_months_changes_nothing():
    earlier = Suspension(date(2023, 1, 1), date(2023, 6, 1))
    result = expiry(date(2021, 6, 30), LATE, suspensions=[earlier])
    assert result.suspension is None
    # Sunday 30 June 2024 → Monday 1 July.
    assert result.expires_on == date(2024, 7, 1)


def test_an_obstacle_that_lasts_holds_the_end_six_months_after_the_as_of_date():
    lasting = Suspension(date(2024, 3, 1), None)
    result = expiry(date(2021, 6, 30), date(2024, 5, 1), suspensions=[lasting])
    assert result.suspension_lasting and result.expires_on == date(2024, 11, 1)
    # Known on 1 May that it ended on 10 April (an end after the as-of date is not known).
    ended = Suspension(date(2024, 3, 1), date(2024, 4, 10))
    assert expiry(date(2021, 6, 30), date(2024, 5, 1), suspensions=[ended]).expires_on == date(
        2024, 10, 10
    )
    assert expiry(date(2021, 6, 30), date(2024, 4, 1), suspensions=[ended]).suspension_lasting


def test_an_obstacle_after_the_period_ended_is_too_late():
    late = Suspension(date(2024, 7, 2), date(2024, 8, 1))
    assert expiry(date(2021, 6, 30), LATE, suspensions=[late]).expires_on == date(2024, 7, 1)


def test_the_pre_bound_never_leaves_out_a_period_ending_in_the_window():
    # Every start day after the bound ends after the window (the SQL pre-filter is safe), and
    # the bound is tight to a day or two.
    as_of = date(2024, 1, 1)
    for offset in range(0, 1500, 7):
        for within in (0, 30, 59, 60, 90, 180, 365):
            day = as_of + timedelta(days=offset)
            bound = earliest_possible_start(day, within)
            limit = day + timedelta(days=within)
            assert add_years(bound + timedelta(days=1), 3) > limit
            assert add_years(bound - timedelta(days=2), 3) <= limit


def test_proceedings_pending_stop_the_period():
    suit = rules.Proceedings(filed_on=date(2023, 10, 9))
    e = rules.expiry(date(2021, 3, 15), date(2025, 6, 30), [], [], suit)
    assert (e.running, e.period, e.expires_on, e.days_left(date(2025, 6, 30))) == (
        False,
        rules.SUIT_PENDING,
        None,
        None,
    )
    assert e.last_interruption == rules.Event(date(2023, 10, 9), "suit")
    # Not filed yet as of the date: the ordinary three years.
    before = rules.expiry(date(2021, 3, 15), date(2023, 10, 8), [], [], suit)
    assert (before.period, before.expires_on) == (rules.LIMITATION, date(2024, 3, 15))


def test_a_judgment_without_a_performance_period_runs_two_years_from_taking_effect():
    """Effective Tuesday 29 February 2028 (a leap day): two years end on 28 February 2030
    (art. 202's month end), a Thursday."""
    suit = rules.Proceedings(filed_on=date(2027, 6, 1), judgment_effective_on=date(2028, 2, 29))
    e = rules.expiry(date(2027, 1, 4), date(2028, 3, 1), [], [], suit)
    assert (e.period, e.runs_from, e.three_years_end, e.natural_end) == (
        rules.ENFORCEMENT,
        date(2028, 2, 29),
        date(2030, 2, 28),
        date(2030, 2, 28),
    )
    assert e.period_years == 2


def test_enforcement_applied_for_stops_every_period():
    suit = rules.Proceedings(
        filed_on=date(2023, 6, 1),
        judgment_effective_on=date(2023, 9, 1),
        performance_deadline=date(2023, 9, 15),
        enforcement_on=date(2024, 1, 10),
        closed_on=date(2024, 12, 1),
    )
    e = rules.expiry(
        date(2023, 1, 2), date(2025, 6, 30), [rules.Event(date(2025, 1, 5), "promise")], [], suit
    )
    assert (e.running, e.period) == (False, rules.ENFORCING)


def test_a_suspension_in_the_last_six_months_of_the_two_years():
    """Deadline 2023-09-15 → two years end 2025-09-15; an obstacle from 2025-05-01 gone on
    2025-06-10: the period ends six months later, 2025-12-10 (a Wednesday)."""
    suit = rules.Proceedings(
        filed_on=date(2023, 6, 1),
        judgment_effective_on=date(2023, 9, 1),
        performance_deadline=date(2023, 9, 15),
    )
    e = rules.expiry(
        date(2023, 1, 2),
        date(2025, 6, 30),
        [],
        [rules.Suspension(date(2025, 5, 1), date(2025, 6, 10))],
        suit,
    )
    assert (e.three_years_end, e.expires_on) == (date(2025, 9, 15), date(2025, 12, 10))
