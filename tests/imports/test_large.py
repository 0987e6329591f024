"""A 50 MB file is processed, not refused for its size, and never crashes (issue 3, point 4).

The application accepts uploads up to RECOVERY_MAX_UPLOAD_MB (64 by default); a larger body
is refused with 413 before anything is stored (tests/imports/test_web.py)."""

from __future__ import annotations

from datetime import date, timedelta

from recovery.imports.services import import_file
from tests.imports.conftest import ITEM_HEADER

MB = 1024 * 1024


def write_large_csv(path, target_bytes: int) -> int:
    """Rows with long Chinese names (about 1 kB each) until the file is ``target_bytes``."""
    names = {n: "客户" + "甲乙丙丁戊己庚辛壬癸" * 14 + f"{n:04d}" for n in range(500)}
    project = "项目" + "东南西北中" * 29
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(ITEM_HEADER) + "\r\n")
        size = 0
        start = date(2024, 1, 1)
        while size < target_bytes:
            n = rows % 500
            recognized = start + timedelta(days=rows % 400)
            due = recognized + timedelta(days=30)
            line = (
                f"C{n:04d},{names[n]},dealer,P{n % 50:03d},{project}{n % 50:03d},,"
                f"INV{rows:08d},goods,{1000 + rows % 997}.50,{recognized},{due},,,\r\n"
            )
            handle.write(line)
            size += len(line.encode("utf-8"))
            rows += 1
    return rows


def test_a_50_mb_file_is_checked_in_full(ctx, tmp_path):
    path = tmp_path / "large.csv"
    rows = write_large_csv(path, 50 * MB)
    assert path.stat().st_size >= 50 * MB
    result = import_file("items", path, dry_run=True)
    assert result.ok, [i.line() for i in result.issues[:5]]
    assert result.rows == rows
    assert result.counts["items"] == {"new": rows, "updated": 0, "unchanged": 0}
    assert result.counts["counterparties"]["new"] == 500


def test_a_50_mb_file_full_of_errors_reports_them_all(ctx, tmp_path):
    path = tmp_path / "large.csv"
    write_large_csv(path, 50 * MB)
    text = path.read_text(encoding="utf-8").replace(",goods,", ",bananas,")
    path.write_text(text, encoding="utf-8")
    result = import_file("items", path, dry_run=True)
    assert not result.ok
    assert result.issues_total == result.rows
    assert {i.code for i in result.issues} == {"unknown_item_type"}
    stored = result.to_json()
    assert len(stored["issues"]) == 5000 and stored["issues_total"] == result.rows
