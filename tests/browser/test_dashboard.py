"""The dashboard's worked example in a browser (issue 6): signed in, the dashboard is the
executive's home page; its figures match docs/kpis.md (DSO 64.17 days), the charts are seen,
and the page reads in Chinese. The executive's whole flow — as-of date, department, drill
into the overdue figure, the monthly report downloaded — is tests/browser/test_executive.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from recovery.auth import services as auth
from tests.dashboard.example import SALES_ONE, build_example
from tests.ledger.conftest import LedgerBuilder

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def example(live_server):
    """The worked example of docs/kpis.md, in the demo organisation's departments."""

    def make():
        build_example(LedgerBuilder())
        return auth.find_department(SALES_ONE).id

    return live_server.query(make)


def test_an_executive_reads_the_dashboard_and_drills_into_overdue(ui, example):
    page = ui.page
    ui.login("executive")
    expect(page).to_have_url(ui.path_is("dashboard.index"))
    expect(page.get_by_test_id("home-heading")).to_be_visible()
    if ui.html_lang() != "en":  # the demo executive may read Chinese: start in English
        ui.switch_language("en")

    # As of the end of March 2026, the whole company.
    page.get_by_test_id("as-of").fill("2026-03-31")
    page.get_by_test_id("date-from").fill("2026-03-01")
    ui.submit(page.get_by_test_id("show"))
    expect(page.get_by_test_id("figure-receivables-link")).to_have_text("100,000.00")
    expect(page.get_by_test_id("figure-overdue-link")).to_have_text("70,000.00")
    expect(page.get_by_test_id("figure-dso-link")).to_have_text("64.17 days")
    expect(page.get_by_test_id("chart-trend")).to_be_visible()
    expect(page.get_by_test_id("chart-aging-due")).to_be_visible()

    # An earlier date: before the receipts of March, more is open.
    page.get_by_test_id("as-of").fill("2026-03-09")
    ui.submit(page.get_by_test_id("show"))
    expect(page.get_by_test_id("figure-receivables-link")).to_have_text("120,000.00")

    # One department: 营销一部 holds counterparty A.
    page.get_by_test_id("as-of").fill("2026-03-31")
    page.get_by_test_id("department").select_option(str(example))
    ui.submit(page.get_by_test_id("show"))
    expect(page.get_by_test_id("scope-line")).to_contain_text(SALES_ONE)
    expect(page.get_by_test_id("figure-recovered-link")).to_have_text("35,000.00")
    overdue = page.get_by_test_id("figure-overdue-link")
    expect(overdue).to_have_text("70,000.00")
    ui.screenshot("dashboard-department")

    # Drill into the overdue figure: the items behind it, adding up to it.
    ui.submit(overdue)
    expect(page.get_by_test_id("list-heading")).to_be_visible()
    expect(page.get_by_test_id("list-total-amount")).to_have_text("70,000.00")
    expect(page.get_by_test_id("list-row")).to_have_count(2)
    expect(page.get_by_test_id("list")).to_contain_text("A1")
    expect(page.get_by_test_id("list")).to_contain_text("A2")

    # The same page in Chinese.
    ui.switch_language("zh_CN")
    assert ui.html_lang() == "zh-CN"
    expect(page.get_by_test_id("list-total-amount")).to_have_text("70,000.00")
