"""A sales manager logs a call and a promise from the worklist (issue 4, point 8).

Signed in, the sales user lands on their worklist; a click on "log call" on an account line
opens the call form for that account; the call is saved with a next step due today; back on
the worklist the line shows that next step; "record promise" on the same line records a
promise to pay, which the promises page lists as open."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from recovery.activities.models import Activity, Promise
from recovery.auth import services as auth
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.parties import services as parties

pytestmark = pytest.mark.browser

CODE = "WL-001"
NEXT_STEP = "Call the finance manager about the transfer"


def company_now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, second=0, microsecond=0)


@pytest.fixture(scope="module")
def account(live_server):
    """An overdue account of the demo sales user, with a named contact."""
    today = company_now().date()

    def make():
        sales = auth.find_user("sales")
        counterparty = parties.save_counterparty(
            code=CODE, name="待办测试客户有限公司", kind="customer", responsible_id=sales.id
        )
        parties.save_contact(
            counterparty_id=counterparty.id, name="王会计", phone="13800000000", is_primary=True
        )
        ledger.create_item(
            document_no="WL-INV-1",
            counterparty_id=counterparty.id,
            item_type="goods",
            amount=Decimal("12000.00"),
            recognized_on=today - timedelta(days=90),
            due_on=today - timedelta(days=60),
        )
        db.session.commit()
        return counterparty.id

    return live_server.query(make)


def test_sales_manager_logs_a_call_and_a_promise_from_the_worklist(ui, account):
    server, page = ui.server, ui.page
    today = company_now().date()
    # Yesterday mid-morning: inside the contact hours whatever the time the test runs.
    called_at = datetime.combine(today - timedelta(days=1), datetime.min.time()) + timedelta(
        hours=10
    )

    ui.login("sales")
    expect(page).to_have_url(ui.path_is("worklist.index"))
    expect(page.get_by_test_id("home-heading")).to_be_visible()
    line = page.locator(f'tr[data-counterparty="{CODE}"]')
    expect(line.get_by_test_id("line-overdue")).to_have_text("12,000.00")
    ui.screenshot("worklist-sales")

    # Log call: the call form of this account, the kind already chosen.
    ui.submit(line.locator('[data-action="log-call"]'))
    expect(page).to_have_url(ui.path_is("activities.new"))
    assert f"counterparty_id={account}" in page.url and "kind=call" in page.url
    form = page.get_by_test_id("activity-form")
    expect(form.locator("select[name=kind]")).to_have_value("call")
    form.locator("input[name=occurred_at]").fill(called_at.strftime("%Y-%m-%dT%H:%M"))
    form.locator("textarea[name=summary]").fill("王会计确认欠款，称本周安排付款。")
    form.locator("input[name=outcome]").fill("Agreed to pay this week")
    form.locator("input[name=next_step]").fill(NEXT_STEP)
    form.locator("input[name=next_step_on]").fill(today.isoformat())
    ui.submit(page.get_by_test_id("activity-submit"))
    expect(page).to_have_url(ui.path_is("activities.show", activity_id=_latest_activity(server)))

    # Back on the worklist: the line carries the next step, due today.
    ui.submit(page.locator('[data-nav="worklist.index"]'))
    line = page.locator(f'tr[data-counterparty="{CODE}"]')
    expect(line.locator('[data-reason="next-step"]')).to_contain_text(NEXT_STEP)
    expect(line).to_have_attribute("data-attention", "1")

    # Record promise from the same line.
    ui.submit(line.locator('[data-action="record-promise"]'))
    expect(page).to_have_url(ui.path_is("activities.new_promise"))
    form = page.get_by_test_id("promise-form")
    expect(form.locator("input[name=promised_on]")).to_have_value(today.isoformat())
    form.locator("input[name=amount]").fill("5,000")
    form.locator("input[name=due_on]").fill((today + timedelta(days=7)).isoformat())
    form.locator("input[name=note]").fill("王会计电话承诺")
    ui.submit(page.get_by_test_id("promise-submit"))

    # The promises page lists it, open.
    expect(page).to_have_url(ui.path_is("activities.promises"))
    row = page.get_by_test_id("promises-table").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text("5,000.00")
    ui.screenshot("worklist-promise-recorded")

    # And the worklist still leads to the account: an open promise is no alarm.
    ui.goto(server.path("worklist.index"))
    line = page.locator(f'tr[data-counterparty="{CODE}"]')
    expect(line.locator('[data-reason="broken-promise"]')).to_have_count(0)
    expect(line.locator('[data-reason="next-step"]')).to_be_visible()

    def recorded():
        sales = auth.find_user("sales")
        activity = db.session.scalar(sa.select(Activity).where(Activity.counterparty_id == account))
        promise = db.session.scalar(sa.select(Promise).where(Promise.counterparty_id == account))
        return (
            activity.kind,
            activity.user_id == sales.id,
            activity.next_step_on,
            promise.amount,
            promise.recorded_by_id == sales.id,
        )

    assert server.query(recorded) == ("call", True, today, Decimal("5000.00"), True)


def _latest_activity(server) -> int:
    return server.query(lambda: db.session.scalar(sa.select(sa.func.max(Activity.id))))
