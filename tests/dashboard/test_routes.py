"""The dashboard pages: who may open them, what they show, the drill-downs (each list's total
is the figure that links to it), bad input and empty data."""

from __future__ import annotations

import html
import re

from recovery.extensions import db
from tests.dashboard.example import departments

MARCH = "as_of=2026-03-31&from=2026-03-01"


def text_of(page: str, testid: str) -> str:
    """The text inside the element with this data-testid (tags stripped)."""
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(a|span|strong|td|p|div)>', page, re.S)
    assert match, testid
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def href_of(page: str, testid: str) -> str:
    match = re.search(rf'<a href="([^"]+)" data-testid="{testid}"', page)
    assert match, testid
    return html.unescape(match.group(1))


def test_who_may_open_the_dashboard(client, login_as, make_user):
    assert client.get("/dashboard/").status_code == 302  # to the login page
    login_as("sales")
    assert client.get("/dashboard/").status_code == 403
    for role in ("finance", "supervisor", "executive"):
        client.post("/logout")
        login_as(role)
        assert client.get("/dashboard/").status_code == 200, role


def test_the_executives_home_is_the_dashboard(client, login_as):
    login_as("executive")
    response = client.get("/")
    assert response.status_code == 302 and "/dashboard/" in response.location
    response = client.get("/home/executive")
    assert response.status_code == 302 and "/dashboard/" in response.location


def test_the_page_shows_the_worked_example(client, login_as, example):
    login_as("executive")
    response = client.get(f"/dashboard/?{MARCH}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert text_of(page, "figure-receivables-link") == "100,000.00"
    assert text_of(page, "figure-overdue-link") == "70,000.00"
    assert text_of(page, "figure-overdue_ratio-link") == "70.00%"
    assert text_of(page, "figure-dso-link") == "64.17 days"
    assert text_of(page, "figure-cei-link") == "41.67"
    assert text_of(page, "figure-recovered-link") == "50,000.00"
    assert text_of(page, "figure-completion-link") == "83.33%"
    # Charts drawn on the server, inline, with their accessible names; no inline styles.
    assert page.count("<svg ") >= 3 and 'role="img"' in page
    assert "style=" not in page and "<script>" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_every_amount_drills_down_to_a_list_with_that_total(client, login_as, example):
    login_as("executive")
    page = client.get(f"/dashboard/?{MARCH}").get_data(as_text=True)
    for key in ("receivables", "overdue", "recovered"):
        figure = text_of(page, f"figure-{key}-link")
        listed = client.get(href_of(page, f"figure-{key}-link")).get_data(as_text=True)
        assert text_of(listed, "list-total-amount") == figure, key
    settled = client.get(href_of(page, "figure-avg_days_to_pay-link")).get_data(as_text=True)
    assert text_of(settled, "average-days-to-pay") == "30.00"
    assert text_of(settled, "average-days-late") == "5.00"
    # Bucket cells and the top counterparties link to their items too.
    for bucket in ("due-d1_30", "due-d31_90", "due-not_due", "age-y0_1"):
        cell = re.search(rf'data-testid="{bucket}"><a href="([^"]+)">([^<]+)</a>', page)
        listed = client.get(html.unescape(cell.group(1))).get_data(as_text=True)
        assert text_of(listed, "list-total-amount") == cell.group(2), bucket


def test_the_ratios_explain_themselves(client, login_as, example):
    login_as("executive")
    for key, shown in (
        ("dso", "64.17 days"),
        ("cei", "41.67"),
        ("add", "37.60 days"),
        ("collection_rate", "33.33%"),
        ("overdue_ratio", "70.00%"),
        ("completion", "83.33%"),
        ("avg_days_late", "5.00 days"),
    ):
        page = client.get(f"/dashboard/kpi/{key}?{MARCH}").get_data(as_text=True)
        assert text_of(page, "explained-value") == shown, key
    assert client.get(f"/dashboard/kpi/nonsense?{MARCH}").status_code == 404


def test_one_department(client, login_as, example):
    login_as("executive")
    page = client.get(f"/dashboard/?{MARCH}&department_id={example['one']}").get_data(as_text=True)
    assert text_of(page, "figure-recovered-link") == "35,000.00"
    assert text_of(page, "figure-dso-link") == "71.92 days"
    assert "营销一部" in text_of(page, "scope-line")
    listed = client.get(href_of(page, "figure-recovered-link")).get_data(as_text=True)
    assert text_of(listed, "list-total-amount") == "35,000.00"


def test_lists_of_other_figures(client, login_as, example):
    login_as("executive")
    for path in (
        f"/dashboard/holds?{MARCH}",
        f"/dashboard/cases?{MARCH}",
        f"/dashboard/items?list=disputed&{MARCH}",
        f"/dashboard/items?list=sales&{MARCH}",
        f"/dashboard/items?list=bucket&bucket=d1_30&{MARCH}&department_id=none",
        f"/dashboard/items?list=bucket&bucket=y0_1&{MARCH}&department_id={example['one']}&exact=1",
    ):
        assert client.get(path).status_code == 200, path
    holds = client.get(f"/dashboard/holds?{MARCH}").get_data(as_text=True)
    assert text_of(holds, "list-total-amount") == "70,000.00"
    assert client.get(f"/dashboard/items?list=nonsense&{MARCH}").status_code == 404
    assert client.get(f"/dashboard/items?list=bucket&bucket=zz&{MARCH}").status_code == 404


def test_bad_input_is_shown_not_a_crash(client, login_as, example):
    login_as("executive")
    page = client.get("/dashboard/?as_of=31.03.2026&from=2026-02-30&department_id=999999")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'value="31.03.2026"' in text and 'value="2026-02-30"' in text
    assert text.count("invalid-feedback") >= 3
    later = client.get("/dashboard/?as_of=2026-03-31&from=2026-04-01").get_data(as_text=True)
    assert "must start on or before" in later


def test_an_empty_ledger_shows_dashes_and_reasons(client, login_as, app):
    with app.app_context():
        departments()
        db.session.commit()
    login_as("executive")
    page = client.get(f"/dashboard/?{MARCH}").get_data(as_text=True)
    assert 'data-testid="empty-state"' in page
    assert text_of(page, "figure-dso-link") == "—"
    assert "No sales were recognised" in text_of(page, "figure-dso-reason")
    assert "NaN" not in page and "None" not in page
    assert "No data for this period." in page  # the charts say so


def test_in_chinese(client, login_as, example):
    login_as("executive")
    with client.session_transaction() as session:
        session["lang"] = "zh_CN"
    page = client.get(f"/dashboard/?{MARCH}").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "营销一部" in page  # department names in the charts and tables
