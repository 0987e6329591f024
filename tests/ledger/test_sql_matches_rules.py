"""The SQL aggregates of recovery/ledger/queries.py equal what the pure rules of
recovery/ledger/rules.py compute from the same documents (allocate -> outstanding,
due_bucket / age_bucket, overdue_interest), on random ledgers and random as-of dates (before
anything is recognised, on due dates and the day after, leap days), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.ledger import queries, rules
from recovery.reports.interest import interest_settings
from tests.ledger.test_properties import (
    AMOUNTS,
    DAYS,
    DUE_BOUNDARIES,
    LEDGER_SETTINGS,
    ItemSpec,
    LedgerSpec,
    ReceiptSpec,
    RuleModel,
    aging_in_fen,
    as_of_dates,
    enter_ledger,
    ledgers,
    rolled_back,
)


@LEDGER_SETTINGS
@given(spec=ledgers(), data=st.data())
def test_aging_in_sql_equals_the_rules(app, spec, data):
    with rolled_back(app):
        model = RuleModel(enter_ledger(spec))
        for as_of in data.draw(as_of_dates(spec)):
            for basis in ("due", "age"):
                for by in queries.DIMENSIONS:
                    rows = queries.aging(as_of, by=by, basis=basis)
                    expected = model.aging(as_of, by, basis)
                    assert aging_in_fen(rows) == expected, (as_of, by, basis)
                    assert [r.key for r in rows] == sorted(expected)


@LEDGER_SETTINGS
@given(
    spec=ledgers(),
    data=st.data(),
    default_rate=st.sampled_from((Decimal("4.65"), Decimal("0"), Decimal("18.25"))),
    day_count=st.sampled_from((365, 360)),
)
def test_interest_in_sql_equals_the_rules(app, spec, data, default_rate, day_count):
    with rolled_back(app):
        model = RuleModel(enter_ledger(spec))
        for as_of in data.draw(as_of_dates(spec)):
            rows = list(queries.interest_rows(as_of, default_rate, day_count))
            assert {row["document_no"]: row for row in rows} == model.interest(
                as_of, default_rate, day_count
            ), as_of
            assert len(rows) == len({row["document_no"] for row in rows})


def test_interest_settings_defaults(app):
    with app.app_context():
        assert interest_settings() == (Decimal("4.65"), 365)


def test_a_leap_day_ledger_by_hand(app):
    """One fixed case through the same comparison, for a readable failure: an item of
    29 Feb 2024, due 29 Mar 2024, half paid on 1 Mar 2025, as of 28 Feb and 1 Mar 2025."""
    spec = LedgerSpec(
        codes=["ACME"],
        contracts=[None],
        items=[
            ItemSpec(
                0, "INV-1", 100_000, date(2024, 2, 29), date(2024, 3, 29), 0, 0, 0, None, False
            )
        ],
        receipts=[ReceiptSpec(0, "R-1", 50_000, date(2025, 3, 1), None)],
        credits=[],
        order=[("receipt", 0), ("item", 0)],
    )
    with rolled_back(app):
        model = RuleModel(enter_ledger(spec))
        for as_of in (date(2025, 2, 28), date(2025, 3, 1)):
            for by in queries.DIMENSIONS:
                for basis in ("due", "age"):
                    rows = aging_in_fen(queries.aging(as_of, by=by, basis=basis))
                    assert rows == model.aging(as_of, by, basis)
        before, after = (
            aging_in_fen(queries.aging(day, basis="age"))["ACME"][1]
            for day in (date(2025, 2, 28), date(2025, 3, 1))
        )
        assert before["y0_1"] == 100_000 and before["y1_2"] == 0
        assert after["y1_2"] == 50_000 and after["y0_1"] == 0


# ---------------------------------------------------------------------------------------------
# Every bucket boundary, on both bases, around random as-of dates (leap days included)

AS_OF_DAYS = st.one_of(
    st.dates(date(2020, 1, 1), date(2029, 12, 31)),
    st.sampled_from(
        [date(y, m, d) for y in (2024, 2025, 2028) for m, d in ((2, 28), (3, 1), (12, 31))]
        + [date(2024, 2, 29), date(2028, 2, 29)]
    ),
)


@st.composite
def boundary_ledgers(draw):
    """(as_of, spec): one counterparty whose items sit on every bucket boundary as of a date.

    Due dates at as_of − b for every boundary b of days past due; recognition dates on the
    anniversaries of as_of, k = 0..6 years back, and the day before and after; a receipt
    that pays part of them, so that some items are partly open."""
    as_of = draw(AS_OF_DAYS)
    items = []
    for b in DUE_BOUNDARIES:
        due = as_of - timedelta(days=b)
        recognized = due - timedelta(days=draw(st.integers(0, 3)))
        items.append((recognized, due))
    for k in range(7):
        for extra in (-1, 0, 1):
            recognized = rules.years_back(as_of, k) + timedelta(days=extra)
            items.append((recognized, recognized + timedelta(days=draw(st.integers(0, 60)))))
    numbers = draw(st.permutations(range(len(items))))
    spec = LedgerSpec(
        codes=["ACME"],
        contracts=[None],
        items=[
            ItemSpec(0, f"INV-{n:03d}", draw(AMOUNTS), rec, due, None, None, None, None, False)
            for (rec, due), n in zip(items, numbers, strict=True)
        ],
        receipts=[ReceiptSpec(0, "R-1", draw(st.integers(1, 2_000_000)), draw(DAYS), None)],
        credits=[],
        order=[],
    )
    spec.order = draw(st.permutations([("item", i) for i in range(len(items))] + [("receipt", 0)]))
    return as_of, spec


@settings(LEDGER_SETTINGS, max_examples=12)  # each example holds 36 boundary items
@given(case=boundary_ledgers())
def test_every_bucket_boundary_in_sql_equals_the_rules(app, case):
    as_of, spec = case
    with rolled_back(app):
        model = RuleModel(enter_ledger(spec))
        for day in (as_of - timedelta(days=1), as_of, as_of + timedelta(days=1)):
            for basis in ("due", "age"):
                for by in ("counterparty", "project"):
                    rows = queries.aging(day, by=by, basis=basis)
                    assert aging_in_fen(rows) == model.aging(day, by, basis), (day, by, basis)
            rows = list(queries.interest_rows(day, Decimal("4.65"), 365))
            assert {r["document_no"]: r for r in rows} == model.interest(day, Decimal("4.65"), 365)
