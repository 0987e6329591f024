"""Every KPI against the hand-computed worked example of docs/kpis.md (tests/dashboard/
example.py), for the whole company and one department, and the empty ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from recovery.dashboard import kpis
from tests.dashboard.example import FIGURES, MARCH, SALES_ONE_FIGURES, build_example

D = date


def test_the_worked_example_for_the_whole_company(build):
    build_example(build)
    figures = kpis.compute(MARCH[1], date_from=MARCH[0])
    assert list(figures) == list(kpis.KEYS)
    assert figures == FIGURES


def test_the_worked_example_for_one_department(build):
    docs = build_example(build)
    figures = kpis.compute(MARCH[1], date_from=MARCH[0], department_id=docs["one"].id)
    assert figures == SALES_ONE_FIGURES
    # The parent department is the whole tree: the same as the company here.
    assert kpis.compute(MARCH[1], date_from=MARCH[0], department_id=docs["company"].id) == FIGURES


def test_the_count_back_walks_three_months(build):
    build_example(build)
    report = kpis.report(MARCH[1], date_from=MARCH[0])
    steps = [
        (s.period.start, s.period.days, s.period.sales, s.receivables_left, s.days_counted)
        for s in report.dso_steps
    ]
    assert steps[:2] == [
        (D(2026, 3, 1), 31, Decimal("35000.00"), Decimal("100000.00"), Decimal(31)),
        (D(2026, 2, 1), 28, Decimal("55000.00"), Decimal("65000.00"), Decimal(28)),
    ]
    assert steps[2][:4] == (D(2026, 1, 1), 31, Decimal("60000.00"), Decimal("10000.00"))
    assert steps[2][4].quantize(Decimal("0.0001")) == Decimal("5.1667")  # 31 × 10,000 / 60,000
    assert len(steps) == 3
    assert report.beginning == Decimal("115000.00")
    assert report.sales == Decimal("35000.00")
    assert report.best_dso == Decimal("26.57")  # 30,000 × 31 / 35,000


def test_mid_month_as_of_counts_the_month_to_date(build):
    build_example(build)
    # As of 2026-03-12: A1 60,000 − 35,000 = 25,000, A2 45,000, B1 10,000, B2 5,000 = 85,000;
    # March to date: B2 5,000 (12 days), February 55,000 (28), January: 25,000 of 60,000.
    figures = kpis.compute(D(2026, 3, 12), date_from=D(2026, 3, 1))
    assert figures["receivables"] == Decimal("85000.00")
    expected = Decimal(12) + Decimal(28) + Decimal(31) * Decimal(25000) / Decimal(60000)
    assert figures["dso"] == expected.quantize(Decimal("0.01"))


def test_an_empty_ledger_gives_dashes_with_reasons_not_errors(app):
    with app.app_context():
        report = kpis.report(D(2026, 3, 31), date_from=D(2026, 3, 1))
    figures = report.figures
    assert figures["receivables"] == figures["overdue"] == figures["recovered"] == Decimal("0.00")
    for key in (
        "overdue_ratio",
        "dso",
        "cei",
        "add",
        "collection_rate",
        "avg_days_to_pay",
        "avg_days_late",
        "target",
        "completion",
    ):
        assert figures[key] is None, key
        assert str(report.reasons[key])


def test_no_target_means_no_completion(build):
    build_example(build, targets=False)
    report = kpis.report(MARCH[1], date_from=MARCH[0])
    assert report.figures["target"] is None and report.figures["completion"] is None
    assert str(report.reasons["target"]) == str(kpis.REASONS["target"])


def test_a_period_that_starts_after_it_ends_is_refused(app):
    with app.app_context(), pytest.raises(kpis.KpiError):
        kpis.report(D(2026, 3, 1), date_from=D(2026, 3, 2))


def test_recoveries_against_the_month_quarter_and_year_targets(build):
    build_example(build)
    board = kpis.dashboard(MARCH[1], date_from=MARCH[0])
    rows = {row.label: row for row in board.targets}
    assert rows["month"].recovered == Decimal("50000.00")
    assert rows["month"].target == Decimal("60000.00")
    assert rows["month"].completion == Decimal("0.8333")
    # The quarter has only March's targets: the months without one count zero.
    assert rows["quarter"].target == Decimal("60000.00")
    assert rows["year"].recovered == Decimal("50000.00")
