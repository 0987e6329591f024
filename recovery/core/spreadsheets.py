"""Writing tables to CSV and XLSX, safely.

Text cells that start with = + - @ (or a tab / carriage return) are neutralised with a leading
apostrophe so that a spreadsheet never runs them as a formula. Decimal amounts are written as
numbers in XLSX (two decimals shown) and as plain "1234.50" text in CSV; dates as ISO dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value):
    """A text cell that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(neutralise(value))


def write_csv(columns: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(
    columns: Sequence[str], rows: Iterable[Sequence], sheet_title: str = "data"
) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([neutralise(c) for c in columns])
    from openpyxl.cell import WriteOnlyCell

    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "0.00"
            elif isinstance(value, datetime | date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = (
                    "yyyy-mm-dd" if not isinstance(value, datetime) else ("yyyy-mm-dd hh:mm:ss")
                )
            else:
                cell = WriteOnlyCell(sheet, value=neutralise(value))
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_table(columns: Sequence[str], rows: Iterable[Sequence], fmt: str, title="data") -> bytes:
    if fmt == "csv":
        return write_csv(columns, rows)
    if fmt == "xlsx":
        return write_xlsx(columns, rows, title)
    raise ValueError(f"unknown format {fmt}")
