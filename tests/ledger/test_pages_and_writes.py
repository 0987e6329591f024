"""What the speed work on the ledger must not change.

- The ledger list's pages: every open item exactly once, in order (ties by id), the last page
  short, a page past the end empty, the count the same on each page; an item paid after the
  as-of date is still open as of that date (the open-items-only list leaves closed items out
  with the partial index's literal 0, and must not leave those out).
- Allocation's write: only the applications that change are deleted and inserted — those a
  later receipt leaves alone keep their rows — and what is stored is always the replay.
- The row lock of a counterparty is taken once per transaction (PostgreSQL).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from recovery.extensions import db
from recovery.ledger import rules, screen_queries
from recovery.ledger import services as ledger
from recovery.ledger.models import Application, Item
from tests.conftest import POSTGRES_URL

D = date
AS_OF = D(2026, 6, 30)


def ledger_ids(as_of, item_filter, sort="due_on", direction="asc", per_page=3):
    """Every page of the list, in order, and each page's (number of rows, total)."""
    pages, shapes, number = [], [], 1
    while True:
        page = screen_queries.ledger_page(
            as_of, item_filter, sort, direction, number, per_page=per_page
        )
        shapes.append((len(page.items), page.total))
        if not page.items:
            return pages, shapes
        pages.extend(row.document_no for row in page.items)
        number += 1


def make_ledger(build):
    acme = build.counterparty("ACME")
    other = build.counterparty("OTHER")
    due_dates = [D(2026, 1, 31), D(2026, 3, 31), D(2026, 1, 31), D(2026, 5, 31), D(2026, 3, 31)]
    items = [
        build.item(acme, "100.00", D(2026, 1, 1), due, document_no=f"A{n}")
        for n, due in enumerate(due_dates)
    ]
    items += [build.item(other, "50.00", D(2026, 2, 1), D(2026, 7, 31), document_no="B0")]
    paid = build.item(acme, "70.00", D(2025, 12, 1), D(2025, 12, 31), document_no="P0")
    build.receipt(acme, "70.00", D(2026, 1, 5), item=paid)
    # Paid after the as-of date: still open as of it.
    late = build.item(acme, "30.00", D(2026, 2, 1), D(2026, 2, 28), document_no="L0")
    build.receipt(acme, "30.00", AS_OF + timedelta(days=10), item=late)
    db.session.commit()
    return items, paid, late


def test_pages_hold_every_open_item_once_in_order(build):
    make_ledger(build)
    open_filter = screen_queries.ScreenFilter(open_only=True)
    ids, shapes = ledger_ids(AS_OF, open_filter)
    # Due date, then id (A0 and A2 fall due together, as do A1 and A4).
    assert ids == ["A0", "A2", "L0", "A1", "A4", "A3", "B0"]
    assert shapes == [(3, 7), (3, 7), (1, 7), (0, 7)]
    descending, _shapes = ledger_ids(AS_OF, open_filter, direction="desc")
    assert descending == ["B0", "A3", "A4", "A1", "L0", "A2", "A0"]
    everything, shapes = ledger_ids(AS_OF, screen_queries.ScreenFilter(open_only=False))
    assert everything == ["P0", "A0", "A2", "L0", "A1", "A4", "A3", "B0"]
    assert shapes[-1] == (0, 8)
    # The paid-later item is closed today, and only today.
    today, _shapes = ledger_ids(AS_OF + timedelta(days=20), open_filter)
    assert "L0" not in today and len(today) == 6
    overdue = screen_queries.ScreenFilter(open_only=True, overdue_only=True)
    late_ids, shapes = ledger_ids(AS_OF, overdue, per_page=2)
    assert late_ids == ["A0", "A2", "L0", "A1", "A4", "A3"]
    assert shapes == [(2, 6), (2, 6), (2, 6), (0, 6)]


def test_pages_agree_with_the_totals(build):
    make_ledger(build)
    for as_of in (AS_OF, AS_OF + timedelta(days=20), D(2026, 1, 31)):
        for overdue_only in (False, True):
            item_filter = screen_queries.ScreenFilter(open_only=True, overdue_only=overdue_only)
            totals = screen_queries.totals(as_of, item_filter)
            rows = screen_queries.ledger_page(as_of, item_filter, per_page=100).items
            assert totals.count == len(rows)
            assert totals.outstanding == sum((r.outstanding for r in rows), Decimal("0.00"))
            assert all(r.outstanding for r in rows)


def stored_applications(counterparty_id):
    rows = db.session.execute(
        sa.select(
            Application.id,
            Application.applied_on,
            Application.receipt_id,
            Application.item_id,
            Application.amount,
        ).where(Application.counterparty_id == counterparty_id)
    ).all()
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def replayed(counterparty_id):
    items, receipts = ledger.load_documents(counterparty_id)
    return sorted(
        (a.applied_on, a.receipt_id, a.item_id, Decimal(a.amount).scaleb(-2))
        for a in rules.allocate(items, receipts)
    )


def test_a_later_receipt_adds_its_applications_and_keeps_the_others(build):
    acme = build.counterparty("ACME")
    for n in range(4):
        build.item(acme, "100.00", D(2026, 1, 1 + n), D(2026, 2, 1 + n))
    build.receipt(acme, "150.00", D(2026, 2, 10))
    db.session.commit()
    before = stored_applications(acme.id)
    assert len(before) == 2
    build.receipt(acme, "120.00", D(2026, 3, 1))  # pays the rest of the 2nd, part of the 3rd
    db.session.commit()
    after = stored_applications(acme.id)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(after) == 4
    assert sorted(after.values()) == replayed(acme.id)
    # Back-dated: earlier money reorders what the later receipts paid.
    build.receipt(acme, "10.00", D(2026, 1, 15))
    db.session.commit()
    assert sorted(stored_applications(acme.id).values()) == replayed(acme.id)
    opened = db.session.scalars(
        sa.select(Item.open_amount).where(Item.counterparty_id == acme.id).order_by(Item.id)
    ).all()
    assert opened == [Decimal("0.00"), Decimal("0.00"), Decimal("20.00"), Decimal("100.00")]


def test_a_receipt_that_changes_nothing_writes_nothing(build):
    acme = build.counterparty("ACME")
    build.item(acme, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    build.receipt(acme, "40.00", D(2026, 2, 10))
    db.session.commit()
    before = stored_applications(acme.id)
    statements = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        ledger.reallocate(acme.id)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "DELETE"))]
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE ITEMS")]
    assert stored_applications(acme.id) == before


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only: SQLite takes no row lock")
def test_the_counterparty_is_locked_once_per_transaction(build):
    acme = build.counterparty("ACME")
    build.item(acme, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    db.session.commit()
    statements = []

    def note(_conn, _cursor, statement, *_args):
        if "FOR UPDATE" in statement.upper() and "counterparties" in statement:
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        build.receipt(acme, "40.00", D(2026, 2, 10))
        build.receipt(acme, "10.00", D(2026, 2, 11))
        assert len(statements) == 1
        db.session.commit()
        build.receipt(acme, "5.00", D(2026, 2, 12))  # a new transaction locks again
        assert len(statements) == 2
        savepoint = db.session.begin_nested()
        build.receipt(acme, "1.00", D(2026, 2, 13))  # within a savepoint: locked again there
        savepoint.rollback()
        assert len(statements) == 3
        db.session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", note)
