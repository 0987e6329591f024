"""An executive's whole visit (issue 6, Tests): signed in, the dashboard is the home page; the
executive changes the as-of date and the department, drills into the overdue figure — the
list behind it adds up to the figure shown — then, from the dashboard, has the monthly report
made in the background, follows its progress on the job's page and downloads it as PDF and as
workbook.

The ledger (demo departments 营销一部 and 营销二部; 2025, so every date is past):

    EXA-1  东方机电 (营销一部)  recognised 2025-01-10  due 2025-02-09  50,000.00
    EXA-2  东方机电 (营销一部)  recognised 2025-03-05  due 2025-04-04  30,000.00
    EXA-3  东方机电 (营销一部)  recognised 2025-04-01  due 2025-05-31  20,000.00
    EXB-1  西山建材 (营销二部)  recognised 2025-02-01  due 2025-03-03  12,345.67
    EXB-2  西山建材 (营销二部)  recognised 2025-03-20  due 2025-04-19   8,000.00
    RA-1   20,000.00 from 东方机电 on 2025-04-15, naming EXA-1
    RB-1    8,000.00 from 西山建材 on 2025-04-25, naming EXB-2

By hand (overdue: as-of date after the due date, docs/kpis.md):

- today (any day after 2025-05-31), whole company: receivables 30,000 + 30,000 + 20,000 +
  12,345.67 = 92,345.67;
- as of 2025-04-10, whole company: nothing paid yet, EXA-3 and EXB-2 not due: receivables
  50,000 + 30,000 + 20,000 + 12,345.67 + 8,000 = 120,345.67; overdue 50,000 + 30,000 +
  12,345.67 = 92,345.67;
- as of 2025-04-10, 营销一部: receivables 100,000.00, overdue EXA-1 + EXA-2 = 80,000.00 —
  the drill-down lists those two items;
- the monthly report for 2025-04 (as of 2025-04-30): receivables at the month's end 30,000 +
  30,000 + 20,000 + 12,345.67 = 92,345.67, of which overdue 72,345.67 (EXA-3 not due);
  money received in the month 28,000.00; 西山建材 overdue 12,345.67.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.jobs.models import Job
from tests.ledger.conftest import LedgerBuilder

pytestmark = pytest.mark.browser

D = date
MONTH = "2025-04"
SALES_ONE = "营销一部"
SALES_TWO = "营销二部"
JOB_TIMEOUT_MS = 180_000  # a PDF on a busy 2-core machine


@pytest.fixture(scope="module")
def sales_one_id(live_server) -> int:
    """The ledger above, built through the services; the id of 营销一部."""

    def make() -> int:
        one = auth.find_department(SALES_ONE)
        two = auth.find_department(SALES_TWO)
        build = LedgerBuilder()
        a = build.counterparty("EX-A", "东方机电有限公司", department_id=one.id)
        b = build.counterparty("EX-B", "西山建材有限公司", department_id=two.id)
        exa1 = build.item(a, "50000.00", D(2025, 1, 10), D(2025, 2, 9), "EXA-1")
        build.item(a, "30000.00", D(2025, 3, 5), D(2025, 4, 4), "EXA-2")
        build.item(a, "20000.00", D(2025, 4, 1), D(2025, 5, 31), "EXA-3")
        build.item(b, "12345.67", D(2025, 2, 1), D(2025, 3, 3), "EXB-1")
        exb2 = build.item(b, "8000.00", D(2025, 3, 20), D(2025, 4, 19), "EXB-2")
        build.receipt(a, "20000.00", D(2025, 4, 15), "RA-1", item=exa1)
        build.receipt(b, "8000.00", D(2025, 4, 25), "RB-1", item=exb2)
        db.session.commit()
        return one.id

    return live_server.query(make)


def amount(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def pdf_text(path) -> str:
    """The PDF's text as pdftotext (poppler-utils) reads it, as the other PDF tests do."""
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")


def make_report(ui, button: str, tmp_path):
    """Press a generate button of the monthly form, follow the job's page as a person does —
    the progress while it runs, the page reloading itself when the job ends — and download
    the file it offers. Returns the saved path."""
    page = ui.page
    polls: list[str] = []

    def watch(response) -> None:
        if response.url.endswith(".json"):
            polls.append(response.url)

    page.on("response", watch)
    form = page.get_by_test_id("monthly-form")
    form.locator("input[name=month]").fill(MONTH)
    ui.submit(page.get_by_test_id(button))
    expect(page).to_have_url(re.compile(re.escape(ui.server.url) + r"/jobs/(\d+)$"))
    job_id = int(page.url.rsplit("/", 1)[1])
    # Either the progress is on the page (and jobs.js polls the job's JSON until it is
    # done), or the job was quicker than the page.
    progress = page.get_by_test_id("job-progress")
    done = page.get_by_test_id("monthly-done")
    expect(progress.or_(done)).to_be_visible()
    followed = progress.is_visible()
    expect(done).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_test_id("job-status")).to_have_text(ui.server.translate("en", "Finished"))
    status = ui.server.query(lambda: db.session.get(Job, job_id).status)
    assert status == "done"
    if followed:  # jobs.js polled the job's JSON until it was done, then reloaded the page
        assert polls and all(url.endswith(f"/jobs/{job_id}.json") for url in polls)
    page.remove_listener("response", watch)
    ui.assert_no_csp_violations()
    with page.expect_download() as info:
        page.get_by_test_id("download").click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return path


def test_an_executive_reads_drills_and_downloads_the_monthly_report(ui, sales_one_id, tmp_path):
    page = ui.page
    ui.login("executive")
    expect(page).to_have_url(ui.path_is("dashboard.index"))
    expect(page.get_by_test_id("home-heading")).to_be_visible()
    if ui.html_lang() != "en":  # the demo executive may read Chinese: start in English
        ui.switch_language("en")
    receivables = page.get_by_test_id("figure-receivables-link")
    overdue = page.get_by_test_id("figure-overdue-link")
    # Today, the whole company: everything above is past.
    expect(receivables).to_have_text("92,345.67")

    # An earlier as-of date: before the April receipts, more is open and less is overdue.
    page.get_by_test_id("as-of").fill("2025-04-10")
    page.get_by_test_id("date-from").fill("2025-04-01")
    ui.submit(page.get_by_test_id("show"))
    expect(page.get_by_test_id("scope-line")).to_contain_text("2025-04-10")
    expect(receivables).to_have_text("120,345.67")
    expect(overdue).to_have_text("92,345.67")
    expect(page.get_by_test_id("figure-recovered-link")).to_have_text("0.00")

    # One department, same date: 营销一部 holds 东方机电 alone.
    page.get_by_test_id("department").select_option(str(sales_one_id))
    ui.submit(page.get_by_test_id("show"))
    expect(page.get_by_test_id("scope-line")).to_contain_text(SALES_ONE)
    expect(page.get_by_test_id("department")).to_have_value(str(sales_one_id))
    expect(page.get_by_test_id("as-of")).to_have_value("2025-04-10")
    expect(receivables).to_have_text("100,000.00")
    expect(overdue).to_have_text("80,000.00")
    shown = overdue.inner_text()
    ui.screenshot("executive-dashboard-department")

    # Drill into the overdue figure: the items behind it add up to the figure shown.
    ui.submit(overdue)
    expect(page.get_by_test_id("list-heading")).to_be_visible()
    expect(page.get_by_test_id("scope-line")).to_contain_text(SALES_ONE)
    total = page.get_by_test_id("list-total-amount")
    expect(total).to_have_text(shown)
    rows = page.get_by_test_id("list-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("list")).to_contain_text("EXA-1")
    expect(page.get_by_test_id("list")).to_contain_text("EXA-2")
    outstanding = [amount(text) for text in rows.locator("td:last-child").all_inner_texts()]
    assert sorted(outstanding) == [Decimal("30000.00"), Decimal("50000.00")]
    assert sum(outstanding) == amount(total.inner_text()) == Decimal("80000.00")
    ui.screenshot("executive-overdue-drill-down")

    # Back on the dashboard, its button leads to the monthly report.
    back = ui.server.translate("en", "Back to the dashboard")
    ui.submit(page.get_by_test_id("scope-line").get_by_role("link", name=back))
    expect(page).to_have_url(ui.path_is("dashboard.index"))
    expect(receivables).to_have_text("100,000.00")  # the same date and department
    ui.submit(page.get_by_test_id("monthly-report"))
    expect(page).to_have_url(ui.path_is("monthly.index"))

    # The PDF: made in the background, read back.
    pdf = make_report(ui, "generate-pdf", tmp_path)
    assert pdf.name == f"monthly-report-{MONTH}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    flat = "".join(text.split())
    assert MONTH in text
    assert "Receivablesatthemonth'send92,345.67" in flat
    assert "Ofwhichoverdue72,345.67" in flat
    assert "Moneyreceivedinthemonth28,000.00" in flat
    assert "西山建材有限公司" in text and "12,345.67" in text
    assert "陈明" in text  # generated by
    ui.screenshot("executive-monthly-pdf-ready")

    # The workbook, from the same page.
    ui.goto(ui.server.path("monthly.index"))
    xlsx = make_report(ui, "generate-xlsx", tmp_path)
    assert xlsx.name == f"monthly-report-{MONTH}.xlsx"
    book = load_workbook(io.BytesIO(xlsx.read_bytes()))
    summary = list(book["Summary"].values)
    assert summary[0][:2] == ("Monthly report for head office", MONTH)
    figures = {row[0]: row[1] for row in book["Receivables"].values if row and row[0]}
    assert Decimal(str(figures["Receivables at the month's end"])) == Decimal("92345.67")
    assert Decimal(str(figures["Of which overdue"])) == Decimal("72345.67")
    assert Decimal(str(figures["Money received in the month"])) == Decimal("28000.00")

    # Both stay listed for the others who read them.
    ui.goto(ui.server.path("monthly.index"))
    expect(page.get_by_test_id("monthly-reports")).to_contain_text(MONTH)
    expect(page.get_by_test_id("monthly-reports").locator("tr[data-job]")).to_have_count(2)
