"""flask --app recovery report monthly --month YYYY-MM --format pdf|xlsx --output FILE"""

from __future__ import annotations

import io

from openpyxl import load_workbook

from recovery.extensions import db
from tests.ledger.conftest import LedgerBuilder
from tests.monthly.scenario import JUNE, build_june
from tests.monthly.test_report import pdf_text


def command(*args):
    return ["report", "monthly", *args]


def test_pdf_and_xlsx(app, runner, tmp_path):
    with app.app_context():
        build_june(LedgerBuilder())
        db.session.remove()
    target = tmp_path / "june.pdf"
    result = runner.invoke(
        args=command(
            "--month", JUNE, "--format", "pdf", "--output", str(target), "--language", "en"
        )
    )
    assert result.exit_code == 0, result.output
    assert f"Monthly report 2026-06 written to {target}" in result.stderr
    text = pdf_text(target.read_bytes(), tmp_path)
    assert "Monthly report for head office 2026-06" in text
    assert "甲公司" in text and "3,033.79" in text and "213.41" in text
    book_path = tmp_path / "june.xlsx"
    result = runner.invoke(
        args=command("--month", JUNE, "--format", "xlsx", "--output", str(book_path))
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(io.BytesIO(book_path.read_bytes()))
    assert len(book.sheetnames) == 11  # the summary and ten sections


def test_bad_options(app, runner, tmp_path):
    target = tmp_path / "x.pdf"
    for month in ("2026-6", "2026-13", "June", "2026-06-30", ""):
        result = runner.invoke(args=command("--month", month, "--output", str(target)))
        assert result.exit_code == 2, (month, result.output)
        assert "is not a month written YYYY-MM" in result.stderr
        assert result.stdout == ""
    result = runner.invoke(
        args=command("--month", JUNE, "--format", "csv", "--output", str(target))
    )
    assert result.exit_code == 2 and "csv" in result.stderr
    result = runner.invoke(args=command("--month", JUNE))
    assert result.exit_code == 2 and "--output" in result.stderr
    result = runner.invoke(args=command("--output", str(target)))
    assert result.exit_code == 2 and "--month" in result.stderr
    # A month that has not begun, and a folder that does not exist: exit 1, nothing written.
    result = runner.invoke(args=command("--month", "2999-01", "--output", str(target)))
    assert result.exit_code == 1 and "2999-01" in result.stderr
    missing = tmp_path / "no-such-folder" / "x.pdf"
    result = runner.invoke(args=command("--month", JUNE, "--output", str(missing)))
    assert result.exit_code == 1 and "No such folder" in result.stderr
    assert not target.exists() and not missing.exists()
