"""What a correct file does: creates, updates (audited), leaves alone, replays allocation."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from recovery.audit.models import AuditLog
from recovery.auth import services as auth
from recovery.extensions import db
from recovery.imports.services import import_file
from recovery.ledger import queries
from recovery.ledger.models import Application, Item, Receipt
from recovery.parties.models import Contract, Counterparty, Project
from tests.imports.conftest import (
    ITEM_HEADER,
    RECEIPT_HEADER,
    audit_count,
    codes,
    count,
    item_row,
    receipt_row,
    write_csv,
    write_xlsx,
)

D = date


def imported(kind, path, **kwargs):
    result = import_file(kind, path, **kwargs)
    assert result.ok, [i.line() for i in result.issues]
    db.session.commit()
    return result


def item(number) -> Item:
    return db.session.scalar(sa.select(Item).where(Item.document_no == number))


def test_items_create_counterparties_projects_and_contracts(ctx, tmp_path):
    rows = [
        item_row(project_code="P1", project_name="一号工程", contract_no="K1", overdue_rate="6.5"),
        item_row(document_no="INV002", item_type="进度款", amount="1,234.50", contract_no="K1"),
        item_row(document_no="INV003", counterparty_code="C002", counterparty_name="乙公司"),
    ]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    result = imported("items", path)
    assert result.counts == {
        "items": {"new": 3, "updated": 0, "unchanged": 0},
        "counterparties": {"new": 2, "updated": 0},
        "projects": {"new": 1, "updated": 0},
        "contracts": {"new": 1, "updated": 0},
    }
    first, second = item("INV001"), item("INV002")
    assert first.counterparty.name == "甲公司" and first.counterparty.kind == "customer"
    assert first.project.name == "一号工程" and first.contract.number == "K1"
    assert first.contract.project_id == first.project_id
    assert first.overdue_rate == Decimal("6.5")
    assert first.open_amount == first.amount == Decimal("1000.00")
    assert second.item_type == "progress" and second.category == "accounts_receivable"
    assert second.amount == Decimal("1234.50")
    assert second.project_id is None and second.contract_id == first.contract_id


def test_every_new_row_is_in_the_audit_trail(ctx, tmp_path):
    rows = [item_row(), item_row(document_no="INV002")]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    imported("items", path)
    entries = db.session.execute(
        sa.select(AuditLog.table_name, AuditLog.action, AuditLog.changes, AuditLog.actor_name)
    ).all()
    assert sorted((t, a) for t, a, _c, _n in entries) == [
        ("counterparties", "insert"),
        ("items", "insert"),
        ("items", "insert"),
    ]
    changes = json.loads(next(c for t, _a, c, _n in entries if t == "items"))
    assert changes["document_no"] == [None, "INV001"]
    assert changes["amount"] == [None, "1000.00"]
    assert changes["recognized_on"] == [None, "2025-01-01"]
    from recovery.audit.services import verify_chain

    assert verify_chain(db.session.connection()).ok


def test_reimporting_the_same_file_changes_nothing(ctx, tmp_path):
    rows = [
        item_row(project_code="P1", project_name="一号工程", contract_no="K1", overdue_rate="6"),
        item_row(document_no="INV002", amount="50"),
    ]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    imported("items", path)
    receipts = write_csv(
        tmp_path / "r.csv", RECEIPT_HEADER, [receipt_row(document_no="INV002", reference="x")]
    )
    imported("receipts", receipts)
    before = (audit_count(), count(Item), count(Receipt), count(Counterparty), count(Project))
    again = imported("items", path)
    assert again.counts["items"] == {"new": 0, "updated": 0, "unchanged": 2}
    assert again.counts["counterparties"] == {"new": 0, "updated": 0}
    assert again.reallocated == 0 and again.changes == []
    again = imported("receipts", receipts)
    assert again.counts["receipts"] == {"new": 0, "updated": 0, "unchanged": 1}
    after = (audit_count(), count(Item), count(Receipt), count(Counterparty), count(Project))
    assert after == before


def test_a_changed_row_updates_its_document_audited(ctx, tmp_path):
    later = {"document_no": "B", "due_on": "2025-06-01"}
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(), item_row(**later)])
    imported("items", path)
    receipts = write_csv(tmp_path / "r.csv", RECEIPT_HEADER, [receipt_row(amount="600.00")])
    imported("receipts", receipts)
    assert item("INV001").open_amount == Decimal("400.00")
    before = audit_count()

    changed = [item_row(amount="500.00", due_on="2025-03-01"), item_row(**later)]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, changed)
    result = imported("items", path)
    assert result.counts["items"] == {"new": 0, "updated": 1, "unchanged": 1}
    assert result.changes == [
        {
            "table": "items",
            "key": "INV001",
            "fields": [["amount", "1000.00", "500.00"], ["due_on", "2025-02-01", "2025-03-01"]],
        }
    ]
    assert count(Item) == 2
    updates = db.session.execute(
        sa.select(AuditLog.table_name, AuditLog.action, AuditLog.changes).where(
            AuditLog.action == "update"
        )
    ).all()
    assert [(t, a) for t, a, _c in updates] == [("items", "update")]
    assert json.loads(updates[0][2]) == {
        "amount": ["1000.00", "500.00"],
        "due_on": ["2025-02-01", "2025-03-01"],
    }
    assert audit_count() == before + 1
    # Allocation was replayed: the 600 now pays the whole 500 (due first) and 100 of B.
    assert item("INV001").open_amount == Decimal("0.00")
    assert item("B").open_amount == Decimal("900.00")


def test_counterparty_and_project_names_are_updated(ctx, tmp_path):
    rows = [item_row(project_code="P1", project_name="旧名")]
    imported("items", write_csv(tmp_path / "a.csv", ITEM_HEADER, rows))
    new_names = {"counterparty_name": "甲公司（新）", "project_name": "新名"}
    rows = [item_row(counterparty_kind="经销商", project_code="P1", **new_names)]
    result = imported("items", write_csv(tmp_path / "b.csv", ITEM_HEADER, rows))
    assert result.counts["counterparties"] == {"new": 0, "updated": 1}
    assert result.counts["projects"] == {"new": 0, "updated": 1}
    assert result.counts["items"]["unchanged"] == 1
    counterparty = db.session.scalar(sa.select(Counterparty))
    assert (counterparty.name, counterparty.kind) == ("甲公司（新）", "dealer")
    assert db.session.scalar(sa.select(Project.name)) == "新名"
    assert {(c["table"], c["key"]) for c in result.changes} == {
        ("counterparties", "C001"),
        ("projects", "P1"),
    }


def test_blank_department_and_responsible_default_to_the_counterpartys(ctx, tmp_path, make_user):
    company = auth.create_department("集团公司", "company", None)
    department = auth.create_department("华东销售部", "department", company)
    db.session.commit()
    make_user("wang", "sales")
    make_user("li", "sales")
    from recovery.parties import services as parties

    wang = auth.find_user("wang")
    parties.save_counterparty(
        code="C001", name="甲公司", department_id=department.id, responsible_id=wang.id
    )
    db.session.commit()
    rows = [item_row(), item_row(document_no="INV002", responsible="LI", department="华东销售部")]
    imported("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    first, second = item("INV001"), item("INV002")
    assert (first.department_id, first.responsible.username) == (department.id, "wang")
    assert (second.department_id, second.responsible.username) == (department.id, "li")
    # The counterparty's defaults change later: the same file still changes nothing.
    counterparty = parties.find_counterparty("C001")
    counterparty.responsible_id = auth.find_user("li").id
    db.session.commit()
    again = imported("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    assert again.counts["items"] == {"new": 0, "updated": 0, "unchanged": 2}
    assert item("INV001").responsible.username == "wang"


def test_bom_chinese_headers_and_chinese_names(ctx, tmp_path):
    header = ["客户编码", "客户名称", "客户类型", "单据号", "款项类型", "金额", "入账日期",
              "约定付款日", "逾期利率"]  # fmt: skip
    rows = [
        ["C001", "甲公司", "经销商", "INV001", "主机货款", "100.00", "2025/1/5", "2025/2/5", "6%"],
        ["C001", "甲公司", "经销商", "INV002", "质保金", "50", "2025-01-05", "2026-01-05", ""],
    ]
    path = write_csv(tmp_path / "items.csv", header, rows, bom=True)
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    imported("items", path)
    first, second = item("INV001"), item("INV002")
    assert (first.item_type, first.counterparty.kind) == ("goods", "dealer")
    assert first.overdue_rate == Decimal("6")
    assert (second.item_type, second.category) == ("retention", "accounts_receivable")
    receipts = write_csv(
        tmp_path / "r.csv",
        ["回款单号", "客户编码", "回款金额", "回款日期", "回款方式", "单据号", "备注"],
        [["R1", "C001", "30", "2025-03-01", "承兑汇票", "INV002", "票号 123"]],
        bom=True,
    )
    imported("receipts", receipts)
    receipt = db.session.scalar(sa.select(Receipt))
    assert (receipt.method, receipt.item_id, receipt.reference) == (
        "acceptance_bill",
        second.id,
        "票号 123",
    )


def test_xlsx_with_date_cells_numbers_and_percentages(ctx, tmp_path):
    rows = [
        item_row(
            recognized_on=datetime(2025, 1, 5),
            due_on=date(2025, 2, 5),
            amount=1234.5,
            overdue_rate=0.065,
            document_no=20250001,
        ),  # fmt: skip
        item_row(
            document_no="INV2",
            amount=0.1 + 0.2,
            recognized_on="2025/1/6",
            due_on="2025-02-06",
            overdue_rate=None,
        ),  # fmt: skip
    ]
    path = write_xlsx(tmp_path / "items.xlsx", ITEM_HEADER, rows, {"overdue_rate": "0.00%"})
    imported("items", path)
    first, second = item("20250001"), item("INV2")
    assert (first.recognized_on, first.due_on) == (D(2025, 1, 5), D(2025, 2, 5))
    assert first.amount == Decimal("1234.50")
    assert first.overdue_rate == Decimal("6.5")
    assert second.amount == Decimal("0.30")  # a sum stored as 0.30000000000000004
    assert second.recognized_on == D(2025, 1, 6)


def test_xlsx_reads_only_the_first_sheet(ctx, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(ITEM_HEADER)
    workbook.active.append(list(item_row().values()))
    other = workbook.create_sheet("notes")
    other.append(["anything", "at", "all"])
    path = tmp_path / "items.xlsx"
    workbook.save(path)
    workbook.close()
    assert imported("items", path).counts["items"]["new"] == 1


def test_dry_run_writes_nothing_and_shows_the_changes(ctx, tmp_path):
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row()])
    dry = import_file("items", path, dry_run=True)
    assert dry.ok and dry.counts["items"] == {"new": 1, "updated": 0, "unchanged": 0}
    db.session.rollback()
    assert count(Item) == 0 and count(Counterparty) == 0 and audit_count() == 0
    imported("items", path)
    before = audit_count()
    changed = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(amount="999.99")])
    dry = import_file("items", changed, dry_run=True)
    db.session.rollback()
    assert dry.counts["items"] == {"new": 0, "updated": 1, "unchanged": 0}
    assert dry.changes == [
        {"table": "items", "key": "INV001", "fields": [["amount", "1000.00", "999.99"]]}
    ]
    assert item("INV001").amount == Decimal("1000.00")
    assert audit_count() == before


def test_receipts_update_and_replay_allocation(ctx, tmp_path):
    rows = [item_row(), item_row(document_no="INV002", due_on="2025-01-15")]
    imported("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    receipts = write_csv(tmp_path / "r.csv", RECEIPT_HEADER, [receipt_row(amount="1200.00")])
    imported("receipts", receipts)
    # No item named: the earliest due (INV002) first, the rest to INV001.
    assert item("INV002").open_amount == Decimal("0.00")
    assert item("INV001").open_amount == Decimal("800.00")
    # The same receipt now names INV001: it pays that first.
    receipts = write_csv(
        tmp_path / "r.csv", RECEIPT_HEADER, [receipt_row(amount="1200.00", document_no="INV001")]
    )
    result = imported("receipts", receipts)
    assert result.counts["receipts"] == {"new": 0, "updated": 1, "unchanged": 0}
    assert result.changes[0]["fields"] == [["document_no", "", "INV001"]]
    assert item("INV001").open_amount == Decimal("0.00")
    assert item("INV002").open_amount == Decimal("800.00")
    assert count(Receipt) == 1


def test_only_affected_counterparties_are_replayed(ctx, tmp_path):
    rows = [item_row(), item_row(document_no="B1", counterparty_code="B", counterparty_name="乙")]
    imported("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    receipts = [receipt_row(), receipt_row(receipt_no="R2", counterparty_code="B")]
    first = imported("receipts", write_csv(tmp_path / "r.csv", RECEIPT_HEADER, receipts))
    assert first.reallocated == 2
    receipts[1]["amount"] = "50.00"
    second = imported("receipts", write_csv(tmp_path / "r.csv", RECEIPT_HEADER, receipts))
    assert second.reallocated == 1
    b = db.session.scalar(sa.select(Counterparty.id).where(Counterparty.code == "B"))
    assert db.session.scalar(
        sa.select(sa.func.sum(Application.amount)).where(Application.counterparty_id == b)
    ) == Decimal("50.00")
    # A change that does not move money (the reference) replays nobody.
    receipts[1]["reference"] = "new reference"
    third = imported("receipts", write_csv(tmp_path / "r.csv", RECEIPT_HEADER, receipts))
    assert third.counts["receipts"]["updated"] == 1 and third.reallocated == 0


def test_new_items_of_an_existing_counterparty_take_its_unapplied_credit(ctx, tmp_path, build):
    acme = build.counterparty("C001", name="甲公司")
    build.receipt(acme, "300.00", D(2025, 1, 10))
    db.session.commit()
    imported("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row()]))
    assert item("INV001").open_amount == Decimal("700.00")
    rows = queries.aging(D(2025, 6, 1))
    assert rows[0].values["outstanding"] == Decimal("700.00")
    assert rows[0].values["unapplied_credit"] == Decimal("0.00")


def test_neutralised_formula_text_is_read_back(ctx, tmp_path):
    rows = [item_row(counterparty_name="'=HYPERLINK(1)", document_no="'-5")]
    imported("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    assert item("-5").counterparty.name == "=HYPERLINK(1)"


def test_a_contract_keeps_one_counterparty_and_takes_its_project(ctx, tmp_path):
    rows = [item_row(contract_no="K1"), item_row(document_no="B", contract_no="K1",
                                                 project_code="P1")]  # fmt: skip
    imported("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    contract = db.session.scalar(sa.select(Contract))
    assert contract.project.code == "P1"
    rows.append(item_row(document_no="C", contract_no="K1", counterparty_code="C9",
                         counterparty_name="丙"))  # fmt: skip
    result = import_file("items", write_csv(tmp_path / "items.csv", ITEM_HEADER, rows))
    assert codes(result) == [
        (4, "contract_no", "contract_counterparty_conflict"),
        (4, "contract_no", "contract_of_other_counterparty"),
    ]
