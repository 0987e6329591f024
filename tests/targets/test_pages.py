"""The targets pages: who may open what, the target form (refusals re-shown with what was
typed), the rankings page, proposing and deciding a list, and the navigation."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from recovery.extensions import db
from recovery.targets.models import RewardList, Target
from recovery.targets.periods import month_of
from recovery.targets.services import company_today
from tests.conftest import login
from tests.targets.conftest import make_org


def org_ids(app) -> dict:
    with app.app_context():
        org = make_org()
        db.session.commit()
        return {
            name: getattr(org, name).id
            for name in ("company", "east", "east1", "west", "chen", "lin", "zhou", "boss")
        }


def options(html: str, name: str) -> set[str]:
    """The option values of the select named ``name``."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return set(re.findall(r'value="([^"]*)"', select))


def client_for(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_who_may_open_what(app):
    org_ids(app)
    pages = ("/targets/", "/targets/new", "/targets/rankings", "/targets/lists")
    expected = {
        "chief": (200, 200, 200, 200),
        "boss": (200, 200, 200, 200),
        "fin": (200, 403, 403, 403),
        "chen": (403, 403, 403, 403),
    }
    for username, statuses in expected.items():
        client = client_for(app, username)
        assert tuple(client.get(page).status_code for page in pages) == statuses, username
    # Deciding is the executives'.
    boss = client_for(app, "boss")
    assert boss.post("/targets/lists/1/decide", data={"approve": "1"}).status_code == 403
    chief = client_for(app, "chief")
    assert chief.post("/targets/lists/999/decide", data={"approve": "1"}).status_code == 404


def test_navigation_offers_the_pages(app):
    org_ids(app)
    html = client_for(app, "chief").get("/targets/").get_data(as_text=True)
    for endpoint in ("targets.index", "targets.rankings", "targets.lists"):
        assert f'data-nav="{endpoint}"' in html
    finance = client_for(app, "fin").get("/targets/").get_data(as_text=True)
    assert 'data-nav="targets.index"' in finance and 'data-nav="targets.rankings"' not in finance


def test_setting_a_target_through_the_form(app):
    ids = org_ids(app)
    month = month_of(company_today_in(app)).next().label
    boss = client_for(app, "boss")
    form = boss.get("/targets/new").get_data(as_text=True)
    # A supervisor is offered their own tree only.
    departments, people = options(form, "department_id"), options(form, "user_id")
    assert str(ids["east1"]) in departments and str(ids["west"]) not in departments
    assert str(ids["lin"]) in people and str(ids["zhou"]) not in people
    values = {
        "scope": "department",
        "department_id": str(ids["east1"]),
        "user_id": "",
        "period": month,
        "recovery": "12,000.50",
        "overdue_reduction": "3000",
        "reason": "",
    }
    response = boss.post("/targets/new", data=values)
    assert response.status_code == 302
    with app.app_context():
        target = db.session.scalar(sa.select(Target))
        assert (target.department_id, str(target.recovery_amount)) == (ids["east1"], "12000.50")
        target_id = target.id
    page = boss.get(f"/targets/{target_id}").get_data(as_text=True)
    assert 'data-testid="target-form"' in page and 'data-testid="target-history"' in page
    # Another department outside the supervisor's tree is refused; nothing is written.
    refused = boss.post("/targets/new", data={**values, "department_id": str(ids["west"])})
    assert refused.status_code == 200 and "is-invalid" in refused.get_data(as_text=True)
    # Not a period, an amount with three decimals: shown again as typed, with the reason.
    bad = boss.post(
        "/targets/new", data={**values, "period": "2026-13", "recovery": "1.234"}
    ).get_data(as_text=True)
    assert 'value="2026-13"' in bad and 'value="1.234"' in bad and bad.count("is-invalid") >= 2
    # The same month again: refused on the period.
    again = boss.post("/targets/new", data=values).get_data(as_text=True)
    assert 'value="12,000.50"' in again and "is-invalid" in again
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Target)) == 1
    # The list shows it, with its completion.
    listing = boss.get(f"/targets/?period={month}").get_data(as_text=True)
    assert f'data-target="{target_id}"' in listing


def company_today_in(app) -> date:
    with app.app_context():
        return company_today()


def test_a_past_period_needs_a_reason_and_a_stale_edit_is_refused(app):
    ids = org_ids(app)
    last_month = month_of(company_today_in(app)).previous().label
    chief = client_for(app, "chief")
    values = {
        "scope": "person",
        "department_id": "",
        "user_id": str(ids["zhou"]),
        "period": last_month,
        "recovery": "500",
        "overdue_reduction": "0",
        "reason": "",
    }
    refused = chief.post("/targets/new", data=values).get_data(as_text=True)
    assert "is-invalid" in refused
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Target)) == 0
    assert chief.post("/targets/new", data={**values, "reason": "补录"}).status_code == 302
    with app.app_context():
        target_id = db.session.scalar(sa.select(Target.id))
    edit = {"recovery": "600", "overdue_reduction": "0", "reason": "调整", "version": "1"}
    assert chief.post(f"/targets/{target_id}", data=edit).status_code == 302
    # The same page again (version 1): refused, what was typed kept, the saved values shown.
    stale = chief.post(f"/targets/{target_id}", data={**edit, "recovery": "700"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 200 and 'data-testid="form-error"' in html
    assert 'value="700"' in html and 'data-testid="current-values"' in html
    with app.app_context():
        assert str(db.session.get(Target, target_id).recovery_amount) == "600.00"
    # A supervisor of another tree sees the target but gets no form, and a POST is refused.
    boss = client_for(app, "boss")
    assert 'data-testid="target-form"' not in boss.get(f"/targets/{target_id}").get_data(
        as_text=True
    )
    assert boss.post(f"/targets/{target_id}", data={**edit, "version": "2"}).status_code == 200
    with app.app_context():
        assert str(db.session.get(Target, target_id).recovery_amount) == "600.00"


def test_propose_and_decide_through_the_pages(app):
    ids = org_ids(app)
    last_month = month_of(company_today_in(app)).previous().label
    boss = client_for(app, "boss")
    page = boss.get(f"/targets/rankings?period={last_month}").get_data(as_text=True)
    assert f'data-key="{ids["chen"]}"' in page and 'data-testid="propose-form"' in page
    departments = boss.get(f"/targets/rankings?period={last_month}&by=department")
    assert f'data-key="{ids["west"]}"' in departments.get_data(as_text=True)
    # This month is not over: no proposal offered; a POST is refused.
    this_month = month_of(company_today_in(app)).label
    assert 'data-testid="propose-form"' not in boss.get(
        f"/targets/rankings?period={this_month}"
    ).get_data(as_text=True)
    boss.post("/targets/rankings/propose", data={"by": "person", "period": this_month})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RewardList)) == 0
    response = boss.post("/targets/rankings/propose", data={"by": "person", "period": last_month})
    assert response.status_code == 302
    with app.app_context():
        list_id = db.session.scalar(sa.select(RewardList.id))
    shown = boss.get(f"/targets/lists/{list_id}").get_data(as_text=True)
    assert 'data-testid="decide-form"' not in shown and 'data-testid="awaiting"' in shown
    chief = client_for(app, "chief")
    assert 'data-testid="decide-form"' in chief.get(f"/targets/lists/{list_id}").get_data(
        as_text=True
    )
    # Rejecting without a reason: the form comes back with the reason to give.
    refused = chief.post(f"/targets/lists/{list_id}/decide", data={"reject": "1", "version": "1"})
    assert refused.status_code == 200 and "is-invalid" in refused.get_data(as_text=True)
    approved = chief.post(f"/targets/lists/{list_id}/decide", data={"approve": "1", "version": "1"})
    assert approved.status_code == 302
    with app.app_context():
        assert db.session.get(RewardList, list_id).status == "approved"
    lists = chief.get("/targets/lists?status=approved").get_data(as_text=True)
    assert f'data-list="{list_id}"' in lists
    assert chief.get(f"/targets/rankings?period={last_month}").status_code == 200


def test_empty_periods_and_bad_input_are_not_errors(app):
    org_ids(app)
    chief = client_for(app, "chief")
    for url in (
        "/targets/?period=2031-01",
        "/targets/?period=soon",
        "/targets/rankings?period=2031-Q1&by=department",
        "/targets/rankings?period=later&by=nobody",
        "/targets/lists?status=odd",
    ):
        response = chief.get(url)
        assert response.status_code == 200, url
    assert 'value="soon"' in chief.get("/targets/?period=soon").get_data(as_text=True)
    assert chief.get("/targets/999").status_code == 404
