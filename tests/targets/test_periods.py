"""Target periods are calendar months, quarters and years: canonical boundaries only."""

from __future__ import annotations

from datetime import date

import pytest

from recovery.targets.periods import (
    Period,
    PeriodError,
    canonical,
    months_overlapping,
    parse_period,
    require_canonical,
)


def test_parse_the_three_kinds():
    assert parse_period("2026-03") == Period("month", date(2026, 3, 1), date(2026, 3, 31))
    assert parse_period("2024-02").end == date(2024, 2, 29)
    assert parse_period("2026-Q1") == Period("quarter", date(2026, 1, 1), date(2026, 3, 31))
    assert parse_period("2026q4") == Period("quarter", date(2026, 10, 1), date(2026, 12, 31))
    assert parse_period("2026") == Period("year", date(2026, 1, 1), date(2026, 12, 31))
    assert parse_period("", date(2026, 5, 17)).label == "2026-05"
    assert parse_period("", date(2026, 5, 17), "quarter").label == "2026-Q2"
    for text in ("2026-13", "2026-Q5", "26", "March", "2026-03-01"):
        with pytest.raises(PeriodError):
            parse_period(text)


def test_labels_and_neighbours():
    march = parse_period("2026-03")
    assert (march.label, march.previous().label, march.next().label) == (
        "2026-03",
        "2026-02",
        "2026-04",
    )
    assert parse_period("2026-Q1").previous().label == "2025-Q4"
    assert parse_period("2026").next().label == "2027"
    assert march.days == 31


def test_canonical_boundaries():
    assert canonical(date(2026, 2, 1), date(2026, 2, 28)).kind == "month"
    assert canonical(date(2026, 4, 1), date(2026, 6, 30)).kind == "quarter"
    assert canonical(date(2026, 1, 1), date(2026, 12, 31)).kind == "year"
    # Not canonical: a month that does not start on the 1st or end on its last day, a
    # "quarter" that starts in February, two months.
    assert canonical(date(2026, 2, 2), date(2026, 2, 28)) is None
    assert canonical(date(2026, 2, 1), date(2026, 2, 27)) is None
    assert canonical(date(2026, 2, 1), date(2026, 4, 30)) is None
    assert canonical(date(2026, 1, 1), date(2026, 2, 28)) is None
    with pytest.raises(PeriodError, match="calendar month"):
        require_canonical(date(2026, 1, 15), date(2026, 2, 14))
    with pytest.raises(PeriodError, match="on or after"):
        require_canonical(date(2026, 2, 1), date(2026, 1, 31))


def test_months_overlapping_a_period():
    months = [m.label for m in months_overlapping(date(2025, 12, 15), date(2026, 2, 1))]
    assert months == ["2025-12", "2026-01", "2026-02"]
