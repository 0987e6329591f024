"""What the faster aging forms must not change (recovery/ledger/queries.aging).

By department or responsible person the items are grouped by (key, bucket) and added up in
Python, and the unapplied credit row is one total instead of a sum per counterparty; by
counterparty or project one row per key sums each bucket in SQL. On random ledgers (items
without a department, receipts before their items, credits, dates before and after later
movements), on SQLite and PostgreSQL:

- every dimension's rows add up to the same totals as the item-level aging (by counterparty),
  column by column, and its UNAPPLIED row is the counterparties' unapplied credit added up;
- the (key, bucket) form gives exactly the rows of the per-key form;
- the credit read from the receipts' stored unapplied amounts is the old computation's.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.core.money import to_fen
from recovery.ledger import queries
from recovery.reports.aging import aging_table
from tests.ledger.test_properties import (
    LEDGER_SETTINGS,
    aging_in_fen,
    as_of_dates,
    enter_ledger,
    ledgers,
    rolled_back,
)


@contextmanager
def few_keys(dimensions):
    """Aging with these dimensions in the (key, bucket) form and the others per key."""
    saved = queries.FEW_KEYS
    queries.FEW_KEYS = dimensions
    try:
        yield
    finally:
        queries.FEW_KEYS = saved


def column_totals(rows) -> Counter:
    totals: Counter = Counter()
    for row in rows:
        for column, value in row.values.items():
            totals[column] += to_fen(value)
    return totals


@LEDGER_SETTINGS
@given(spec=ledgers(), data=st.data())
def test_every_dimension_adds_up_to_the_item_level_aging(app, spec, data):
    with rolled_back(app):
        enter_ledger(spec)
        for as_of in data.draw(as_of_dates(spec)):
            for basis in ("due", "age"):
                by_counterparty = queries.aging(as_of, by="counterparty", basis=basis)
                expected = column_totals(by_counterparty)
                for by in ("project", "department", "responsible"):
                    rows = queries.aging(as_of, by=by, basis=basis)
                    assert column_totals(rows) == expected, (as_of, by, basis)
                    credit = [r for r in rows if r.key == "UNAPPLIED" and r.key_id is None]
                    if expected["unapplied_credit"]:
                        assert len(credit) == 1
                        assert (
                            to_fen(credit[0].values["unapplied_credit"])
                            == (expected["unapplied_credit"])
                        )
                    else:
                        assert credit == []
                    assert all(
                        not to_fen(r.values["unapplied_credit"]) for r in rows if r not in credit
                    )


@LEDGER_SETTINGS
@given(spec=ledgers(), data=st.data())
def test_the_key_bucket_form_gives_the_rows_of_the_per_key_form(app, spec, data):
    with rolled_back(app):
        enter_ledger(spec)
        for as_of in data.draw(as_of_dates(spec)):
            for by in ("counterparty", "project", "department", "responsible"):
                for basis in ("due", "age"):
                    with few_keys(()):
                        per_key = aging_in_fen(queries.aging(as_of, by=by, basis=basis))
                    with few_keys(queries.DIMENSIONS):
                        grouped = aging_in_fen(queries.aging(as_of, by=by, basis=basis))
                    assert grouped == per_key, (as_of, by, basis)


@LEDGER_SETTINGS
@given(spec=ledgers(), data=st.data())
def test_the_stored_unapplied_amounts_give_the_old_credit(app, spec, data):
    """Receipts' stored unapplied amounts (migration 0016) equal amount − applications after
    the ledger is entered, and the credit read from them equals the old computation (received
    by the date − applied by the date) per counterparty and in total, as of any date."""
    from tests.ledger.test_unapplied import old_unapplied_credit, stored_and_live

    with rolled_back(app):
        enter_ledger(spec)
        stored, live = stored_and_live()
        assert stored == live
        for as_of in data.draw(as_of_dates(spec)):
            old = old_unapplied_credit(as_of)
            assert queries.unapplied_credit(as_of) == old, as_of
            assert queries.unapplied_credit_total(as_of) == sum(old.values()), as_of


def test_the_credit_total_is_the_sum_of_each_counterpartys(app):
    from datetime import date
    from decimal import Decimal

    from recovery.ledger import services as ledger
    from recovery.parties import services as parties

    with rolled_back(app):
        one = parties.save_counterparty(code="A1", name="甲", kind="customer")
        two = parties.save_counterparty(code="B2", name="乙", kind="customer")
        ledger.create_item(
            document_no="INV-1",
            counterparty_id=one.id,
            item_type="goods",
            amount=Decimal("100.00"),
            recognized_on=date(2026, 1, 10),
            due_on=date(2026, 2, 10),
        )
        for number, counterparty, amount, day in (
            ("R-1", one, "150.00", date(2026, 1, 5)),  # before the item: 100.00 waits
            ("R-2", two, "30.25", date(2026, 1, 20)),
            ("R-3", two, "0.75", date(2026, 3, 1)),
        ):
            ledger.create_receipt(
                receipt_no=number,
                counterparty_id=counterparty.id,
                amount=Decimal(amount),
                received_on=day,
            )
        for day, total in (
            (date(2026, 1, 4), 0),
            (date(2026, 1, 5), 15000),
            (date(2026, 1, 10), 5000),
            (date(2026, 1, 20), 8025),
            (date(2026, 3, 1), 8100),
        ):
            assert queries.unapplied_credit_total(day) == total
            assert sum(queries.unapplied_credit(day).values()) == total
            rows = aging_table(day, by="department").rows
            shown = [row[-1] for row in rows if row[0] == "UNAPPLIED"]
            assert shown == ([Decimal(total).scaleb(-2)] if total else [])


@pytest.mark.parametrize("by", ["department", "responsible"])
def test_no_items_and_no_credit_is_an_empty_report(app, by):
    from datetime import date

    with rolled_back(app):
        assert queries.aging(date(2026, 1, 1), by=by) == []
