"""The kept open-item sums (recovery/ledger/open_sums.py, migration 0022).

- The triggers keep them equal to the open items summed afresh after every kind of write:
  an item entered, paid in part or in full, corrected (amount, dates, department), credited,
  a receipt moved to another date, a row deleted below the application.
- Where they are used (the aging by department, the ledger's totals of the company or of
  one department, overdue or all), they give exactly the figures summed from the items, on
  random ledgers and dates; where they cannot stand for the items (a payment after the date,
  an item recognised after it, any other filter) the items are summed.
- Compacting changes no figure, also beside a writer that has not committed (PostgreSQL), and
  one compaction runs at a time; a read that finds too many rows of changes starts one.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.auth import services as auth
from recovery.auth.models import Department
from recovery.extensions import db
from recovery.ledger import open_sums, queries, screen_queries
from recovery.ledger import services as ledger
from recovery.ledger.models import Item, OpenItemSums
from recovery.ledger.screen_queries import ScreenFilter
from tests.conftest import POSTGRES_URL
from tests.conftest import TEST_PASSWORD as PASSWORD
from tests.ledger.test_properties import (
    LEDGER_SETTINGS,
    as_of_dates,
    enter_ledger,
    ledgers,
    rolled_back,
)

D = date
TODAY = D(2026, 6, 30)


def figures(as_of, department_id=None, *, kept):
    """Every figure the kept sums may give, as of the date, for the company or a department."""
    found = {}
    for overdue in (False, True):
        item_filter = ScreenFilter(
            open_only=True, overdue_only=overdue, department_id=department_id
        )
        found[("totals", overdue)] = screen_queries.totals(as_of, item_filter, kept=kept)
    for basis in ("due", "age"):
        item_filter = queries.LedgerFilter(department_id=department_id)
        found[("aging", basis)] = queries.aging(
            as_of, by="department", basis=basis, item_filter=item_filter, kept=kept
        )
    return found


def assert_kept_figures_hold(as_of, departments):
    for department_id in (None, *departments):
        assert figures(as_of, department_id, kept=True) == figures(
            as_of, department_id, kept=False
        ), (as_of, department_id)


def rows_of_changes() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(OpenItemSums.__table__.c.compacted.is_(False))
    )


@pytest.fixture
def ledger_world(build):
    company = auth.create_department("公司", "company", None)
    east = auth.create_department("华东", "department", company)
    west = auth.create_department("华西", "department", company)
    acme = build.counterparty("ACME")
    other = build.counterparty("OTHER")
    db.session.flush()
    return build, (east.id, west.id), acme, other


# ---------------------------------------------------------------------------------------------
# The triggers


def test_every_kind_of_write_keeps_the_sums(ledger_world):
    build, (east, west), acme, other = ledger_world
    assert open_sums.differences() == []
    a = build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=east)
    b = build.item(acme, "250.00", D(2026, 3, 1), D(2026, 4, 30), department_id=west)
    c = build.item(other, "80.00", D(2025, 11, 1), D(2025, 12, 1))  # no department
    assert open_sums.differences() == []
    assert rows_of_changes() == 6  # each new open item: its due day and its recognition day

    build.receipt(acme, "30.00", D(2026, 3, 10))  # part of a (the oldest due)
    assert open_sums.differences() == [], "part payment"
    build.receipt(other, "80.00", D(2026, 1, 10), item=c)  # c paid in full: closed
    assert open_sums.differences() == [], "full payment"
    ledger.update_item(b, department_id=east, due_on=D(2026, 5, 31))
    assert open_sums.differences() == [], "department and due date corrected"
    ledger.update_item(a, recognized_on=D(2026, 1, 2), amount=Decimal("120.00"))
    assert open_sums.differences() == [], "recognition date and amount corrected"
    finance = auth.create_user("fin1", PASSWORD, ("finance",))
    finance2 = auth.create_user("fin2", PASSWORD, ("finance",))
    adjustment = ledger.propose_adjustment(
        b,
        kind="credit_note",
        amount=Decimal("50.00"),
        dated_on=D(2026, 5, 1),
        reason="price",
        number="CN-1",
        actor=finance,
    )
    ledger.decide_adjustment(adjustment, approve=True, actor=finance2)
    assert open_sums.differences() == [], "credit note approved"
    receipt = build.receipt(acme, "120.00", D(2026, 5, 2))
    ledger.update_receipt(receipt, received_on=D(2026, 6, 2), amount=Decimal("20.00"))
    assert open_sums.differences() == [], "receipt moved and reduced: items reopened"

    # Below the application: a row deleted and a row changed by hand are kept too.
    lone = build.item(other, "40.00", D(2026, 4, 1), D(2026, 5, 1), department_id=west)
    db.session.execute(sa.delete(Item.__table__).where(Item.__table__.c.id == lone.id))
    db.session.execute(
        sa.update(Item.__table__).where(Item.__table__.c.id == a.id).values(open_amount=1)
    )
    assert open_sums.differences() == []
    assert_kept_figures_hold(TODAY, (east, west))


def test_a_difference_is_named(ledger_world):
    build, (east, _west), acme, _other = ledger_world
    build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=east)
    db.session.execute(
        sa.insert(OpenItemSums.__table__).values(
            basis="due", department_id=east, day=D(2026, 2, 5), items=0, amount_fen=0, open_fen=1
        )
    )
    assert open_sums.differences() == [
        f"due department {east} 2026-02-05: kept (1, 10000, 10001), summed (1, 10000, 10000)"
    ]
    open_sums.rebuild()
    assert open_sums.differences() == []


# ---------------------------------------------------------------------------------------------
# When they are used


def test_used_only_where_they_stand_for_the_items(ledger_world):
    build, (east, west), acme, other = ledger_world
    build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=east)
    late = build.item(other, "60.00", D(2026, 2, 1), D(2026, 3, 1), department_id=west)
    assert open_sums.usable(TODAY, None)
    assert open_sums.usable(TODAY, queries.LedgerFilter(department_id=east))
    assert not open_sums.usable(TODAY, queries.LedgerFilter(counterparty_id=acme.id))
    assert not open_sums.usable(TODAY, queries.LedgerFilter(visible_to=1))
    assert not open_sums.usable(TODAY, ScreenFilter(no_responsible=True))
    assert open_sums.usable(TODAY, ScreenFilter(overdue_only=True), ("overdue_only",))
    # An item recognised after the date: the sums hold it, the ledger as of the date does not.
    assert not open_sums.usable(D(2026, 1, 31), None)
    # A payment dated after the date: the item was open then for more than it is now.
    build.receipt(other, "60.00", D(2026, 6, 1), item=late)
    assert not open_sums.usable(D(2026, 5, 31), None)
    assert open_sums.usable(TODAY, None)
    for as_of in (D(2026, 1, 31), D(2026, 5, 31), TODAY):
        assert_kept_figures_hold(as_of, (east, west))


def test_the_figures_come_from_the_kept_sums(ledger_world):
    """Where usable, the figures are read from the kept sums, not the items: with the rows
    deleted they are empty."""
    build, (east, _west), acme, _other = ledger_world
    build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=east)
    db.session.commit()
    kept = figures(TODAY, kept=True)
    assert kept[("totals", True)].outstanding == Decimal("100.00")
    db.session.execute(sa.delete(OpenItemSums.__table__))
    assert figures(TODAY, kept=True)[("totals", True)].outstanding == Decimal("0.00")
    assert figures(TODAY, kept=False) == kept
    db.session.rollback()


@settings(LEDGER_SETTINGS, max_examples=25)
@given(spec=ledgers(), data=st.data())
def test_kept_sums_give_the_figures_summed_from_the_items(app, spec, data):
    with rolled_back(app):
        enter_ledger(spec)
        assert open_sums.differences() == []
        departments = list(db.session.scalars(sa.select(Department.id)))
        after_everything = max(spec.days(), default=TODAY) + timedelta(days=1)
        assert open_sums.usable(after_everything, None)
        for as_of in [*data.draw(as_of_dates(spec, count=3)), after_everything]:
            assert_kept_figures_hold(as_of, departments)
        before = figures(after_everything, kept=True)
        open_sums.compact()
        assert rows_of_changes() == 0
        assert open_sums.differences() == []
        assert figures(after_everything, kept=True) == before


# ---------------------------------------------------------------------------------------------
# Compacting


def test_compacting_changes_no_figure_and_leaves_one_row_per_key(ledger_world):
    build, (east, west), acme, other = ledger_world
    for n in range(5):
        build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=east)
        build.receipt(acme, "30.00", D(2026, 3, n + 1))
    build.item(other, "70.00", D(2026, 2, 5), D(2026, 3, 5), department_id=west)
    before = figures(TODAY, kept=True)
    rows_before, rows_after = open_sums.compact()
    # Keys: (due, east, 02-05), (age, east, 01-05), (due, west, 03-05), (age, west, 02-05).
    assert rows_after == 4 < rows_before
    assert rows_of_changes() == 0
    assert figures(TODAY, kept=True) == before == figures(TODAY, kept=False)
    assert open_sums.compact() == (4, 4)


def test_a_read_that_finds_many_changes_compacts_in_the_background(ledger_world, app):
    build, (east, _west), acme, _other = ledger_world
    for _ in range(3):
        build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=east)
    db.session.commit()
    app.config["OPEN_SUMS_COMPACT_AFTER"] = 2
    screen_queries.totals(TODAY, ScreenFilter(open_only=True))  # 3 rows of changes per basis
    open_sums.wait_for_compaction()
    db.session.rollback()  # a new snapshot
    assert rows_of_changes() == 0
    assert open_sums.differences() == []
    app.config["OPEN_SUMS_COMPACT_AFTER"] = 1
    build.item(acme, "100.00", D(2026, 1, 6), D(2026, 2, 6), department_id=east)
    db.session.commit()
    screen_queries.totals(TODAY, ScreenFilter(open_only=True))  # 1 row of changes per basis
    open_sums.wait_for_compaction()
    db.session.rollback()
    assert rows_of_changes() == 2


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only: SQLite has one writer at a time")
def test_compacting_beside_an_uncommitted_writer_loses_nothing(ledger_world, app):
    build, (east, _west), acme, _other = ledger_world
    item = build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=east)
    db.session.commit()
    items_t = Item.__table__
    with db.engine.connect() as writer:
        writer.execute(sa.update(items_t).where(items_t.c.id == item.id).values(open_amount=4000))
        writer.execute(
            sa.update(items_t).where(items_t.c.id == item.id).values(due_on=D(2026, 3, 1))
        )
        assert open_sums.compact() is not None
        db.session.commit()
        # One at a time: while another holds the lock, a compaction does nothing.
        with db.engine.connect() as holder:
            holder.execute(sa.select(sa.func.pg_advisory_lock(open_sums.COMPACT_LOCK)))
            assert open_sums.compact() is None
            db.session.rollback()
            holder.execute(sa.select(sa.func.pg_advisory_unlock(open_sums.COMPACT_LOCK)))
        writer.commit()
    db.session.rollback()
    assert open_sums.differences() == []
    open_sums.compact()
    db.session.commit()
    assert open_sums.differences() == []
    assert figures(TODAY, kept=True) == figures(TODAY, kept=False)


# ---------------------------------------------------------------------------------------------
# The command


def test_compact_sums_command(app, runner):
    with app.app_context():
        company = auth.create_department("公司", "company", None)
        from tests.ledger.conftest import LedgerBuilder

        build = LedgerBuilder()
        acme = build.counterparty("ACME")
        build.item(acme, "100.00", D(2026, 1, 5), D(2026, 2, 5), department_id=company.id)
        build.receipt(acme, "30.00", D(2026, 3, 1))
        db.session.commit()
    result = runner.invoke(args=["ledger", "compact-sums", "--check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output
    result = runner.invoke(args=["ledger", "compact-sums"])
    assert result.exit_code == 0, result.output
    # Before: the item's two rows and the payment's (two on PostgreSQL, four on SQLite).
    assert re.fullmatch(r"Open-item sums compacted: [46] row\(s\) to 2\.\n", result.output)
    with app.app_context():
        db.session.execute(sa.update(OpenItemSums.__table__).values(open_fen=1))
        db.session.commit()
    result = runner.invoke(args=["ledger", "compact-sums", "--check"])
    assert result.exit_code == 1
    assert "kept (1, 10000, 1), summed (1, 10000, 7000)" in result.output
    result = runner.invoke(args=["ledger", "compact-sums", "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt: 2 row(s)" in result.output
    assert runner.invoke(args=["ledger", "compact-sums", "--check"]).exit_code == 0
