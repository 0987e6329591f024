"""A leader approves a secured arrangement (issue 4, browser test).

The sales manager proposed it and finance and legal reviewed it (set up through the
services); the executive signs in, opens the approvals page, approves the last step and sees
the arrangement approved, and the page no longer lists it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from recovery.auth import services as auth
from recovery.cases import services as cases
from recovery.cases import strategies
from recovery.cases.models import Strategy
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.parties import services as parties

pytestmark = pytest.mark.browser


def _secured_arrangement_at_leader_step() -> int:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    sales, finance, legal = (auth.find_user(name) for name in ("sales", "finance", "legal"))
    counterparty = parties.save_counterparty(
        code="LEAD-01",
        name="浏览器审批客户",
        kind="dealer",
        financial_status="poor",
        responsible_id=sales.id,
    )
    due = today - timedelta(days=120)
    ledger.create_item(
        document_no="LEAD-INV-1",
        counterparty_id=counterparty.id,
        item_type="goods",
        amount=Decimal("250000.00"),
        recognized_on=due - timedelta(days=30),
        due_on=due,
    )
    case = cases.open_case(counterparty, actor=sales, today=today, cause="cash_shortage")
    strategy = strategies.record_strategy(
        case, "secured", "Mortgage on the dealer's warehouse", actor=sales, as_of=today
    )
    strategies.update_strategy(
        strategy,
        version=strategy.version,
        actor=sales,
        today=today,
        investigation="Warehouse visited; title deed checked.",
    )
    strategies.add_collateral(
        strategy,
        kind="mortgage",
        asset="Warehouse, 12 Industrial Road",
        value=Decimal("300000.00"),
        today=today,
    )
    strategies.submit_strategy(strategy, version=strategy.version, actor=sales, as_of=today)
    for reviewer in (finance, legal):
        strategies.decide_strategy(
            strategy, "approved", None, version=strategy.version, actor=reviewer
        )
    db.session.commit()
    assert strategy.step == "leader_approval"
    return strategy.id


def test_a_leader_approves_a_secured_arrangement(ui):
    server, page = ui.server, ui.page
    strategy_id = server.query(_secured_arrangement_at_leader_step)

    ui.login("executive")
    ui.goto(server.path("cases.approvals"))
    row = page.get_by_test_id("approval-table").locator(f"tr[data-strategy='{strategy_id}']")
    expect(row).to_contain_text("LEAD-01")
    ui.screenshot("leader-approvals")

    ui.submit(row.get_by_test_id(f"approve-{strategy_id}"))
    expect(page).to_have_url(ui.path_is("cases.strategy", strategy_id=strategy_id))
    expect(page.get_by_test_id("strategy-status")).to_have_attribute("data-status", "approved")
    chain = page.get_by_test_id("chain")
    for step in strategies.CHAIN:
        expect(chain.locator(f"[data-step='{step}']")).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("decisions").locator("tr[data-decision='approved']")).to_have_count(
        3
    )
    ui.screenshot("leader-approved")

    ui.goto(server.path("cases.approvals"))
    expect(page.locator(f"tr[data-strategy='{strategy_id}']")).to_have_count(0)
    expect(page.get_by_test_id("empty-state")).to_be_visible()

    # The case page shows the arrangement approved, with the whole chain done.
    case_id = server.query(lambda: db.session.get(Strategy, strategy_id).case_id)
    ui.goto(server.path("cases.show", case_id=case_id))
    line = page.get_by_test_id("strategy-table").locator(f"tr[data-strategy='{strategy_id}']")
    expect(line.get_by_test_id("strategy-status")).to_have_attribute("data-status", "approved")
    expect(page.get_by_test_id("figure-outstanding")).to_have_text("250,000.00")
    ui.screenshot("leader-case")

    def decided():
        strategy = db.session.get(Strategy, strategy_id)
        last = strategy.decisions[-1]
        return strategy.status, last.step, last.decided_by.username

    assert server.query(decided) == ("approved", "leader_approval", "executive")
    assert (
        server.query(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Strategy)))
        == 1
    )
