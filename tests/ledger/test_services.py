"""Allocation stored through the services, and the SQL aggregates on a small ledger."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.extensions import db
from recovery.ledger import queries
from recovery.ledger.models import Application, Item

D = date


def test_receipts_are_applied_and_open_amounts_kept(build):
    acme = build.counterparty("ACME")
    a = build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 2, 1))
    b = build.item(acme, "500.00", D(2025, 1, 2), D(2025, 1, 20))
    build.receipt(acme, "700.00", D(2025, 2, 10))
    db.session.commit()
    apps = db.session.execute(
        sa.select(Application.item_id, Application.amount).order_by(Application.item_id)
    ).all()
    assert apps == [(a.id, Decimal("200.00")), (b.id, Decimal("500.00"))]
    assert db.session.get(Item, a.id).open_amount == Decimal("800.00")
    assert db.session.get(Item, b.id).last_movement_on == D(2025, 2, 10)


def test_back_dated_receipt_replays_the_counterparty(build):
    acme = build.counterparty("ACME")
    a = build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 2, 1))
    b = build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 3, 1))
    build.receipt(acme, "1000.00", D(2025, 3, 10), item=b)
    build.receipt(acme, "500.00", D(2025, 1, 15))  # earlier: pays A first
    db.session.commit()
    assert db.session.get(Item, a.id).open_amount == Decimal("500.00")
    assert db.session.get(Item, b.id).open_amount == Decimal("0.00")


def test_aging_by_counterparty_with_unapplied_credit(build):
    acme = build.counterparty("ACME")
    beta = build.counterparty("BETA")
    build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 2, 1))
    build.item(acme, "300.00", D(2025, 6, 1), D(2025, 7, 15))
    build.item(beta, "200.00", D(2025, 1, 1), D(2025, 1, 31))
    build.receipt(beta, "250.00", D(2025, 2, 1))
    db.session.commit()
    rows = queries.aging(D(2025, 7, 1), by="counterparty", basis="due")
    assert [r.key for r in rows] == ["ACME", "BETA"]
    acme_row, beta_row = rows
    assert acme_row.values["outstanding"] == Decimal("1300.00")
    assert acme_row.values["not_due"] == Decimal("300.00")
    assert acme_row.values["d91_180"] == Decimal("1000.00")  # 150 days past due
    assert acme_row.values["overdue"] == Decimal("1000.00")
    assert beta_row.values["outstanding"] == Decimal("0.00")
    assert beta_row.values["unapplied_credit"] == Decimal("50.00")
    # As of a date before the receipt, BETA owes 200 and has no credit.
    rows = queries.aging(D(2025, 1, 31), by="counterparty", basis="due")
    assert {r.key: r.values["outstanding"] for r in rows} == {
        "ACME": Decimal("1000.00"),
        "BETA": Decimal("200.00"),
    }
    by_project = queries.aging(D(2025, 7, 1), by="project", basis="age")
    assert [r.key for r in by_project] == ["", "UNAPPLIED"]
    assert by_project[1].values["unapplied_credit"] == Decimal("50.00")
    assert by_project[0].values["y0_1"] == Decimal("1300.00")


def test_interest_rows_match_the_rule(build):
    from recovery.ledger.rules import overdue_interest

    acme = build.counterparty("ACME")
    a = build.item(acme, "10000.00", D(2025, 1, 1), D(2025, 1, 31), overdue_rate=Decimal("3.65"))
    build.receipt(acme, "4000.00", D(2025, 2, 11))
    build.receipt(acme, "100.00", D(2025, 1, 20))  # before the due date
    db.session.commit()
    rows = list(queries.interest_rows(D(2025, 3, 2), default_rate=Decimal("4.65")))
    assert len(rows) == 1
    row = rows[0]
    reductions = [(D(2025, 1, 20), 10_000), (D(2025, 2, 11), 400_000)]
    expected = overdue_interest(
        1_000_000, reductions, D(2025, 1, 31), D(2025, 3, 2), Decimal("3.65")
    )
    assert row["interest"] == expected
    assert row["document_no"] == a.document_no
    assert row["outstanding"] == Decimal("5900.00")
    assert row["days_overdue"] == 30
