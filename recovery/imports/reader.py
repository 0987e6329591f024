"""Reading an import file into rows of cells, and reading single cells into values.

CSV: UTF-8 with or without a byte-order mark; comma-separated (a header with no comma but
tabs or semicolons switches to those). Anything that is not UTF-8 is refused with the advice to
save as "CSV UTF-8" — no guessing of other encodings. XLSX: the first sheet; real date cells,
number cells and text cells are all accepted.

Rows are numbered as the spreadsheet shows them: the header is row 1. Completely blank rows
are skipped (they keep their numbers).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from recovery.core.money import AmountError, parse_amount
from recovery.core.spreadsheets import FORMULA_STARTS
from recovery.imports.messages import FileRefused, Issue

EXTENSIONS = (".csv", ".xlsx")


class CellError(ValueError):
    """A cell that cannot be read; the code is a key of messages.MESSAGES."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# ---------------------------------------------------------------------------------------------
# Files


def count_lines(path: Path) -> int:
    """A quick estimate of the number of rows (for the progress bar only)."""
    total = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            total += chunk.count(b"\n")
    return total


def read_rows(path: Path) -> tuple[int, Iterator[tuple[int, list]]]:
    """(estimated row count, iterator of (row number, cells)); the first row is the header.

    Raises FileRefused for an unknown extension, a file that is not UTF-8 or not a workbook,
    and an empty file. A bad byte found later, while iterating, also raises FileRefused.
    """
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise FileRefused(Issue(None, None, path.suffix, "bad_extension"))
    if path.stat().st_size == 0:
        raise FileRefused(Issue(None, None, "", "empty_file"))
    if suffix == ".csv":
        return count_lines(path), _csv_rows(path)
    return _xlsx_rows(path)


def _skip_blank(rows) -> Iterator[tuple[int, list]]:
    for number, cells in rows:
        if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
            yield number, cells


def _delimiter(first_line: str) -> str:
    if "," not in first_line:
        if "\t" in first_line:
            return "\t"
        if ";" in first_line:
            return ";"
    return ","


def _csv_rows(path: Path) -> Iterator[tuple[int, list]]:
    number = 0
    try:
        with open(path, encoding="utf-8-sig", newline="", errors="strict") as handle:
            first = handle.readline()
            handle.seek(0)
            reader = csv.reader(handle, delimiter=_delimiter(first), strict=False)
            for number, cells in enumerate(reader, start=1):  # noqa: B007
                yield number, cells
    except UnicodeDecodeError as exc:
        raise FileRefused(Issue(_first_bad_line(path), None, "", "not_utf8")) from exc
    except csv.Error as exc:
        raise FileRefused(Issue(number + 1, None, "", "not_csv", {"detail": str(exc)})) from exc


def _first_bad_line(path: Path) -> int:
    """The number of the first line that is not UTF-8 (the text reader decodes in blocks)."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def _xlsx_rows(path: Path) -> tuple[int, Iterator[tuple[int, list]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML or content-type errors: all mean "not a workbook"
        raise FileRefused(Issue(None, None, "", "not_xlsx")) from exc
    try:
        sheet = workbook.worksheets[0]
        estimate = sheet.max_row or 0
    except Exception as exc:
        workbook.close()
        raise FileRefused(Issue(None, None, "", "not_xlsx")) from exc

    def rows():
        try:
            for number, row in enumerate(sheet.iter_rows(), start=1):
                yield number, [_xlsx_value(cell) for cell in row]
        except FileRefused:
            raise
        except Exception as exc:
            raise FileRefused(Issue(None, None, "", "not_xlsx")) from exc
        finally:
            workbook.close()

    return estimate, rows()


class Percent(float):
    """A number from a cell formatted as a percentage (0.06 shown as 6 %)."""


def _xlsx_value(cell):
    value = getattr(cell, "value", None)
    if isinstance(value, float | int) and not isinstance(value, bool):
        number_format = getattr(cell, "number_format", "") or ""
        if "%" in number_format:
            return Percent(value)
    return value


def table_rows(path: Path) -> tuple[int, list, Iterator[tuple[int, list]]]:
    """(estimated data rows, header cells, iterator of data rows); blank rows skipped."""
    estimate, rows = read_rows(path)
    rows = _skip_blank(rows)
    first = next(rows, None)
    if first is None:
        raise FileRefused(Issue(None, None, "", "empty_file"))
    number, header = first
    return max(estimate - number, 0), header, rows


# ---------------------------------------------------------------------------------------------
# Cells


def shown(value) -> str:
    """A cell as the user would recognise it in an error message."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def text(value) -> str:
    """A text cell, stripped. Numbers in text columns (codes typed as numbers) keep their digits;
    a leading apostrophe that neutralised a formula-like value on export is removed."""
    if value.__class__ is str:  # the common case, first
        result = value.strip()
        if result[:1] == "'" and result[1:2] in _FORMULA_FIRST:
            return result[1:]
        return result
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return shown(value)
    result = str(value).strip()
    if result.startswith("'") and result[1:2] and result[1:].startswith(FORMULA_STARTS):
        result = result[1:]
    return result


_FORMULA_FIRST = frozenset(FORMULA_STARTS)
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_CHINESE_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


def _checked(day: date) -> date:
    if not 1900 <= day.year <= 2100:
        raise CellError("date_range")
    return day


def parse_date(value) -> date:
    """YYYY-MM-DD, YYYY/M/D (also with dots), 2025年1月5日, or a real date cell."""
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellError("date_with_time")
        return _checked(value.date())
    if isinstance(value, date):
        return _checked(value)
    raw = text(value)
    if not raw:
        raise CellError("required")
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None  # the detailed checks below say what is wrong
        if day is not None:
            return _checked(day)
    match = _DATE.match(raw) or _CHINESE_DATE.match(raw)
    if match is None:
        raise CellError("bad_date")
    year, month, day_of_month = (int(part) for part in match.groups())
    try:
        day = date(year, month, day_of_month)
    except ValueError as exc:
        raise CellError("impossible_date") from exc
    return _checked(day)


_AMOUNT_CODES = {
    "empty": "required",
    "not a number": "amount_not_number",
    "negative": "amount_negative",
    "zero": "amount_zero",
    "more than two decimals": "amount_precision",
    "too large": "amount_too_large",
}
# A number cell holds a binary fraction: 0.1 + 0.2 is 0.30000000000000004. Within this much of
# a whole number of fen, a cell is read as that amount; anything else is over-precise.
_FLOAT_SLACK = Decimal("0.000001")
_FLOAT_TOO_LARGE = Decimal(10) ** 15  # more than any amount or rate a cell may hold


# XLSX stores numbers as binary floats: a cell arrives as float and is turned into Decimal at
# once, through its shortest repr, then checked for over-precision like typed text.
def _decimal_from_float(value: float, places: Decimal) -> Decimal | None:  # float-ok
    exact = Decimal(repr(float(value)))  # float-ok
    if not exact.is_finite() or abs(exact) >= _FLOAT_TOO_LARGE:
        return None  # quantizing would raise; the callers refuse it as not a number / too large
    rounded = exact.quantize(places)
    if abs(exact - rounded) < _FLOAT_SLACK:
        return rounded
    return None


def parse_money(value) -> Decimal:
    """A positive amount with at most two decimals (Decimal; never a float)."""
    if isinstance(value, bool):
        raise CellError("amount_not_number")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):  # float-ok: NaN, inf
            raise CellError("amount_not_number")
        rounded = _decimal_from_float(value, Decimal("0.01"))
        value = rounded if rounded is not None else Decimal(repr(float(value)))  # float-ok
    elif isinstance(value, datetime | date):
        raise CellError("amount_not_number")
    try:
        return parse_amount(value if isinstance(value, Decimal | int) else text(value))
    except AmountError as exc:
        raise CellError(_AMOUNT_CODES.get(str(exc), "amount_not_number")) from exc


RATE_PLACES = Decimal("0.0001")


def parse_rate(value) -> Decimal | None:
    """An annual percentage (6 or 6.5 or "6.5%"; a cell formatted as 6.5 % too); blank: None."""
    if value is None:
        return None
    if isinstance(value, bool | datetime | date):
        raise CellError("rate_not_number")
    if isinstance(value, Percent):
        value = Decimal(repr(float(value))) * 100  # float-ok: an XLSX percent cell
    if isinstance(value, float):
        rounded = _decimal_from_float(value, RATE_PLACES)
        value = rounded if rounded is not None else Decimal(repr(value))
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raw = text(value).replace("％", "%")
        if not raw:
            return None
        raw = raw.removesuffix("%").strip()
        try:
            value = Decimal(raw)
        except InvalidOperation as exc:
            raise CellError("rate_not_number") from exc
    if not value.is_finite():
        raise CellError("rate_not_number")
    rounded = value.quantize(RATE_PLACES) if abs(value) < 10**6 else value
    if abs(value - rounded) >= _FLOAT_SLACK:
        raise CellError("rate_precision")
    if not 0 <= rounded <= 100:
        raise CellError("rate_range")
    return rounded
