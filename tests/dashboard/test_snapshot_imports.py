"""Month-end snapshots stay right through the ledger imports (issue 6 point 7).

The imports (recovery/imports/services.py) write documents with Core bulk inserts and replay
allocation without the ORM, out of the session listener's sight; they announce the
counterparties they change (``snapshots.will_change``) so that the snapshots are corrected
in the same transaction. Each step imports a file through the real import service, commits
as the command does, and compares every stored month-end of every department with the live
computation (the helpers of test_snapshots.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.audit.context import acting_as, cli_actor
from recovery.dashboard import snapshots
from recovery.extensions import db
from recovery.imports.services import import_file
from recovery.ledger import services as ledger
from recovery.ledger.models import Adjustment, Item
from tests.dashboard.example import SALES_ONE, SALES_TWO, departments
from tests.dashboard.test_snapshots import assert_in_step, live, start_empty, stored
from tests.imports.conftest import (
    ITEM_HEADER,
    RECEIPT_HEADER,
    item_row,
    receipt_row,
    write_csv,
)

D = date
ADJUSTMENT_HEADER = ["number", "document_no", "kind", "amount", "dated_on", "reason"]
HEADERS = {"items": ITEM_HEADER, "receipts": RECEIPT_HEADER, "adjustments": ADJUSTMENT_HEADER}


def imported(kind: str, rows: list[dict], folder) -> None:
    """Import a file as the command does (acting as the command line, commit when written)."""
    path = write_csv(folder / f"{kind}.csv", HEADERS[kind], rows)
    with acting_as(cli_actor()):
        result = import_file(kind, path)
        assert result.ok, [issue.line() for issue in result.issues]
        assert result.written
        db.session.commit()


def company_total(month_end: date, figure: str) -> int:
    return sum(values[figure] for (m, _dept), values in stored().items() if m == month_end)


def test_imports_of_back_dated_documents_keep_the_snapshots_in_step(build, make_user, tmp_path):
    start_empty()  # December 2025 .. June 2026, built before any document
    _company, one, two = departments()
    db.session.commit()
    a = build.counterparty("A", name="甲公司", department_id=one.id)
    build.item(a, "600.00", D(2026, 1, 15), D(2026, 2, 14), "A1")
    build.receipt(a, "100.00", D(2026, 2, 1))
    db.session.commit()
    assert_in_step()
    before = company_total(D(2025, 12, 31), "receivables")

    # Items dated in closed months: for a counterparty the ledger knows (its money is
    # re-allocated to the older item) and for one the file creates, with a department.
    imported(
        "items",
        [
            item_row(counterparty_code="A", counterparty_name="甲公司", document_no="A0",
                     amount="300.00", recognized_on="2025-12-10", due_on="2026-01-09"),
            item_row(counterparty_code="N", counterparty_name="新客户", document_no="N1",
                     amount="250.00", recognized_on="2026-02-03", due_on="2026-03-05",
                     department=SALES_TWO),
            item_row(counterparty_code="N", counterparty_name="新客户", document_no="N2",
                     amount="80.00", recognized_on="2026-04-03", due_on="2026-05-03"),
        ],
        tmp_path,
    )  # fmt: skip
    assert_in_step()
    assert company_total(D(2025, 12, 31), "receivables") == before + 30000
    assert stored()[(D(2026, 3, 31), two.id)]["overdue"] == 25000

    # Receipts dated in earlier months: one naming no item, one naming an item of the new
    # counterparty, one received before the item it names exists (earmarked).
    imported(
        "receipts",
        [
            receipt_row(receipt_no="R1", counterparty_code="A", amount="400.00",
                        received_on="2026-01-20"),
            receipt_row(receipt_no="R2", counterparty_code="N", amount="50.00",
                        received_on="2026-03-01", document_no="N1"),
            receipt_row(receipt_no="R3", counterparty_code="N", amount="20.00",
                        received_on="2026-03-25", document_no="N2"),
        ],
        tmp_path,
    )  # fmt: skip
    assert_in_step()
    assert company_total(D(2026, 1, 31), "received") == 40000

    # Corrections by file: another amount and due date, another department.
    imported(
        "items",
        [
            item_row(counterparty_code="A", counterparty_name="甲公司", document_no="A0",
                     amount="350.00", recognized_on="2025-12-10", due_on="2026-02-20"),
            item_row(counterparty_code="N", counterparty_name="新客户", document_no="N1",
                     amount="250.00", recognized_on="2026-02-03", due_on="2026-03-05",
                     department=SALES_ONE),
        ],
        tmp_path,
    )  # fmt: skip
    assert_in_step()
    assert stored()[(D(2026, 3, 31), one.id)]["overdue"] > 0
    assert (D(2026, 3, 31), two.id) not in stored()
    # A receipt moved to an earlier month.
    imported(
        "receipts",
        [
            receipt_row(receipt_no="R1", counterparty_code="A", amount="400.00",
                        received_on="2025-12-28"),
        ],
        tmp_path,
    )  # fmt: skip
    assert_in_step()

    # Credit notes and write-offs by file: proposals change nothing; once approved (by the
    # ledger's service, through the ORM) they count in their months.
    imported(
        "adjustments",
        [
            {"number": "CN-1", "document_no": "A1", "kind": "credit_note", "amount": "120.00",
             "dated_on": "2026-01-31", "reason": "price reduction"},
            {"number": "WO-1", "document_no": "N1", "kind": "write_off", "amount": "30.00",
             "dated_on": "2026-04-15", "reason": "坏账"},
        ],
        tmp_path,
    )  # fmt: skip
    assert_in_step()
    approver = make_user("snapshot.approver", "finance")
    for adjustment in db.session.scalars(sa.select(Adjustment).order_by(Adjustment.number)):
        ledger.decide_adjustment(adjustment, approve=True, actor=approver)
    db.session.commit()
    assert_in_step()
    assert company_total(D(2026, 1, 31), "credited") == 12000
    assert company_total(D(2026, 4, 30), "credited") == 3000

    # And a rebuild gives what the writes kept.
    kept = stored()
    snapshots.rebuild(D(2026, 6, 30), since=D(2025, 12, 1))
    db.session.commit()
    assert stored() == kept


def test_a_failed_import_leaves_the_snapshots_alone(build, tmp_path):
    start_empty()
    a = build.counterparty("A", name="甲公司")
    build.item(a, "600.00", D(2026, 1, 15), D(2026, 2, 14), "A1")
    db.session.commit()
    kept = stored()
    path = write_csv(
        tmp_path / "items.csv",
        ITEM_HEADER,
        [
            item_row(counterparty_code="A", counterparty_name="甲公司", document_no="A0",
                     amount="300.00", recognized_on="2025-12-10", due_on="2026-01-09"),
        ],
    )  # fmt: skip
    with acting_as(cli_actor()):
        result = import_file("items", path, dry_run=True)
        db.session.rollback()
    assert result.ok and not result.written
    db.session.expire_all()
    assert stored() == kept == live()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 1
    assert db.session.get(Item, db.session.scalar(sa.select(Item.id))).amount == Decimal("600.00")
