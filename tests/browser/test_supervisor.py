"""A supervisor reassigns an account (and sees the history line), then reviews a visit record
(issue 4, browser tests)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from recovery.activities.models import Activity
from recovery.auth import services as auth
from recovery.demo.services import demo_password
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.ledger.models import Item
from recovery.parties import services as parties
from recovery.parties.models import Counterparty

pytestmark = pytest.mark.browser

SUCCESSOR = "sales.successor"


def _set_up() -> dict:
    """An account of the demo sales manager, a successor, and a visit waiting for review."""
    sales = auth.find_user("sales")
    successor = auth.find_user(SUCCESSOR) or auth.create_user(
        SUCCESSOR, demo_password(SUCCESSOR), ["sales"], display_name="赵磊"
    )
    counterparty = parties.save_counterparty(
        code="SUP-01", name="监督测试客户", kind="dealer", responsible_id=sales.id
    )
    item = ledger.create_item(
        document_no="SUP-INV-1",
        counterparty_id=counterparty.id,
        item_type="goods",
        amount=Decimal("8800.00"),
        recognized_on=date(2026, 1, 5),
        due_on=date(2026, 2, 4),
    )
    visit = Activity(
        counterparty_id=counterparty.id,
        kind="visit",
        occurred_at=datetime(2026, 3, 2, 2, 30),
        user_id=sales.id,
        summary="上门拜访财务经理，对方承认欠款，承诺月底前付一半。",
        outcome="同意对账",
        review_status="pending",
    )
    db.session.add(visit)
    db.session.commit()
    return {
        "counterparty": counterparty.id,
        "item": item.id,
        "visit": visit.id,
        "successor": successor.id,
    }


def test_a_supervisor_reassigns_an_account_and_reviews_a_visit(ui):
    server, page = ui.server, ui.page
    ids = server.query(_set_up)
    ui.login("supervisor")

    # The account: from the statement to its responsibility page, reassigned with a reason.
    ui.goto(server.path("parties.counterparty", counterparty_id=ids["counterparty"]))
    ui.submit(page.get_by_test_id("responsibility-link"))
    expect(page).to_have_url(
        ui.path_is("responsibility.counterparty", counterparty_id=ids["counterparty"])
    )
    form = page.get_by_test_id("reassign-form")
    form.locator("select[name=to_user_id]").select_option(str(ids["successor"]))
    form.locator("textarea[name=reason]").fill("李强调往华东区，客户移交赵磊")
    ui.submit(form.locator("[type=submit]"))

    expect(page.get_by_test_id("responsible")).to_have_text("赵磊")
    line = page.get_by_test_id("history").locator("tbody tr").first
    expect(line.get_by_test_id("reason")).to_have_text("李强调往华东区，客户移交赵磊")
    expect(line.get_by_test_id("from")).to_have_text("李强")
    expect(line.get_by_test_id("to")).to_have_text("赵磊")
    expect(line).to_contain_text("张伟")  # the supervisor, as approver
    item_line = page.get_by_test_id("item-history").locator("tbody tr").first
    expect(item_line).to_contain_text("SUP-INV-1")
    ui.screenshot("supervisor-reassigned")

    def stored():
        counterparty = db.session.get(Counterparty, ids["counterparty"])
        item = db.session.get(Item, ids["item"])
        return counterparty.responsible_id, item.responsible_id

    assert server.query(stored) == (ids["successor"], ids["successor"])

    # The visit record waiting for review: approved with a note.
    ui.goto(server.path("activities.reviews"))
    row = page.locator(f"tr[data-activity='{ids['visit']}']")
    expect(row).to_contain_text("上门拜访财务经理")
    row.locator("input[name=note]").fill("记录完整")
    ui.submit(row.locator("button[name=approve]"))
    expect(page.locator(f"tr[data-activity='{ids['visit']}']")).to_have_count(0)
    ui.screenshot("supervisor-reviewed")

    def review():
        visit = db.session.get(Activity, ids["visit"])
        supervisor = auth.find_user("supervisor")
        return visit.review_status, visit.reviewed_by_id == supervisor.id, visit.review_note

    assert server.query(review) == ("approved", True, "记录完整")
    assert (
        server.query(
            lambda: db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Activity)
                .where(Activity.review_status == "pending")
            )
        )
        == 0
    )
