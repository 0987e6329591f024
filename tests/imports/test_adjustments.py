"""Credit notes and write-offs by file (issue 3, point 5's round trip): the `adjustments` kind
of import and export. Imported rows are proposals; a finance user other than the importer
approves them (four eyes), and only then do they count."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.audit.context import Actor, acting_as, cli_actor
from recovery.core import spreadsheets
from recovery.extensions import db
from recovery.imports import exporter
from recovery.imports.services import import_file
from recovery.ledger import queries
from recovery.ledger import services as ledger
from recovery.ledger.models import Adjustment, Item
from tests.conftest import login
from tests.imports.conftest import codes, count, csv_bytes, write_csv, write_xlsx
from tests.imports.test_web import finished_job, upload

D = date
HEADER = ["number", "document_no", "kind", "amount", "dated_on", "reason"]


def adjustment_row(**values) -> dict:
    row = {
        "number": "CN-1",
        "document_no": "INV1",
        "kind": "credit_note",
        "amount": "100.00",
        "dated_on": "2025-02-01",
        "reason": "price reduction",
    }
    row.update(values)
    return row


def ledger_with_two_items(build):
    acme = build.counterparty("ACME")
    build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 1, 31), "INV1")
    build.item(acme, "500.00", D(2025, 1, 10), D(2025, 3, 1), "INV2")
    db.session.commit()
    return acme


def outstanding(as_of=D(2025, 6, 30)) -> Decimal:
    rows = queries.aging(as_of)
    return sum((r.values["outstanding"] for r in rows), Decimal("0.00"))


def import_as(actor, path, dry_run=False):
    with acting_as(actor):
        result = import_file("adjustments", path, dry_run=dry_run)
        if result.written:
            db.session.commit()
        else:
            db.session.rollback()
    return result


def test_imported_adjustments_are_proposals_that_count_once_approved(build, make_user, tmp_path):
    ledger_with_two_items(build)
    rows = [
        adjustment_row(),
        adjustment_row(number="WO-1", document_no="INV2", kind="核销", amount="50", reason="坏账"),
    ]
    result = import_as(cli_actor(), write_csv(tmp_path / "a.csv", HEADER, rows))
    assert result.ok, [i.line() for i in result.issues]
    assert result.counts == {"adjustments": {"new": 2, "updated": 0, "unchanged": 0}}
    stored = {a.number: a for a in db.session.scalars(sa.select(Adjustment))}
    assert {a.status for a in stored.values()} == {"proposed"}
    assert stored["WO-1"].kind == "write_off" and stored["WO-1"].amount == Decimal("50.00")
    assert outstanding() == Decimal("1500.00")  # proposals change nothing
    approver = make_user("approver", "finance")
    for adjustment in stored.values():
        ledger.decide_adjustment(adjustment, approve=True, actor=approver)
    db.session.commit()
    assert outstanding() == Decimal("1350.00")
    # The same file again changes nothing, even once approved.
    again = import_as(cli_actor(), write_csv(tmp_path / "a.csv", HEADER, rows))
    assert again.ok and again.counts["adjustments"] == {"new": 0, "updated": 0, "unchanged": 2}


def test_the_importer_cannot_approve_their_own_proposals(build, make_user, tmp_path):
    ledger_with_two_items(build)
    importer = make_user("importer", "finance")
    result = import_as(
        Actor(importer.id, importer.username),
        write_csv(tmp_path / "a.csv", HEADER, [adjustment_row()]),
    )
    assert result.ok
    adjustment = db.session.scalar(sa.select(Adjustment))
    assert adjustment.proposed_by_id == importer.id
    with pytest.raises(ledger.LedgerError):
        ledger.decide_adjustment(adjustment, approve=True, actor=db.session.merge(importer))
    assert adjustment.status == "proposed"


def test_every_problem_is_reported_and_nothing_is_written(build, tmp_path):
    ledger_with_two_items(build)
    rows = [
        adjustment_row(document_no="NOPE"),  # row 2
        adjustment_row(number="CN-2", kind="discount"),  # row 3
        adjustment_row(number="CN-3", dated_on="2024-12-31"),  # row 4: before recognition
        adjustment_row(number="CN-4", amount="1000.01"),  # row 5: more than is open
        adjustment_row(number="CN-5", reason=""),  # row 6
        adjustment_row(number="CN-5"),  # row 7: duplicate number
        adjustment_row(number="CN-6", amount="-5"),  # row 8
        adjustment_row(number="CN-7"),  # row 9: fine on its own
    ]
    result = import_as(cli_actor(), write_csv(tmp_path / "a.csv", HEADER, rows))
    assert codes(result) == [
        (2, "document_no", "unknown_item"),
        (3, "kind", "unknown_adjustment_kind"),
        (4, "dated_on", "dated_before_recognition"),
        (5, "amount", "adjustment_exceeds_open"),
        (6, "reason", "required"),
        (7, "number", "duplicate_number"),
        (8, "amount", "amount_negative"),
    ]
    assert result.issues[3].params == {"amount": "1000.00"}  # what is open on INV1
    assert count(Adjustment) == 0


def test_room_is_what_receipts_have_not_paid(build, tmp_path):
    """The proposal is held to the service's rule: amount − approved credits − applications."""
    acme = ledger_with_two_items(build)
    build.receipt(acme, "900.00", D(2025, 2, 15), "R1")  # pays INV1 (due first) 900 of 1000
    db.session.commit()
    too_much = import_as(
        cli_actor(), write_csv(tmp_path / "a.csv", HEADER, [adjustment_row(amount="100.01")])
    )
    assert codes(too_much) == [(2, "amount", "adjustment_exceeds_open")]
    fits = import_as(
        cli_actor(), write_csv(tmp_path / "b.csv", HEADER, [adjustment_row(amount="100.00")])
    )
    assert fits.ok


def test_a_changed_proposal_is_updated_and_a_decided_one_refused(build, make_user, tmp_path):
    ledger_with_two_items(build)
    import_as(
        cli_actor(),
        write_csv(tmp_path / "a.csv", HEADER, [adjustment_row(), adjustment_row(number="CN-2")]),
    )
    changed = [adjustment_row(amount="80.00", reason="smaller"), adjustment_row(number="CN-2")]
    dry = import_as(cli_actor(), write_csv(tmp_path / "b.csv", HEADER, changed), dry_run=True)
    assert dry.ok and dry.counts["adjustments"] == {"new": 0, "updated": 1, "unchanged": 1}
    assert dry.changes == [
        {
            "table": "adjustments",
            "key": "CN-1",
            "fields": [["amount", "100.00", "80.00"], ["reason", "price reduction", "smaller"]],
        }
    ]
    assert db.session.scalar(
        sa.select(Adjustment.amount).where(Adjustment.number == "CN-1")
    ) == Decimal("100.00")
    assert import_as(cli_actor(), write_csv(tmp_path / "b.csv", HEADER, changed)).ok
    assert db.session.scalar(
        sa.select(Adjustment.amount).where(Adjustment.number == "CN-1")
    ) == Decimal("80.00")
    approver = make_user("approver", "finance")
    ledger.decide_adjustment(
        db.session.scalar(sa.select(Adjustment).where(Adjustment.number == "CN-2")),
        approve=False,
        actor=approver,
    )
    db.session.commit()
    refused = import_as(
        cli_actor(),
        write_csv(tmp_path / "c.csv", HEADER, [adjustment_row(number="CN-2", amount="1.00")]),
    )
    assert codes(refused) == [(2, "number", "adjustment_decided")]
    moved = import_as(
        cli_actor(), write_csv(tmp_path / "d.csv", HEADER, [adjustment_row(document_no="INV2")])
    )
    assert codes(moved) == [(2, "document_no", "adjustment_of_other_item")]


def test_export_holds_the_approved_ones_in_the_import_format(build, make_user, tmp_path):
    ledger_with_two_items(build)
    rows = [
        adjustment_row(),
        adjustment_row(number="=WO", document_no="INV2", kind="write_off", amount="50"),
        adjustment_row(number="CN-3", amount="1.00"),
    ]
    assert import_as(cli_actor(), write_csv(tmp_path / "a.csv", HEADER, rows)).ok
    approver = make_user("approver", "finance")
    stored = {a.number: a for a in db.session.scalars(sa.select(Adjustment))}
    ledger.decide_adjustment(stored["CN-1"], approve=True, actor=approver)
    ledger.decide_adjustment(stored["=WO"], approve=True, actor=approver)
    ledger.decide_adjustment(stored["CN-3"], approve=False, actor=approver)
    db.session.commit()
    columns, exported = exporter.export_table("adjustments")
    assert columns == HEADER
    assert list(exported) == [  # by counterparty, date, number
        ["=WO", "INV2", "write_off", Decimal("50.00"), D(2025, 2, 1), "price reduction"],
        ["CN-1", "INV1", "credit_note", Decimal("100.00"), D(2025, 2, 1), "price reduction"],
    ]
    text = spreadsheets.write_table(columns, exporter.adjustment_rows(), "csv").decode("utf-8-sig")
    assert "'=WO" in text  # neutralised, and read back without the apostrophe
    columns_zh, _rows = exporter.export_table("adjustments", language="zh")
    assert columns_zh[0] == "核销单号"


def test_the_command_line(app, runner, tmp_path):
    with app.app_context():
        from tests.ledger.conftest import LedgerBuilder

        ledger_with_two_items(LedgerBuilder())
    path = write_csv(tmp_path / "a.csv", HEADER, [adjustment_row()])
    result = runner.invoke(args=["ledger", "import", "adjustments", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing written" in result.output
    result = runner.invoke(args=["ledger", "import", "adjustments", str(path)])
    assert result.exit_code == 0, result.output
    assert "adjustments: 1 new, 0 updated, 0 unchanged" in result.output
    assert "1 proposal(s) await approval by another finance user" in result.output
    bad = write_csv(tmp_path / "b.csv", HEADER, [adjustment_row(number="X", document_no="NOPE")])
    result = runner.invoke(args=["ledger", "import", "adjustments", str(bad)])
    assert result.exit_code == 1
    assert (
        "row 2, column document_no, value 'NOPE': No item has this document number."
        in result.output
    )


def test_the_web_import_and_export(app, client, make_user):
    with app.app_context():
        from tests.ledger.conftest import LedgerBuilder

        ledger_with_two_items(LedgerBuilder())
    make_user("fin", "finance", language="en")
    login(client, "fin")
    assert "adjustments" in client.get("/ledger/import/").get_data(as_text=True)
    data = csv_bytes(HEADER, [adjustment_row()])
    job_id = finished_job(app, upload(client, data, "a.csv", kind="adjustments"))
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert re.search(r'data-table="adjustments">.*?data-count="new">1<', html, re.S)
    assert 'data-testid="awaiting-approval"' in html
    with app.app_context():
        adjustment = db.session.scalar(sa.select(Adjustment))
        assert adjustment.status == "proposed"
        assert adjustment.proposed_by.username == "fin"
        assert db.session.scalar(
            sa.select(Item.open_amount).where(Item.document_no == "INV1")
        ) == Decimal("1000.00")
    response = client.get("/ledger/export/adjustments?format=csv")
    assert response.status_code == 200
    assert response.get_data(as_text=True).splitlines()[0].lstrip("\ufeff") == ",".join(HEADER)


def test_xlsx_with_chinese_headers_and_date_cells(build, tmp_path):
    ledger_with_two_items(build)
    header = ["核销单号", "单据号", "类型", "金额", "核销日期", "原因"]
    rows = [["WO-9", "INV2", "核销", 12.5, D(2025, 3, 1), "无法收回"]]
    result = import_as(cli_actor(), write_xlsx(tmp_path / "a.xlsx", header, rows))
    assert result.ok, [i.line() for i in result.issues]
    adjustment = db.session.scalar(sa.select(Adjustment))
    assert (adjustment.kind, adjustment.amount, adjustment.dated_on) == (
        "write_off",
        Decimal("12.50"),
        D(2025, 3, 1),
    )
