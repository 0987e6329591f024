"""Fixtures for import/export tests: files written on the fly, ledgers built or imported."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from tests.ledger.conftest import LedgerBuilder

ITEM_HEADER = [
    "counterparty_code",
    "counterparty_name",
    "counterparty_kind",
    "project_code",
    "project_name",
    "contract_no",
    "document_no",
    "item_type",
    "amount",
    "recognized_on",
    "due_on",
    "department",
    "responsible",
    "overdue_rate",
]
RECEIPT_HEADER = [
    "receipt_no",
    "counterparty_code",
    "amount",
    "received_on",
    "method",
    "document_no",
    "reference",
]


def item_row(**values) -> dict:
    row = {
        "counterparty_code": "C001",
        "counterparty_name": "甲公司",
        "counterparty_kind": "customer",
        "project_code": "",
        "project_name": "",
        "contract_no": "",
        "document_no": "INV001",
        "item_type": "goods",
        "amount": "1000.00",
        "recognized_on": "2025-01-01",
        "due_on": "2025-02-01",
        "department": "",
        "responsible": "",
        "overdue_rate": "",
    }
    row.update(values)
    return row


def receipt_row(**values) -> dict:
    row = {
        "receipt_no": "R001",
        "counterparty_code": "C001",
        "amount": "100.00",
        "received_on": "2025-03-01",
        "method": "transfer",
        "document_no": "",
        "reference": "",
    }
    row.update(values)
    return row


def csv_bytes(header, rows, bom=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def write_csv(path: Path, header, rows, bom=False) -> Path:
    path.write_bytes(csv_bytes(header, rows, bom))
    return path


def write_xlsx(path: Path, header, rows, formats: dict | None = None) -> Path:
    """An XLSX whose cells keep their Python types (dates become date cells)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header] if isinstance(row, dict) else row)
    for column, number_format in (formats or {}).items():
        index = header.index(column) + 1
        for cells in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            for cell in cells:
                cell.number_format = number_format
    workbook.save(path)
    workbook.close()
    return path


@pytest.fixture
def ctx(app):
    """An application context for the test's duration (service-level tests)."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def build(ctx):
    return LedgerBuilder()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def audit_count() -> int:
    from recovery.audit.models import AuditLog

    return count(AuditLog)


def codes(result) -> list[tuple]:
    """(row, column, code) of each issue, for compact assertions."""
    return [(i.row, i.column, i.code) for i in result.issues]


D = date
