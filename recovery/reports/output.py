"""A report as a table, and the file formats of the report contract (docs/reports.md).

CSV: UTF-8 without a BOM, "\\n" line endings, amounts as plain decimals with two places
("1234.50", written as numbers: never neutralised); text cells that start with = + - @ (or a
tab / carriage return) get a leading apostrophe so that a spreadsheet never runs them.
JSON: a list of objects with the table's columns as keys, amounts as two-decimal strings, text
as it is (JSON is not a spreadsheet). XLSX: recovery.core.spreadsheets (amounts as numbers).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from recovery.core.money import format_amount
from recovery.core.spreadsheets import neutralise, write_table

FORMATS = ("csv", "xlsx", "json")
BINARY_FORMATS = ("xlsx",)


@dataclass
class Table:
    """Columns and rows of plain values: str (text), Decimal (an amount in yuan) or int."""

    title: str
    columns: Sequence[str]
    rows: list[list] = field(default_factory=list)

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def _json_value(value):
    if isinstance(value, Decimal):
        return format_amount(value)
    return value


def render_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def render_json(table: Table) -> bytes:
    records = [
        {column: _json_value(value) for column, value in record.items()}
        for record in table.records()
    ]
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render_xlsx(table: Table) -> bytes:
    return write_table(table.columns, table.rows, "xlsx", title=table.title)


def render(table: Table, fmt: str) -> bytes:
    if fmt == "csv":
        return render_csv(table)
    if fmt == "json":
        return render_json(table)
    if fmt == "xlsx":
        return render_xlsx(table)
    raise ValueError(f"unknown format {fmt}")
