"""Each receipt's stored unapplied amount (migration 0016) and the unapplied credit read from it.

The stored amount must equal the receipt's amount less its applications after every kind of
write (a receipt, a receipt naming an item, a back-dated item that moves the allocation, a
credit note approved, a receipt corrected or moved to another counterparty, an import); the
unapplied credit as of any date must equal the old computation (received by the date less
applied by the date), per counterparty and in total; the migration's back-fill must be right.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.imports.services import import_file
from recovery.ledger import queries
from recovery.ledger import services as ledger
from recovery.ledger.models import Application, Receipt
from tests.imports.conftest import (
    ITEM_HEADER,
    RECEIPT_HEADER,
    item_row,
    receipt_row,
    write_csv,
)

D = date
receipts_t, apps_t = Receipt.__table__, Application.__table__


def stored_and_live() -> tuple[dict, dict]:
    """({receipt id: stored unapplied fen}, {receipt id: amount − applications, fen})."""
    fen = queries.fen
    applied = (
        sa.select(sa.func.coalesce(sa.func.sum(fen(apps_t.c.amount)), 0))
        .where(apps_t.c.receipt_id == receipts_t.c.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            receipts_t.c.id, fen(receipts_t.c.unapplied_amount), fen(receipts_t.c.amount) - applied
        )
    ).all()
    return {r[0]: int(r[1]) for r in rows}, {r[0]: int(r[2]) for r in rows}


def assert_stored_is_live() -> None:
    db.session.flush()
    stored, live = stored_and_live()
    assert stored == live


def old_unapplied_credit(as_of: date) -> dict[int, int]:
    """The computation before 0016: received by the date less applied by the date."""
    fen = queries.fen
    received = sa.select(
        receipts_t.c.counterparty_id.label("cp"), fen(receipts_t.c.amount).label("fen")
    ).where(receipts_t.c.received_on <= as_of)
    applied = sa.select(
        apps_t.c.counterparty_id.label("cp"), (-fen(apps_t.c.amount)).label("fen")
    ).where(apps_t.c.applied_on <= as_of)
    movements = sa.union_all(received, applied).subquery()
    total = sa.func.sum(movements.c.fen)
    rows = db.session.execute(
        sa.select(movements.c.cp, total).group_by(movements.c.cp).having(total != 0)
    )
    return {cp: int(value) for cp, value in rows}


def assert_credit_as_before(days) -> None:
    for day in days:
        old = old_unapplied_credit(day)
        assert queries.unapplied_credit(day) == old, day
        assert queries.unapplied_credit_total(day) == sum(old.values()), day
        for cp, value in old.items():
            assert queries.unapplied_credit(day, cp) == {cp: value}, day


def _users():
    return (
        auth.create_user("fin.a", "a-long-password-1", ("finance",)),
        auth.create_user("fin.b", "a-long-password-2", ("finance",)),
    )


def test_every_write_keeps_the_stored_unapplied_amount(build):
    acme, beta = build.counterparty(), build.counterparty()
    a = build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 1, 31), "A")
    assert_stored_is_live()
    r1 = build.receipt(acme, "300.00", D(2025, 2, 15), "R1")  # all to A
    assert_stored_is_live()
    assert r1.unapplied_amount == Decimal("0.00")
    # A credit note on A (700 open) approved: A owes 650.
    proposer, approver = _users()
    note = ledger.propose_adjustment(
        a,
        kind="credit_note",
        amount=Decimal("50.00"),
        dated_on=D(2025, 2, 20),
        reason="allowance",
        number="CN-1",
        actor=proposer,
    )
    assert_stored_is_live()
    ledger.decide_adjustment(note, approve=True, actor=approver)
    assert_stored_is_live()
    r2 = build.receipt(acme, "1200.00", D(2025, 3, 1), "R2", item=a)  # 650 to A, 550 left
    assert_stored_is_live()
    assert r2.unapplied_amount == Decimal("550.00")
    # A back-dated item takes credit: R1 moves to it (earlier due), R2 pays A 950 and B 100.
    b = build.item(acme, "400.00", D(2024, 12, 1), D(2024, 12, 31), "B")
    assert_stored_is_live()
    assert r1.unapplied_amount == Decimal("0.00")
    assert r2.unapplied_amount == Decimal("150.00")
    # A correction of the amount, then the receipt moved to another counterparty.
    ledger.update_receipt(r2, amount=Decimal("1300.00"))
    assert_stored_is_live()
    assert r2.unapplied_amount == Decimal("250.00")
    ledger.update_receipt(r2, counterparty_id=beta.id, item_id=None)
    assert_stored_is_live()
    assert r2.unapplied_amount == Decimal("1300.00")
    ledger.update_item(b, amount=Decimal("100.00"))
    assert_stored_is_live()
    assert_credit_as_before(
        [D(2024, 11, 30), D(2024, 12, 1), D(2025, 2, 15), D(2025, 3, 1), D(2025, 3, 15)]
        + [D(2026, 1, 1)]
    )


def test_credit_as_of_past_dates_adds_back_later_applications(build):
    acme = build.counterparty()
    build.receipt(acme, "500.00", D(2025, 1, 5), "R1")  # waits for an item
    build.receipt(acme, "80.00", D(2025, 4, 1), "R2")
    build.item(acme, "300.00", D(2025, 2, 1), D(2025, 3, 1))  # takes 300 of R1 on 1 Feb
    build.item(acme, "250.00", D(2025, 5, 1), D(2025, 6, 1))  # 200 of R1, 50 of R2 on 1 May
    assert_stored_is_live()
    cp = acme.id
    assert queries.unapplied_credit(D(2025, 1, 4)) == {}
    assert queries.unapplied_credit(D(2025, 1, 5)) == {cp: 50000}
    assert queries.unapplied_credit(D(2025, 2, 1)) == {cp: 20000}
    assert queries.unapplied_credit(D(2025, 4, 1)) == {cp: 28000}
    assert queries.unapplied_credit(D(2025, 5, 1)) == {cp: 3000}
    assert queries.unapplied_credit_total(D(2025, 4, 30)) == 28000
    assert_credit_as_before([D(2025, 1, d) for d in range(1, 31, 3)] + [D(2025, 4, 30)])


def test_an_import_of_receipts_keeps_the_stored_unapplied_amount(build, tmp_path):
    rows = [item_row(), item_row(document_no="INV002", due_on="2025-01-15")]
    result = import_file("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    assert result.ok, [i.line() for i in result.issues]
    receipts = [
        receipt_row(amount="2500.00"),
        receipt_row(receipt_no="R2", amount="10.00", received_on="2024-01-01"),
    ]
    result = import_file("receipts", write_csv(tmp_path / "r.csv", RECEIPT_HEADER, receipts))
    assert result.ok, [i.line() for i in result.issues]
    assert_stored_is_live()
    assert sum(stored_and_live()[0].values()) > 0
    # Corrected by a second import: less money, so nothing is left over.
    receipts[0]["amount"] = "100.00"
    result = import_file("receipts", write_csv(tmp_path / "r.csv", RECEIPT_HEADER, receipts))
    assert result.ok, [i.line() for i in result.issues]
    assert_stored_is_live()
    assert_credit_as_before([D(2023, 12, 31), D(2024, 1, 1), D(2025, 6, 1), D(2026, 12, 31)])


def test_refresh_in_sql_sets_what_allocation_would(build):
    """The demo loader's and the benchmark's path: applications written without reallocate."""
    acme = build.counterparty()
    build.item(acme, "100.00", D(2025, 1, 1), D(2025, 2, 1))
    build.receipt(acme, "150.00", D(2025, 1, 5))
    db.session.execute(receipts_t.update().values(unapplied_amount=Decimal("0")))
    ledger.refresh_unapplied_sql([acme.id])
    assert_stored_is_live()
    db.session.execute(receipts_t.update().values(unapplied_amount=Decimal("1")))
    ledger.refresh_unapplied_sql()
    assert_stored_is_live()


def test_the_migration_back_fills_receipts_written_before_it(tmp_path):
    from flask_migrate import upgrade

    from recovery import create_app
    from tests.conftest import base_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        upgrade(revision="0015")
        with db.engine.begin() as connection:
            sql = connection.exec_driver_sql
            sql(
                "INSERT INTO counterparties (id, code, name, kind, financial_status,"
                " business_status, active, created_at)"
                " VALUES (1, 'C1', 'Old', 'customer', 'good', 'normal', 1, '2026-01-01')"
            )
            sql(
                "INSERT INTO items (id, document_no, counterparty_id, item_type,"
                " category, amount, recognized_on, due_on, open_amount, created_at)"
                " VALUES (1, 'D1', 1, 'goods', 'accounts_receivable', 10000, '2026-01-01',"
                " '2026-02-01', 0, '2026-01-01')"
            )
            for rid, amount in ((1, 6000), (2, 7000), (3, 2500)):
                sql(
                    "INSERT INTO receipts (id, receipt_no, counterparty_id, amount, received_on,"
                    f" method, created_at) VALUES ({rid}, 'R{rid}', 1, {amount}, '2026-01-0{rid}',"
                    " 'transfer', '2026-01-01')"
                )
            sql(
                "INSERT INTO applications (counterparty_id, receipt_id, item_id, amount,"
                " applied_on) VALUES (1, 1, 1, 6000, '2026-01-01'), (1, 2, 1, 4000, '2026-01-02')"
            )
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, unapplied_amount FROM receipts ORDER BY id"
            ).all()
        assert [tuple(r) for r in rows] == [(1, 0), (2, 3000), (3, 2500)]
        assert queries.unapplied_credit(D(2026, 1, 2)) == {1: 3000}
        assert queries.unapplied_credit(D(2026, 1, 1)) == {}
        assert queries.unapplied_credit_total(D(2026, 2, 1)) == 5500
        db.engine.dispose()


def test_the_demo_loader_stores_the_unapplied_amounts(app, runner):
    from tests.test_demo_ledger import load

    load(runner)
    with app.app_context():
        stored, live = stored_and_live()
        assert stored == live
        assert any(stored.values())  # the demo has advances left as unapplied credit


def test_the_bench_generator_stores_the_unapplied_amounts(migrated_database, tmp_path):
    import os
    import subprocess
    import sys

    from recovery import PROJECT_ROOT, create_app
    from tests.conftest import base_config, fresh_database_url

    url = fresh_database_url(migrated_database, tmp_path)
    env = {**os.environ, "RECOVERY_INSTANCE_PATH": str(tmp_path / "instance")}
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "generate.py"), "--database", url]
    command += ["--counterparties", "30", "--projects", "8", "--items", "600"]
    command += ["--receipts", "480", "--seed", "7"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        stored, live = stored_and_live()
        assert len(stored) == 480 and stored == live
        assert any(stored.values())
        db.session.remove()
        db.engine.dispose()
