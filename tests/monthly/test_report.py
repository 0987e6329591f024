"""The monthly report's figures, its PDF read back and its workbook."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from recovery.monthly import report
from recovery.monthly.workbook import Ratio
from tests.monthly.scenario import JUNE, build_june

TODAY = date(2026, 7, 5)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def section(built, key):
    return next(s for s in built.sections if s.key == key)


def table(part, title):
    return next(t for t in part.tables if str(t.title) == title)


def test_parse_month():
    assert report.parse_month("2026-06").first == date(2026, 6, 1)
    assert report.parse_month("2026-02").last == date(2026, 2, 28)
    for bad in ("2026-6", "2026-13", "June", "2026/06", "", "2026-06-01", "20a6-06"):
        with pytest.raises(report.ReportError):
            report.parse_month(bad)
    with pytest.raises(report.ReportError):
        report.check_month(report.parse_month("2026-08"), TODAY)


def test_own_sections_by_hand(build):
    build_june(build)
    with force_locale("en"):  # the titles are lazy: read them in the same language
        check_own_sections(report.build(report.parse_month(JUNE), today=TODAY))


def check_own_sections(built):
    assert built.as_of == date(2026, 6, 30)
    receivables = section(built, "receivables")
    figures = {str(label): value for label, value in receivables.figures}
    assert figures["Receivables at the month's end"] == Decimal("3033.79")
    assert figures["Of which overdue"] == Decimal("2433.79")
    assert figures["Money received in the month"] == Decimal("400.00")
    flow = table(receivables, "Receivables of the month")
    assert [row[1] for row in flow.rows] == [
        Decimal("2433.79"),
        Decimal("1000.00"),
        Decimal("-400.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    ]
    assert flow.total[1] == Decimal("3033.79")
    top = table(receivables, "The 10 largest overdue counterparties")
    assert [row[0] for row in top.rows] == ["A01", "B01", "C01", "A02"]
    departments = table(receivables, "By department")
    assert [row[0] for row in departments.rows] == ["营销一部", "营销二部"]
    assert departments.rows[1][1:4] == [Decimal("700.00"), Decimal("600.00"), Decimal("100.00")]

    aging = section(built, "aging")
    due = table(aging, "By days past due (collection view)")
    assert due.rows[0][1] == Decimal("600.00")  # not due: D01
    assert due.total[1] == Decimal("3033.79")
    age = table(aging, "By account age (账龄, accounting view)")
    assert age.rows[0][1] == Decimal("2400.30")  # within a year: 1800.30 + 600.00
    assert age.rows[0][2] == Ratio(Decimal("0.7912"))

    provisions = section(built, "provisions")
    figures = {str(label): value for label, value in provisions.figures}
    assert figures["Total provision at the month's end"] == Decimal("213.41")
    movement = table(provisions, "Movement")
    assert movement.total[1] == Decimal("213.41")
    assert movement.rows[0][1] == Decimal("0.00")  # no period closed before

    cases = section(built, "cases")
    figures = {str(label): value for label, value in cases.figures}
    assert figures["Cases opened in the month"] == 1
    by_status = table(cases, "Cases not closed at the month's end, by status")
    assert by_status.rows == [["Open", 1, Decimal("1433.59")]]


def test_the_pdf_read_back(build, tmp_path):
    build_june(build)
    with force_locale("en"):
        data, built = report.generate(
            report.parse_month(JUNE), "pdf", today=TODAY, generated_by="陈明"
        )
        unavailable = [str(s.title) for s in built.unavailable]
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    assert "Monthly report for head office 2026-06" in text
    assert "示例集团有限公司" in text  # the company (setting company.name)
    assert "2026-06-01 to 2026-06-30" in text
    assert "陈明" in text
    for name in ("甲公司", "丙公司", "营销二部"):
        assert name in text
    for amount in ("3,033.79", "2,433.79", "1,433.59", "213.41"):
        assert amount in text
    for title in ("Receivables", "Aging", "Recovery cases", "Bad-debt provision"):
        assert title in text
    # What is missing is said, never filled in.
    for title in unavailable:
        assert title in text
    if built.missing_sources:
        assert "Not included" in text


def test_the_workbook(build):
    build_june(build)
    with force_locale("en"):
        data, built = report.generate(report.parse_month(JUNE), "xlsx", today=TODAY)
        titles = [str(s.title)[:31] for s in built.sections]
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Summary"
    assert book.sheetnames[1:] == titles
    summary = list(book["Summary"].values)
    assert summary[0][:2] == ("Monthly report for head office", "2026-06")
    receivables = list(book["Receivables"].values)
    labels = {row[0]: row[1] for row in receivables if row and row[0]}
    assert labels["Receivables at the month's end"] == 3033.79
    assert labels["Closing"] == 3033.79
    provision = list(book["Bad-debt provision"].values)
    assert any(row[0] == "Total" and row[3] == 213.41 for row in provision if row)


def test_a_missing_source_is_reported_not_faked(build, tmp_path, monkeypatch):
    build_june(build)
    monkeypatch.setitem(
        report.SOURCES, "lawsuits", ("recovery.not_installed.services:lawsuits_by_stage",)
    )
    with force_locale("en"):
        data, built = report.generate(report.parse_month(JUNE), "pdf", today=TODAY)
    lawsuits = section(built, "lawsuits")
    assert not lawsuits.available
    assert lawsuits.tables == [] and lawsuits.figures == []
    assert "recovery.not_installed.services.lawsuits_by_stage" in built.missing_sources
    text = pdf_text(data, tmp_path)
    assert "Not included" in text
    assert "recovery.not_installed.services.lawsuits_by_stage" in text


def test_resolve():
    assert report.resolve("recovery.not_installed:anything") is None
    assert report.resolve("recovery.monthly.report:nothing_here") is None
    assert report.resolve("recovery.monthly.report:parse_month") is report.parse_month
