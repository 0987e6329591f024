"""Exports in the import's format (issue 3, point 5): columns, filters, who sees what, safety."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.imports.exporter import send_table
from recovery.parties import services as parties
from tests.conftest import login
from tests.imports.conftest import ITEM_HEADER, RECEIPT_HEADER
from tests.ledger.conftest import LedgerBuilder

D = date


def read_csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def ledger(app, make_user):
    """Two counterparties: ACME (sales user wang responsible) and BETA (nobody)."""
    wang = make_user("wang", "sales")
    make_user("li", "sales")
    with app.app_context():
        company = auth.create_department("集团", "company", None)
        sales = auth.create_department("销售部", "department", company)
        build = LedgerBuilder()
        acme = build.counterparty("ACME", name='=HYPERLINK("http://x")', kind="dealer")
        acme.responsible_id = wang.id
        beta = build.counterparty("BETA", name="乙公司")
        project = parties.save_project(code="P1", name="一号工程")
        contract = parties.save_contract(number="K1", counterparty_id=acme.id)
        build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 2, 1), document_no="A1",
                   project_id=project.id, contract_id=contract.id, department_id=sales.id,
                   responsible_id=wang.id, overdue_rate=Decimal("6.5000"))  # fmt: skip
        build.item(acme, "200.00", D(2025, 6, 1), D(2025, 7, 1), document_no="A2")
        build.item(beta, "300.00", D(2025, 1, 5), D(2025, 1, 20), document_no="B1",
                   item_type="retention")  # fmt: skip
        build.receipt(acme, "100.00", D(2025, 3, 1), receipt_no="R1", reference="@ref")
        build.receipt(beta, "50.00", D(2025, 3, 2), receipt_no="R2")
        db.session.commit()
    return app


def test_items_export_has_the_import_columns(ledger, client, login_as):
    login_as("finance")
    response = client.get("/ledger/export/items?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = read_csv(response)
    assert rows[0] == ITEM_HEADER
    assert rows[1] == [
        "ACME",
        '\'=HYPERLINK("http://x")',  # neutralised
        "dealer",
        "P1",
        "一号工程",
        "K1",
        "A1",
        "goods",
        "1000.00",
        "2025-01-01",
        "2025-02-01",
        "销售部",
        "wang",
        "6.5",
    ]
    assert [r[6] for r in rows[1:]] == ["A1", "A2", "B1"]
    assert rows[3][7] == "retention" and rows[3][11:] == ["", "", ""]


def test_receipts_export_has_the_import_columns(ledger, client, login_as):
    login_as("executive")
    rows = read_csv(client.get("/ledger/export/receipts?format=csv"))
    assert rows[0] == RECEIPT_HEADER
    assert rows[1:] == [
        ["R1", "ACME", "100.00", "2025-03-01", "transfer", "", "'@ref"],
        ["R2", "BETA", "50.00", "2025-03-02", "transfer", "", ""],
    ]


def test_xlsx_export_and_chinese_headers(ledger, client, login_as):
    login_as("legal")
    response = client.get("/ledger/export/items?format=xlsx&headers=zh")
    assert response.status_code == 200
    assert "spreadsheetml" in response.mimetype
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0][:3] == ("客户编码", "客户名称", "客户类型")
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][8] == 1000 and rows[1][9].date() == D(2025, 1, 1)


def test_filters_and_as_of(ledger, client, login_as):
    login_as("supervisor")
    with ledger.app_context():
        beta = parties.find_counterparty("BETA").id
    rows = read_csv(client.get(f"/ledger/export/items?counterparty_id={beta}"))
    assert [r[6] for r in rows[1:]] == ["B1"]
    rows = read_csv(client.get("/ledger/export/items?as_of=2025-03-01"))
    assert [r[6] for r in rows[1:]] == ["A1", "B1"]  # A2 is recognised in June
    rows = read_csv(client.get("/ledger/export/receipts?as_of=2025-03-01"))
    assert [r[0] for r in rows[1:]] == ["R1"]
    rows = read_csv(client.get("/ledger/export/items?overdue_only=1&as_of=2025-03-01"))
    assert [r[6] for r in rows[1:]] == ["A1", "B1"]
    assert client.get("/ledger/export/items?format=pdf").status_code == 400
    assert client.get("/ledger/export/items?as_of=2025-13-01").status_code == 400


def test_sales_export_only_their_own_accounts(ledger, client):
    login(client, "wang")
    items = read_csv(client.get("/ledger/export/items"))
    assert [r[6] for r in items[1:]] == ["A1", "A2"]
    receipts = read_csv(client.get("/ledger/export/receipts"))
    assert [r[0] for r in receipts[1:]] == ["R1"]
    other = ledger.test_client()
    login(other, "li")
    assert read_csv(other.get("/ledger/export/items"))[1:] == []
    assert read_csv(other.get("/ledger/export/receipts"))[1:] == []


@pytest.mark.parametrize("role", ["admin"])
def test_who_may_export(ledger, client, login_as, role):
    login_as(role)
    assert client.get("/ledger/export/items").status_code == 403
    assert client.get("/ledger/export/receipts").status_code == 403


def test_aging_export(ledger, client, login_as):
    login_as("finance")
    rows = read_csv(
        client.get("/ledger/export/aging?as_of=2025-06-30&by=counterparty&basis=due&format=csv")
    )
    assert rows[0][:4] == ["key", "name", "outstanding", "not_due"]
    assert [r[0] for r in rows[1:]] == ["ACME", "BETA"]
    assert rows[1][2] == "1100.00"
    assert client.get("/ledger/export/aging?by=nothing").status_code == 400


def test_templates(ledger, client, login_as):
    login_as("finance")
    rows = read_csv(client.get("/ledger/import/template/receipts.csv?headers=zh"))
    assert rows == [["回款单号", "客户编码", "金额", "回款日期", "回款方式", "单据号", "参考号"]]
    assert client.get("/ledger/import/template/items.xlsx").status_code == 200
    assert client.get("/ledger/import/template/other.csv").status_code == 404


def test_send_table_names_the_file_in_any_language(app):
    from datetime import datetime

    with app.test_request_context():
        response = send_table(["a", "b"], [["=1", datetime(2025, 1, 1, 8)]], "csv", "账龄 分析")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="__ __.csv"')
    assert "filename*=UTF-8''%E8%B4%A6%E9%BE%84%20%E5%88%86%E6%9E%90.csv" in disposition
    assert response.get_data().decode("utf-8").splitlines()[1] == "'=1,2025-01-01 08:00:00"
    with pytest.raises(ValueError):
        send_table(["a"], [], "pdf", "x")
