"""The importers fuzzed (issue 7, point 7): files made by hypothesis — rows of arbitrary text,
numbers, dates and empty cells around at least one cell that cannot be right, headers with
columns missing, repeated or unknown, stray cells, arbitrary bytes, broken workbooks — are
refused whole with row-and-column issues, and the database is exactly as it was: no item,
receipt, adjustment, counterparty, project, contract, application or audit row more, no open
amount changed. Nothing may raise: a bad file is an answer, not a crash."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from recovery.audit.context import acting_as, cli_actor
from recovery.audit.models import AuditLog
from recovery.extensions import db
from recovery.imports.formats import FORMATS
from recovery.imports.services import KINDS, import_file
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contract, Counterparty, Project
from tests.imports.conftest import (
    ITEM_HEADER,
    RECEIPT_HEADER,
    csv_bytes,
    item_row,
    receipt_row,
    write_xlsx,
)

ADJUSTMENT_HEADER = ["number", "document_no", "kind", "amount", "dated_on", "reason"]
HEADERS = {"items": ITEM_HEADER, "receipts": RECEIPT_HEADER, "adjustments": ADJUSTMENT_HEADER}

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def adjustment_row(**values) -> dict:
    row = {
        "number": "CN-9",
        "document_no": "BASE-1",
        "kind": "credit_note",
        "amount": "10.00",
        "dated_on": "2025-02-01",
        "reason": "price reduction",
    }
    row.update(values)
    return row


VALID = {
    "items": lambda n: item_row(document_no=f"FZ-{n}", counterparty_code=f"FZC{n % 3}"),
    "receipts": lambda n: receipt_row(receipt_no=f"FZR-{n}", counterparty_code="BASE"),
    "adjustments": lambda n: adjustment_row(number=f"FZA-{n}"),
}

# Per kind, a column and a value that can never be accepted there.
BROKEN = {
    "items": [
        ("amount", "十二块"),
        ("amount", "-5.00"),
        ("amount", "1.005"),
        ("due_on", "2025-02-30"),
        ("recognized_on", "yesterday"),
        ("item_type", "no-such-type"),
        ("counterparty_code", ""),
        ("document_no", ""),
        ("overdue_rate", "a lot"),
    ],
    "receipts": [
        ("amount", "NaN"),
        ("amount", "0"),
        ("received_on", "2025-13-01"),
        ("counterparty_code", "NOBODY-HERE"),
        ("method", "barter"),
        ("receipt_no", ""),
        ("document_no", "NO-SUCH-ITEM"),
    ],
    "adjustments": [
        ("amount", "1e400"),
        ("kind", "gift"),
        ("document_no", "NO-SUCH-ITEM"),
        ("dated_on", "31/31/2025"),
        ("reason", ""),
        ("number", ""),
    ],
}

# Cells of any kind: text (Chinese, control characters, formulas, very long), numbers, dates.
cell_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["=1+1", "@SUM(A1)", "\t", "\u3000", "１２３", "1,000.00", "￥5", "—", "0x10"]),
    st.text(alphabet="0123456789.-+e,", max_size=25),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat),
)
xlsx_cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=False),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 12, 31)),
    st.text(max_size=30).filter(lambda s: not s.startswith("=")),
)


@st.composite
def bad_rows(draw, kind: str):
    """Valid rows with fuzzed cells, one of them broken for sure."""
    header = HEADERS[kind]
    rows = [VALID[kind](n) for n in range(draw(st.integers(min_value=1, max_value=6)))]
    for row in rows:
        for column in draw(st.lists(st.sampled_from(header), max_size=3, unique=True)):
            row[column] = draw(cell_text)
    column, value = draw(st.sampled_from(BROKEN[kind]))
    draw(st.sampled_from(rows))[column] = value
    return rows


@st.composite
def bad_headers(draw, kind: str):
    """A header with a required column missing, or an unknown or repeated column."""
    header = list(HEADERS[kind])
    change = draw(st.sampled_from(["drop", "unknown", "repeat"]))
    if change == "drop":
        required = [column.name for column in FORMATS[kind] if column.required]
        header.remove(draw(st.sampled_from(required)))
    elif change == "unknown":
        name = draw(st.text(min_size=1, max_size=12).filter(lambda s: s.strip() not in header))
        header.insert(draw(st.integers(0, len(header))), name)
    else:
        header.append(draw(st.sampled_from(header)))
    return header


def fingerprint() -> tuple:
    """What an import could change, in a few numbers."""
    counts = tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (
            Item,
            Receipt,
            Adjustment,
            Application,
            Counterparty,
            Project,
            Contract,
            AuditLog,
        )
    )
    open_total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Item.open_amount), 0)))
    applied = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Application.amount), 0)))
    return (*counts, Decimal(open_total), Decimal(applied))


@pytest.fixture
def ledger(build):
    """A small ledger the files could touch: the counterparty BASE with an item and a
    receipt applied to it."""
    cp = build.counterparty(code="BASE")
    build.item(cp, 1000, date(2025, 1, 1), date(2025, 2, 1), document_no="BASE-1")
    build.receipt(cp, 100, date(2025, 3, 1))
    db.session.commit()
    return build


def refused_and_unchanged(kind: str, path) -> None:
    before = fingerprint()
    with acting_as(cli_actor()):
        result = import_file(kind, path)
    assert not result.ok, f"a bad {kind} file was accepted"
    assert result.counts == {}
    for issue in result.issues:
        assert issue.reason, issue
        # Each problem says where: a row (1 = the header) and, for a cell, its column.
        assert issue.row is None or issue.row >= 1
    assert fingerprint() == before
    db.session.rollback()
    assert fingerprint() == before


@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_rows_with_a_bad_cell_are_refused_whole(ledger, tmp_path, kind):
    @FUZZ
    @given(rows=bad_rows(kind), bom=st.booleans())
    def check(rows, bom):
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(csv_bytes(HEADERS[kind], rows, bom=bom))
        refused_and_unchanged(kind, path)

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_headers_are_refused_whole(ledger, tmp_path, kind):
    @FUZZ
    @given(header=bad_headers(kind))
    def check(header):
        rows = [VALID[kind](0)]
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(csv_bytes(header, [[r.get(h, "x") for h in header] for r in rows]))
        refused_and_unchanged(kind, path)

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_workbooks_with_a_bad_cell_are_refused_whole(ledger, tmp_path, kind):
    @settings(FUZZ, max_examples=15)
    @given(rows=bad_rows(kind), extra=st.lists(xlsx_cell, min_size=1, max_size=4))
    def check(rows, extra):
        header = HEADERS[kind]
        # Typed cells (numbers, dates, booleans) in one more row's last columns; the broken
        # cell stays where it is.
        typed = VALID[kind](99)
        for column, value in zip(reversed(header), extra, strict=False):
            typed[column] = value
        rows = [
            {
                k: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                for k, v in row.items()
            }
            for row in [*rows, typed]
        ]
        path = tmp_path / f"{kind}.xlsx"
        write_xlsx(path, header, rows)
        refused_and_unchanged(kind, path)

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_arbitrary_bytes_are_refused_without_a_crash(ledger, tmp_path, kind):
    @FUZZ
    @given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx"]))
    def check(data, suffix):
        path = tmp_path / f"{kind}{suffix}"
        path.write_bytes(data)
        before = fingerprint()
        with acting_as(cli_actor()):
            result = import_file(kind, path)
        # Random bytes cannot carry the required header: never accepted.
        assert not result.ok
        assert result.issues and all(issue.reason for issue in result.issues)
        assert fingerprint() == before
        db.session.rollback()

    check()


def test_a_truncated_workbook_is_refused(ledger, tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", ITEM_HEADER, [VALID["items"](1)])
    data = good.read_bytes()
    for cut in (10, len(data) // 3, len(data) - 30):
        path = tmp_path / "cut.xlsx"
        path.write_bytes(data[:cut])
        refused_and_unchanged("items", path)
    # A zip that is not a workbook.
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    refused_and_unchanged("items", path)


@pytest.mark.parametrize("kind", KINDS)
def test_a_nul_character_in_any_cell_is_refused(ledger, tmp_path, kind):
    """PostgreSQL cannot store or compare NUL in text: the fuzzing found one reaching a
    lookup. Every column, every kind: refused with the cell named, nothing written."""
    for column in HEADERS[kind]:
        row = VALID[kind](7)
        row[column] = "A\x00B"
        path = tmp_path / f"{kind}-{column}.csv"
        path.write_bytes(csv_bytes(HEADERS[kind], [row]))
        refused_and_unchanged(kind, path)


@pytest.mark.parametrize("value", [1e300, -1e300, 1e16, 123456789012345.6])
def test_huge_numbers_in_a_workbook_are_refused(ledger, tmp_path, value):
    """Found by the workbook fuzzing: quantizing a float like 1e300 raised instead of
    refusing the cell (amount and rate). (NaN and infinity cannot be stored in a workbook:
    openpyxl writes an empty cell.)"""
    for column in ("amount", "overdue_rate"):
        row = VALID["items"](5)
        row[column] = value
        path = tmp_path / f"{column}.xlsx"
        write_xlsx(path, ITEM_HEADER, [row])
        refused_and_unchanged("items", path)
