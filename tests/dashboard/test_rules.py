"""The formulas of docs/kpis.md, pure: the worked examples' numbers, and the edge cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from recovery.dashboard import rules

D = date


def months(*sales):
    """Count-back periods newest first: March 2026 (31 days), February (28), January (31)."""
    spans = [
        (D(2026, 3, 1), D(2026, 3, 31)),
        (D(2026, 2, 1), D(2026, 2, 28)),
        (D(2026, 1, 1), D(2026, 1, 31)),
    ]
    return [rules.SalesPeriod(s, e, Decimal(v)) for (s, e), v in zip(spans, sales, strict=False)]


def test_count_back_three_months():
    dso, steps = rules.count_back_dso(Decimal("100000"), months("35000", "55000", "60000"))
    # 31 + 28 + 31 × 10,000 / 60,000 = 64.1666… → 64.17
    assert dso == Decimal("64.17")
    assert [s.days_counted for s in steps][:2] == [Decimal(31), Decimal(28)]


def test_count_back_department_example():
    dso, _steps = rules.count_back_dso(Decimal("100000"), months("30000", "45000", "60000"))
    assert dso == Decimal("71.92")  # 31 + 28 + 31 × 25,000 / 60,000


def test_count_back_stops_in_the_first_period_and_handles_zero():
    assert rules.count_back_dso(Decimal("15500"), months("31000"))[0] == Decimal("15.50")
    assert rules.count_back_dso(Decimal("0"), months("31000"))[0] == Decimal("0.00")
    # A month without sales counts all its days.
    assert rules.count_back_dso(Decimal("100"), months("0", "100"))[0] == Decimal("59.00")
    # Receivables above every sale given: no answer rather than a wrong one.
    assert rules.count_back_dso(Decimal("100"), months("10"))[0] is None


def test_count_back_periods_start_with_the_month_to_date():
    asked = []

    def sales(start, end):
        asked.append((start, end))
        return Decimal(1)

    periods = rules.count_back_periods(D(2026, 3, 12), sales, D(2026, 1, 20))
    assert [(p.start, p.end, p.days) for p in periods] == [
        (D(2026, 3, 1), D(2026, 3, 12), 12),
        (D(2026, 2, 1), D(2026, 2, 28), 28),
        (D(2026, 1, 1), D(2026, 1, 31), 31),
    ]
    assert len(asked) == 3


def test_cei_example_and_zero_denominator():
    assert rules.cei(Decimal(115000), Decimal(35000), Decimal(100000), Decimal(30000)) == Decimal(
        "41.67"
    )
    assert rules.cei(Decimal(105000), Decimal(30000), Decimal(100000), Decimal(30000)) == Decimal(
        "33.33"
    )
    assert rules.cei(Decimal(0), Decimal(100), Decimal(100), Decimal(100)) is None


def test_best_possible_dso_and_add():
    best = rules.best_possible_dso(Decimal(30000), Decimal(35000), 31)
    assert best == Decimal("26.57")
    assert rules.average_days_delinquent(Decimal("64.17"), best) == Decimal("37.60")
    assert rules.best_possible_dso(Decimal(30000), Decimal(0), 31) is None
    assert rules.average_days_delinquent(None, best) is None


def test_collection_rate_and_ratios():
    assert rules.collection_rate(Decimal(50000), Decimal(115000), Decimal(35000)) == Decimal(
        "0.3333"
    )
    assert rules.collection_rate(Decimal(10), Decimal(0), Decimal(0)) is None
    assert rules.ratio(Decimal(70000), Decimal(100000)) == Decimal("0.7000")
    assert rules.ratio(Decimal(1), Decimal(3)) == Decimal("0.3333")
    assert rules.ratio(Decimal(2), Decimal(3)) == Decimal("0.6667")  # half up
    assert rules.ratio(Decimal(1), Decimal(0)) is None


def test_averages():
    assert rules.average(60, 2) == Decimal("30.00")
    assert rules.average(10, 3) == Decimal("3.33")
    assert rules.average(0, 0) is None


def test_calendar():
    assert rules.month_end(D(2024, 2, 10)) == D(2024, 2, 29)
    assert rules.months_back(D(2026, 3, 12), 11) == D(2025, 4, 30)
    assert rules.months_back(D(2026, 1, 31), 1) == D(2025, 12, 31)
    assert rules.month_ends_between(D(2025, 11, 15), D(2026, 2, 27)) == [
        D(2025, 11, 30),
        D(2025, 12, 31),
        D(2026, 1, 31),
    ]
    assert rules.quarter_start(D(2026, 5, 5)) == D(2026, 4, 1)
    assert rules.quarter_end(D(2026, 5, 5)) == D(2026, 6, 30)
