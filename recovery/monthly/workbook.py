"""An XLSX workbook of several sheets, with the cell rules of recovery.core.spreadsheets:
amounts (Decimal) as numbers shown with two decimals, dates as dates, and text that a
spreadsheet would run as a formula neutralised with a leading apostrophe.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from recovery.core.spreadsheets import neutralise

# Characters Excel refuses in a sheet title.
_BAD_TITLE = re.compile(r"[\[\]\*\?/\\:]")


@dataclass(frozen=True)
class Ratio:
    """A share (0.1234), written as a number shown as a percentage (12.3%)."""

    value: Decimal


@dataclass(frozen=True)
class Quantity:
    """A figure that is not money (days, an index), shown with ``places`` decimals."""

    value: Decimal
    places: int = 1


class Heading(list):
    """A row written in bold (a table's title or header inside a sheet)."""


@dataclass
class Sheet:
    title: str
    columns: Sequence[str]
    rows: list[Sequence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines written above the header


def _title(text: str, taken: set[str]) -> str:
    base = _BAD_TITLE.sub(" ", str(text)).strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


def _cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
    elif isinstance(value, Ratio):
        cell = WriteOnlyCell(sheet, value=value.value)
        cell.number_format = "0.0%"
    elif isinstance(value, Quantity):
        cell = WriteOnlyCell(sheet, value=value.value)
        cell.number_format = "0." + "0" * value.places if value.places else "0"
    elif isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
    elif value is None:
        cell = WriteOnlyCell(sheet, value=None)
    elif isinstance(value, int | str):
        cell = WriteOnlyCell(sheet, value=neutralise(value))
    else:
        cell = WriteOnlyCell(sheet, value=neutralise(str(value)))
    return cell


def _bold(sheet, values) -> list:
    from openpyxl.styles import Font

    cells = []
    for value in values:
        cell = _cell(sheet, value if not isinstance(value, str) else str(value))
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def write_workbook(sheets: Sequence[Sheet]) -> bytes:
    """The workbook's bytes: one sheet per Sheet, notes first, then the header and rows."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    for spec in sheets:
        sheet = workbook.create_sheet(title=_title(spec.title, taken))
        for note in spec.notes:
            sheet.append([_cell(sheet, str(note))])
        if spec.notes:
            sheet.append([])
        if spec.columns:
            sheet.append(_bold(sheet, spec.columns))
        for row in spec.rows:
            if isinstance(row, Heading):
                sheet.append(_bold(sheet, row))
            else:
                sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
