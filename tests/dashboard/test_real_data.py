"""Average days to pay and days late against the real data set's own columns: the 2,466
invoices of ../shared/data/ar_late_payments.csv (DaysToSettle, DaysLate), loaded with the
ledger's loader. For every period, the dashboard's averages over the items paid off in it
equal the mean of the file's columns over the invoices it says were settled in it."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from recovery.dashboard import kpis, queries, rules
from recovery.demo.ar_late_payments import DEFAULT_PATH

pytestmark = pytest.mark.skipif(
    not DEFAULT_PATH.is_file(), reason=f"the data set is not at {DEFAULT_PATH}"
)
D = date


def us_date(text):
    return datetime.strptime(text, "%m/%d/%Y").date()


def expected(rows, start, end):
    chosen = [r for r in rows if start <= us_date(r["SettledDate"]) <= end]
    if not chosen:
        return 0, None, None

    def mean(column):
        total = sum(int(r[column]) for r in chosen)
        return (Decimal(total) / len(chosen)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    return len(chosen), mean("DaysToSettle"), mean("DaysLate")


def test_days_to_pay_and_days_late_match_the_file(app, runner):
    result = runner.invoke(args=["demo", "load", "--from", "ar-late-payments"])
    assert result.exit_code == 0, result.output
    with open(DEFAULT_PATH, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    periods = [(D(2012, 1, 1), D(2014, 1, 31)), (D(2013, 1, 1), D(2013, 12, 31))]
    periods += [
        (rules.month_start(m), m) for m in rules.month_ends_between(D(2012, 1, 1), D(2014, 1, 31))
    ]
    periods += [(D(2013, 2, 10), D(2013, 5, 3))]  # any period, not only whole months
    with app.app_context():
        for start, end in periods:
            count, to_pay, late = expected(rows, start, end)
            figures = kpis.compute(end, date_from=start)
            settled = queries.settled_between(start, end)
            assert settled.count == count, (start, end)
            assert (figures["avg_days_to_pay"], figures["avg_days_late"]) == (to_pay, late), (
                start,
                end,
            )
        # The whole file: every invoice was settled.
        assert queries.settled_between(D(2012, 1, 1), D(2014, 1, 31)).count == 2466
