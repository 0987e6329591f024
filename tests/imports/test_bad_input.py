"""Every kind of bad input is reported with its row, column, value and reason, and nothing is
written (issue 3, point 4)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.imports.services import import_file
from recovery.ledger.models import Item, Receipt
from recovery.parties.models import Counterparty
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


def refused(result):
    """The import reported problems (and so wrote nothing: writing starts only without any)."""
    assert not result.ok
    assert result.counts == {}
    return codes(result)


def test_missing_columns_are_named(ctx, tmp_path):
    header = [h for h in ITEM_HEADER if h not in ("amount", "due_on")]
    path = write_csv(tmp_path / "items.csv", header, [item_row()])
    result = import_file("items", path)
    assert refused(result) == [
        (1, "amount / 金额", "missing_column"),
        (1, "due_on / 约定付款日", "missing_column"),
    ]


def test_unknown_and_duplicate_columns(ctx, tmp_path):
    header = [*ITEM_HEADER, "colour", "金额"]
    path = write_csv(tmp_path / "items.csv", header, [item_row()])
    result = import_file("items", path)
    assert refused(result) == [
        (1, "colour", "unknown_column"),
        (1, "金额", "duplicate_column"),
    ]
    assert "counterparty_code" in result.issues[0].reason  # the expected columns are listed


def test_a_cell_without_a_header_is_refused(ctx, tmp_path):
    rows = [[*item_row().values(), "stray"]]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    assert refused(import_file("items", path)) == [(2, "O", "cell_without_header")]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("abc", "bad_date"),
        ("2025-02-30", "impossible_date"),
        ("2025/13/01", "impossible_date"),
        ("2025-1", "bad_date"),
        ("01/02/2025", "bad_date"),
        ("1899-12-31", "date_range"),
        ("", "required"),
    ],
)
def test_wrong_or_impossible_dates(ctx, tmp_path, value, code):
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(recognized_on=value)])
    result = import_file("items", path)
    assert refused(result) == [(2, "recognized_on", code)]
    assert result.issues[0].value == value


@pytest.mark.parametrize(
    "value", ["2025-01-05", "2025/1/5", "2025.1.5", "2025年1月5日", "2025-01-05 00:00:00"]
)
def test_accepted_date_forms(ctx, tmp_path, value):
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(recognized_on=value)])
    result = import_file("items", path)
    assert result.ok, codes(result)
    item = db.session.scalar(sa.select(Item))
    assert item.recognized_on == date(2025, 1, 5)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("-5", "amount_negative"),
        ("0", "amount_zero"),
        ("0.00", "amount_zero"),
        ("12.345", "amount_precision"),
        ("abc", "amount_not_number"),
        ("1e3", "amount_not_number"),
        ("", "required"),
        ("99999999999999", "amount_too_large"),
    ],
)
def test_bad_amounts(ctx, tmp_path, value, code):
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(amount=value)])
    assert refused(import_file("items", path)) == [(2, "amount", code)]


def test_unknown_type_and_kind(ctx, tmp_path):
    rows = [
        item_row(item_type="bananas"),
        item_row(document_no="INV002", counterparty_code="C002", counterparty_kind="alien"),
    ]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    assert refused(import_file("items", path)) == [
        (2, "item_type", "unknown_item_type"),
        (3, "counterparty_kind", "unknown_kind"),
    ]


def test_unknown_receipt_method(ctx, tmp_path, build):
    build.counterparty("C001")
    path = write_csv(tmp_path / "r.csv", RECEIPT_HEADER, [receipt_row(method="bitcoin")])
    assert refused(import_file("receipts", path)) == [(2, "method", "unknown_method")]


def test_due_date_before_recognition(ctx, tmp_path):
    row = item_row(recognized_on="2025-03-01", due_on="2025-02-01")
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [row])
    assert refused(import_file("items", path)) == [(2, "due_on", "due_before_recognized")]


def test_duplicate_document_numbers_inside_the_file(ctx, tmp_path):
    rows = [item_row(), item_row(amount="5.00"), item_row(document_no="INV002"), item_row()]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    result = import_file("items", path)
    assert refused(result) == [
        (3, "document_no", "duplicate_number"),
        (5, "document_no", "duplicate_number"),
    ]
    assert result.issues[0].params == {"row": 2}


def test_duplicate_receipt_numbers_inside_the_file(ctx, tmp_path, build):
    build.counterparty("C001")
    rows = [receipt_row(), receipt_row()]
    path = write_csv(tmp_path / "r.csv", RECEIPT_HEADER, rows)
    assert refused(import_file("receipts", path)) == [(3, "receipt_no", "duplicate_number")]
    assert count(Receipt) == 0


def test_receipt_naming_an_item_of_another_counterparty(ctx, tmp_path, build):
    acme = build.counterparty("C001")
    beta = build.counterparty("C002")
    build.item(acme, "100.00", date(2025, 1, 1), date(2025, 2, 1), document_no="INV-A")
    build.item(beta, "100.00", date(2025, 1, 1), date(2025, 2, 1), document_no="INV-B")
    rows = [
        receipt_row(document_no="INV-A"),  # fine: an item in the database, its own
        receipt_row(receipt_no="R002", document_no="INV-B"),  # another counterparty's
        receipt_row(receipt_no="R003", document_no="NOPE"),  # no such item
    ]
    path = write_csv(tmp_path / "r.csv", RECEIPT_HEADER, rows)
    result = import_file("receipts", path)
    assert refused(result) == [
        (3, "document_no", "item_of_other_counterparty"),
        (4, "document_no", "unknown_item"),
    ]
    assert result.issues[0].params == {"code": "C002"}
    assert count(Receipt) == 0


def test_receipt_of_an_unknown_counterparty(ctx, tmp_path):
    path = write_csv(tmp_path / "r.csv", RECEIPT_HEADER, [receipt_row(counterparty_code="X")])
    assert refused(import_file("receipts", path)) == [
        (2, "counterparty_code", "unknown_counterparty")
    ]


def test_invalid_utf8_is_refused_with_advice(ctx, tmp_path):
    path = tmp_path / "items.csv"
    good = ",".join(ITEM_HEADER) + "\r\n"
    path.write_bytes(good.encode() + "C001,甲公司".encode("gb18030") + b",x\r\n")
    result = import_file("items", path)
    assert refused(result) == [(2, None, "not_utf8")]
    assert "CSV UTF-8" in result.issues[0].reason


def test_a_gbk_file_is_not_guessed(ctx, tmp_path):
    path = tmp_path / "items.csv"
    text = ",".join(["客户编码", "单据号", "款项类型", "金额", "入账日期", "约定付款日"])
    path.write_bytes((text + "\r\n").encode("gbk"))
    assert refused(import_file("items", path)) == [(1, None, "not_utf8")]


def test_nul_bytes_are_refused(ctx, tmp_path):
    row = item_row(counterparty_name="甲\x00公司")
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [row])
    assert refused(import_file("items", path)) == [(2, "counterparty_name", "nul_character")]


def test_a_binary_file_named_csv(ctx, tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(b"%PDF-1.7\n\xe2\x28\xa1\x00\xff\xfe binary")
    assert refused(import_file("items", path)) == [(2, None, "not_utf8")]


def test_an_empty_file(ctx, tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(b"")
    assert refused(import_file("items", path)) == [(None, None, "empty_file")]
    path.write_bytes(b"\r\n \r\n,,,\r\n")
    assert refused(import_file("items", path)) == [(None, None, "empty_file")]


def test_a_header_without_rows(ctx, tmp_path):
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [])
    assert refused(import_file("items", path)) == [(None, None, "no_rows")]


def test_an_xlsx_that_is_not_a_workbook(ctx, tmp_path):
    path = tmp_path / "items.xlsx"
    path.write_bytes(b"counterparty_code,document_no\r\n")
    assert refused(import_file("items", path)) == [(None, None, "not_xlsx")]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert refused(import_file("items", path)) == [(None, None, "not_xlsx")]


def test_other_extensions_are_refused(ctx, tmp_path):
    path = tmp_path / "items.xls"
    path.write_bytes(b"whatever")
    assert refused(import_file("items", path)) == [(None, None, "bad_extension")]


def test_too_long_values(ctx, tmp_path):
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(document_no="X" * 65)])
    result = import_file("items", path)
    assert refused(result) == [(2, "document_no", "too_long")]
    assert result.issues[0].params == {"n": 64}


@pytest.mark.parametrize(
    ("value", "code"),
    [("abc", "rate_not_number"), ("150", "rate_range"), ("-1", "rate_range")],
)
def test_bad_rates(ctx, tmp_path, value, code):
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(overdue_rate=value)])
    assert refused(import_file("items", path)) == [(2, "overdue_rate", code)]


def test_every_error_of_the_file_is_reported_and_nothing_written(ctx, tmp_path, build):
    build.counterparty("C001", name="甲公司")
    before = audit_count()
    rows = [
        item_row(document_no="OK1"),
        item_row(document_no="BAD1", amount="-1", due_on="abc"),
        item_row(document_no="OK2"),
        item_row(document_no="BAD2", item_type="??", department="Nowhere", responsible="ghost"),
    ]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    result = import_file("items", path)
    assert set(refused(result)) == {
        (3, "amount", "amount_negative"),
        (3, "due_on", "bad_date"),
        (5, "item_type", "unknown_item_type"),
        (5, "department", "unknown_department"),
        (5, "responsible", "unknown_user"),
    }
    assert [i.row for i in result.issues] == sorted(i.row for i in result.issues)
    assert count(Item) == 0
    assert audit_count() == before


def test_rows_disagreeing_about_a_counterparty(ctx, tmp_path):
    rows = [
        item_row(document_no="A"),
        item_row(document_no="B", counterparty_name="乙公司", counterparty_kind="dealer"),
        item_row(document_no="C", counterparty_code="NEW", counterparty_name=""),
    ]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    assert refused(import_file("items", path)) == [
        (3, "counterparty_name", "counterparty_name_conflict"),
        (3, "counterparty_kind", "counterparty_kind_conflict"),
        (4, "counterparty_name", "new_counterparty_needs_name"),
    ]
    assert count(Counterparty) == 0


def test_a_contract_of_another_counterparty(ctx, tmp_path, build):
    from recovery.parties import services as parties

    beta = build.counterparty("C002")
    parties.save_contract(number="K1", counterparty_id=beta.id)
    rows = [item_row(contract_no="K1")]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    assert refused(import_file("items", path)) == [
        (2, "contract_no", "contract_of_other_counterparty")
    ]


def test_a_document_cannot_move_to_another_counterparty(ctx, tmp_path, build):
    beta = build.counterparty("C002")
    build.item(beta, "10.00", date(2025, 1, 1), date(2025, 1, 1), document_no="INV001")
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row()])
    assert refused(import_file("items", path)) == [
        (2, "counterparty_code", "document_of_other_counterparty")
    ]


def test_an_amount_below_approved_credits(ctx, tmp_path, build, make_user):
    from decimal import Decimal

    from recovery.ledger import services as ledger

    proposer = make_user("proposer", "finance")
    approver = make_user("approver", "finance")
    acme = build.counterparty("C001", name="甲公司")
    item = build.item(acme, "1000.00", date(2025, 1, 1), date(2025, 2, 1), document_no="INV001")
    adjustment = ledger.propose_adjustment(
        item,
        kind="write_off",
        amount=Decimal("600.00"),
        dated_on=date(2025, 3, 1),
        reason="bad debt",
        number="W1",
        actor=proposer,
    )
    ledger.decide_adjustment(adjustment, approve=True, actor=approver)
    db.session.commit()
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(amount="500.00")])
    result = import_file("items", path)
    assert codes(result) == [(2, "amount", "below_credits")]
    assert result.issues[0].params == {"amount": "600.00"}


def test_xlsx_cells_of_the_wrong_type(ctx, tmp_path):
    rows = [item_row(recognized_on=datetime(2025, 1, 1, 13, 30), amount=True)]
    rows[0]["due_on"] = date(2025, 2, 1)
    path = write_xlsx(tmp_path / "items.xlsx", ITEM_HEADER, rows)
    assert refused(import_file("items", path)) == [
        (2, "amount", "amount_not_number"),
        (2, "recognized_on", "date_with_time"),
    ]
