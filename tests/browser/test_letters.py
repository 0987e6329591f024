"""Finance runs a batch of demand letters and downloads the ZIP (issue 5, point 6).

Finance opens the batch form, asks for demand letters to the counterparties of one
department overdue more than 90 days, follows the job's progress until it finishes, and
downloads the ZIP: one PDF per matching debtor, and nobody else's."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.parties import services as parties

pytestmark = pytest.mark.browser

DEPARTMENT = "营销一部"
# code, name, department, days overdue today
DEBTORS = (
    ("LT-001", "信函测试甲有限公司", DEPARTMENT, 120),
    ("LT-002", "信函测试乙有限公司", DEPARTMENT, 95),
    ("LT-003", "信函测试丙有限公司", DEPARTMENT, 30),  # not overdue long enough
    ("LT-004", "信函测试丁有限公司", "营销二部", 200),  # another department
)


def company_today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture(scope="module")
def department_id(live_server):
    today = company_today()

    def make():
        for number, (code, name, department, days) in enumerate(DEBTORS, start=1):
            counterparty = parties.save_counterparty(
                code=code,
                name=name,
                kind="customer",
                department_id=auth.find_department(department).id,
            )
            ledger.create_item(
                document_no=f"LT-INV-{number}",
                counterparty_id=counterparty.id,
                item_type="goods",
                amount=Decimal("10000.00") * number,
                recognized_on=today - timedelta(days=days + 30),
                due_on=today - timedelta(days=days),
            )
        db.session.commit()
        return auth.find_department(DEPARTMENT).id

    return live_server.query(make)


def test_finance_runs_a_batch_of_demand_letters_and_downloads_the_zip(ui, department_id):
    server, page = ui.server, ui.page
    ui.login("finance")
    ui.goto(server.path("letters.batches_index"))
    ui.submit(page.get_by_test_id("new-batch"))
    expect(page).to_have_url(ui.path_is("letters.batch_new"))

    form = page.get_by_test_id("batch-form")
    form.locator("select[name=kind]").select_option("demand")
    expect(form.locator("input[name=letter_date]")).to_have_value(company_today().isoformat())
    form.locator("input[name=overdue_more_than]").fill("90")
    form.locator("select[name=department_id]").select_option(str(department_id))
    ui.screenshot("letters-batch-form")
    ui.submit(page.get_by_test_id("batch-submit"))

    # The job's page follows the progress (static/js/jobs.js) and reloads when it is done.
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/jobs/\d+$"))
    expect(page.get_by_test_id("batch-done")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("job-status")).to_have_text(server.translate("zh_CN", "Finished"))
    expect(page.get_by_test_id("count-letters")).to_have_text("2")
    expect(page.get_by_test_id("count-refused")).to_have_text("0")
    ui.assert_no_csp_violations()
    ui.screenshot("letters-batch-done")

    with page.expect_download() as download_info:
        page.get_by_test_id("batch-zip").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        names = sorted(archive.namelist())
        assert len(names) == 2
        assert names[0].endswith("-LT-001.pdf") and names[1].endswith("-LT-002.pdf")
        for name in names:
            assert archive.read(name).startswith(b"%PDF-")

    # The batch's page lists both letters, each a demand (final, both past 91 days).
    ui.submit(page.get_by_test_id("batch-page"))
    lines = page.get_by_test_id("batch-lines")
    expect(lines.locator("tr[data-counterparty]")).to_have_count(2)
    # 10,000.00 and its interest for 120 days at 4.65 % a year: 152.876… → 152.88.
    expect(lines.locator('tr[data-counterparty="LT-001"]')).to_contain_text("10,152.88")
    ui.screenshot("letters-batch-page")
