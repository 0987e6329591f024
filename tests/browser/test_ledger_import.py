"""Finance imports a file with errors, sees them, fixes the file, imports, sees the aging
(issue #3, point 9)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

HEADER = (
    "counterparty_code,counterparty_name,counterparty_kind,project_code,project_name,"
    "contract_no,document_no,item_type,amount,recognized_on,due_on,department,responsible,"
    "overdue_rate"
)
GOOD = [
    "BRW-01,浏览器测试客户,dealer,,,,BRW-INV-1,goods,1200.50,2026-01-05,2026-02-04,,,",
    "BRW-01,浏览器测试客户,dealer,,,,BRW-INV-2,配件款,300.00,2026-03-01,2026-12-31,,,",
]
BAD = [
    "BRW-01,浏览器测试客户,dealer,,,,BRW-INV-1,goods,-5,2026-01-05,2026-02-04,,,",
    "BRW-01,浏览器测试客户,dealer,,,,BRW-INV-2,配件款,300.00,2026-02-30,2026-12-31,,,",
]


def _upload(ui, tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    ui.goto(ui.server.path("imports.upload"))
    form = ui.page.get_by_test_id("import-form")
    form.locator("select[name=kind]").select_option("items")
    form.locator("input[name=file]").set_input_files(str(path))
    ui.submit(ui.page.get_by_test_id("import-submit"))


def test_finance_fixes_a_bad_file_and_sees_the_aging(ui, tmp_path):
    page = ui.page
    ui.login("finance")

    _upload(ui, tmp_path, "items-bad.csv", BAD)
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_be_visible(timeout=30_000)  # the job page follows the job, then shows
    text = errors.inner_text()
    assert "amount" in text and "-5" in text
    assert "recognized_on" in text and "2026-02-30" in text
    ui.screenshot("import-errors")
    # Nothing was written: the aging has no such counterparty.
    ui.goto(ui.server.path("ledger.aging", as_of="2026-11-28"))
    expect(page.locator("main")).not_to_contain_text("BRW-01")

    _upload(ui, tmp_path, "items-fixed.csv", GOOD)
    expect(page.get_by_test_id("import-done")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("import-summary")).to_contain_text("2")
    ui.screenshot("import-done")

    ui.goto(ui.server.path("ledger.aging", as_of="2026-11-28"))
    row = page.get_by_test_id("aging-table").locator("tr", has_text="BRW-01")
    expect(row).to_contain_text("1,500.50")  # outstanding: both items
    expect(row).to_contain_text("1,200.50")  # overdue since 4 Feb
    ui.screenshot("aging-after-import")
