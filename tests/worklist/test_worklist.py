"""The worklist: whose accounts, the ranking, the attention signs, the page and its links."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.auth import services as auth
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.worklist import queries
from recovery.worklist.service_levels import Levels
from tests.conftest import TEST_PASSWORD, login
from tests.worklist.conftest import L

AS_OF = date(2026, 3, 10)  # a Tuesday
NOW = L(2026, 3, 10, 12, 0)


def user(username, *roles, department=None):
    return auth.create_user(
        username, TEST_PASSWORD, roles or ("sales",), display_name=username, department=department
    )


def ranked(owner, **kwargs):
    page = queries.worklist_page([owner.id], AS_OF, NOW, levels=Levels(), **kwargs)
    return page, {line.code: line for line in page.items}


def test_the_ranking_puts_attention_first_then_overdue_times_days(work):
    sales, other = user("s1"), user("o1")
    cp = {
        code: work.counterparty(code, responsible_id=sales.id)
        for code in ("A", "B", "C", "D", "F", "H", "I")
    }
    cp["E"] = work.counterparty("E", responsible_id=other.id)
    cp["G"] = work.counterparty("G", responsible_id=other.id)
    # A: 1,000 overdue 100 days; B: 50,000 overdue 10 days (500,000 yuan-days > 100,000).
    work.item(cp["A"], 1000, AS_OF - timedelta(days=130), AS_OF - timedelta(days=100))
    work.item(cp["B"], 50000, AS_OF - timedelta(days=40), AS_OF - timedelta(days=10))
    # C: small, but a next step falls due today.
    work.item(cp["C"], 10, AS_OF - timedelta(days=35), AS_OF - timedelta(days=5))
    work.activity(cp["C"], sales, L(2026, 3, 6, 10, 0), next_step="call back", next_step_on=AS_OF)
    # D: a promise made on 1 March for 6 March, broken, not followed up; and its next step.
    work.item(cp["D"], 100, AS_OF - timedelta(days=33), AS_OF - timedelta(days=3))
    call = work.activity(
        cp["D"],
        sales,
        L(2026, 3, 1, 10, 0),
        next_step="check payment",
        next_step_on=date(2026, 3, 7),
    )
    work.promise(cp["D"], sales, 100, date(2026, 3, 1), date(2026, 3, 6), activity_id=call.id)
    # E: someone else's counterparty, but its case is assigned to the sales user, who has not
    # acted since yesterday 09:00: a first-action breach (deadline 11:00 yesterday).
    work.case(
        cp["E"],
        opened_at=L(2026, 3, 9, 8, 0),
        assignee_id=sales.id,
        assigned_at=L(2026, 3, 9, 9, 0),
    )
    # F: the sales user's, nothing overdue and nothing to do: not on the worklist.
    work.item(cp["F"], 500, AS_OF, AS_OF + timedelta(days=30))
    # G: someone else's and no case for the sales user: not on the worklist.
    work.item(cp["G"], 99999, AS_OF - timedelta(days=400), AS_OF - timedelta(days=300))
    # H: a broken promise followed up by a call on the day after: no sign.
    work.item(cp["H"], 1, AS_OF - timedelta(days=31), AS_OF - timedelta(days=1))
    work.promise(cp["H"], sales, 50, date(2026, 3, 2), date(2026, 3, 4))
    work.activity(cp["H"], sales, L(2026, 3, 5, 9, 0))
    # I: due on 1 May 2023: three years end on 1 May 2026, Labour Day, so the last day is the
    # next working day, 6 May (art. 203) — within the 180-day warning.
    work.item(cp["I"], 5, date(2023, 4, 1), date(2023, 5, 1))

    page, lines = ranked(sales)
    order = [line.code for line in page.items]
    assert order == ["D", "I", "C", "E", "B", "A", "H"]
    assert page.total == 7

    assert lines["D"].attention == 2 and lines["D"].broken_promises == 1
    assert lines["D"].next_step_on == date(2026, 3, 7) and lines["D"].next_step == "check payment"
    assert lines["I"].limitation_on == date(2026, 5, 6) and lines["I"].attention == 1
    assert lines["I"].days_overdue == (AS_OF - date(2023, 5, 1)).days
    assert lines["C"].next_step_on == AS_OF
    assert [b.rule for b in lines["E"].breaches] == ["first_action"]
    assert lines["E"].case_number is not None and lines["E"].overdue == Decimal("0.00")
    assert lines["H"].broken_promises == 0 and lines["H"].attention == 0
    assert lines["B"].overdue == Decimal("50000.00") and lines["B"].days_overdue == 10
    assert lines["B"].exposure == Decimal("500000.00")
    assert lines["A"].exposure == Decimal("100000.00")


def test_a_later_activity_replaces_the_next_step(work):
    sales = user("s1")
    cp = work.counterparty("X", responsible_id=sales.id)
    work.item(cp, 100, AS_OF - timedelta(days=40), AS_OF - timedelta(days=10))
    work.activity(cp, sales, L(2026, 3, 2, 10), next_step="visit", next_step_on=date(2026, 3, 5))
    _, lines = ranked(sales)
    assert lines["X"].next_step_on == date(2026, 3, 5)
    # Yesterday's call set its next step for next week: nothing is due any more.
    work.activity(cp, sales, L(2026, 3, 9, 10), next_step="again", next_step_on=date(2026, 3, 16))
    _, lines = ranked(sales)
    assert lines["X"].next_step_on is None and lines["X"].attention == 0


def test_promise_kept_gives_no_sign_and_pagination(work):
    sales = user("s1")
    counterparties = [work.counterparty(f"P{n:02d}", responsible_id=sales.id) for n in range(5)]
    for n, cp in enumerate(counterparties):
        work.item(cp, 100 * (n + 1), AS_OF - timedelta(days=60), AS_OF - timedelta(days=30))
    kept = counterparties[0]
    work.promise(kept, sales, 50, date(2026, 3, 1), date(2026, 3, 5))
    work.receipt(kept, 50, date(2026, 3, 4))
    page = queries.worklist_page([sales.id], AS_OF, NOW, levels=Levels(), per_page=2, page=1)
    assert page.total == 5 and page.pages == 3
    assert [line.code for line in page.items] == ["P04", "P03"]
    last = queries.worklist_page([sales.id], AS_OF, NOW, levels=Levels(), per_page=2, page=3)
    assert [line.code for line in last.items] == ["P00"]
    assert last.items[0].broken_promises == 0 and last.items[0].attention == 0


def test_team_is_the_department_and_its_sub_departments(work):
    company = auth.create_department("集团", "company", None)
    region = auth.create_department("华东区", "department", company)
    branch = auth.create_department("苏州办", "department", region)
    elsewhere = auth.create_department("华南区", "department", company)
    boss = user("boss", "supervisor", department=region)
    near = user("near", department=region)
    far = user("far", department=branch)
    out = user("out", department=elsewhere)
    loner = user("loner", "supervisor")
    db.session.flush()
    assert queries.team_user_ids(boss) == sorted([boss.id, near.id, far.id])
    assert out.id not in queries.team_user_ids(boss)
    assert queries.team_user_ids(loner) == [loner.id]
    assert set(queries.department_subtree(region.id)) == {region.id, branch.id}


@pytest.fixture
def team_setup(app):
    """A supervisor with two people in their department tree and one outside, each with a
    case whose first action is long overdue (relative to the real clock)."""
    with app.app_context():
        from tests.worklist.conftest import WorkBuilder

        work = WorkBuilder()
        company = auth.create_department("集团", "company", None)
        region = auth.create_department("华东区", "department", company)
        branch = auth.create_department("苏州办", "department", region)
        elsewhere = auth.create_department("华南区", "department", company)
        user("boss", "supervisor", department=region)
        people = {
            "near": user("near", department=region),
            "far": user("far", department=branch),
            "out": user("out", department=elsewhere),
        }
        long_ago = utcnow() - timedelta(days=30)
        today = date.today()
        for name, person in people.items():
            cp = work.counterparty(f"CP-{name}", name=f"客户{name}", responsible_id=person.id)
            work.item(cp, 1000, today - timedelta(days=90), today - timedelta(days=60))
            work.case(
                cp,
                number=f"QQ-{name}",
                opened_at=long_ago,
                assignee_id=person.id,
                assigned_at=long_ago,
            )
        # A case nobody was assigned: the pool every supervisor sees.
        pool = work.counterparty("CP-pool", responsible_id=people["out"].id)
        work.item(pool, 500, today - timedelta(days=90), today - timedelta(days=60))
        work.case(pool, number="QQ-pool", opened_at=long_ago, origin="imported")
        db.session.commit()


def test_team_page_shows_the_teams_breaches_only(client, team_setup):
    login(client, "boss")
    page = client.get("/worklist/team")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-case="QQ-near"' in html and 'data-case="QQ-far"' in html
    assert 'data-case="QQ-out"' not in html
    assert "CP-near" in html and "CP-far" in html and "CP-out" not in html
    assert 'data-rule="first_action"' in html
    assert '<tr data-case="QQ-pool" data-rule="assignment">' in html


def test_supervisor_lands_on_the_team_worklist_and_sales_on_theirs(client, make_user):
    make_user("sv", "supervisor")
    make_user("sl", "sales")
    response = login(client, "sv")
    assert client.get("/").headers["Location"].endswith("/worklist/team")
    assert client.get("/home/supervisor").headers["Location"].endswith("/worklist/team")
    client.get("/logout")
    other = client.application.test_client()
    assert response.status_code == 302
    login(other, "sl")
    assert other.get("/").headers["Location"].endswith("/worklist/")
    assert other.get("/worklist/").status_code == 200
    assert other.get("/worklist/team").status_code == 403


def test_worklist_page_links_each_line_to_its_actions(client, app, make_user):
    sales = make_user("sl", "sales")
    with app.app_context():
        from tests.worklist.conftest import WorkBuilder

        work = WorkBuilder()
        today = date.today()
        cp = work.counterparty("CP1", name="欠款客户", responsible_id=sales.id)
        work.item(cp, 1234.5, today - timedelta(days=90), today - timedelta(days=60))
        with_case = work.counterparty("CP2", name="有案件客户", responsible_id=sales.id)
        work.item(with_case, 10, today - timedelta(days=90), today - timedelta(days=60))
        case = work.case(
            with_case, number="QQ-1", opened_at=utcnow(), assignee_id=sales.id, assigned_at=utcnow()
        )
        case_id, cp_id = case.id, cp.id
        db.session.commit()
    login(client, "sl")
    html = client.get("/worklist/").get_data(as_text=True)
    assert 'data-counterparty="CP1"' in html and "1,234.50" in html
    if "activities.new" in app.view_functions:
        assert f"/activities/new?counterparty_id={cp_id}&amp;kind=call" in html
        assert f"case_id={case_id}" in html
    if "cases.new" in app.view_functions:
        assert f"/cases/new?counterparty_id={cp_id}" in html
    if "cases.show" in app.view_functions:
        assert f"/cases/{case_id}" in html


def test_empty_worklist(client, login_as):
    login_as("sales")
    html = client.get("/worklist/").get_data(as_text=True)
    assert 'data-testid="empty-state"' in html


def test_what_waits_for_a_decision(work):
    from recovery.activities.models import Dispute
    from recovery.cases.models import ApprovalDecision, Strategy

    sales = user("s1")
    finance = user("f1", "finance")
    company = auth.create_department("集团", "company", None)
    boss = user("boss", "supervisor", department=company)
    db.session.flush()
    db.session.execute(
        sa.update(auth.User).where(auth.User.id == sales.id).values(department_id=company.id)
    )
    cp = work.counterparty("S1", responsible_id=sales.id)
    item = work.item(cp, 800, AS_OF - timedelta(days=60), AS_OF - timedelta(days=30))
    case = work.case(
        cp, opened_at=L(2026, 3, 1, 9), assignee_id=sales.id, assigned_at=L(2026, 3, 1, 9)
    )
    strategy = Strategy(
        case_id=case.id,
        kind="secured",
        status="pending",
        step="finance_review",
        proposed_by_id=sales.id,
        submitted_at=L(2026, 3, 2, 9),
    )
    db.session.add(strategy)
    db.session.flush()
    db.session.add(
        ApprovalDecision(
            strategy_id=strategy.id,
            step="finance_review",
            decision="submitted",
            decided_by_id=sales.id,
        )
    )
    work.activity(cp, sales, L(2026, 3, 3, 15), kind="visit", case=case, review_status="pending")
    work.extension(case, sales, L(2026, 3, 4, 9), date(2026, 3, 12))
    db.session.add(
        Dispute(
            item_id=item.id,
            counterparty_id=cp.id,
            amount=Decimal("100"),
            reason="quality",
            description="broken part",
            owner_id=sales.id,
            deadline=date(2026, 3, 9),
            raised_on=date(2026, 3, 1),
            opened_by_id=sales.id,
        )
    )
    db.session.flush()

    for_finance = queries.waiting_for(finance, AS_OF)
    assert [s.id for s in for_finance.strategies] == [strategy.id]
    assert for_finance.strategy_count == 1 and for_finance.visit_reviews == 0
    for_boss = queries.waiting_for(boss, AS_OF)
    assert for_boss.strategy_count == 0
    assert for_boss.visit_reviews == 1 and len(for_boss.extensions) == 1
    for_sales = queries.waiting_for(sales, AS_OF)
    assert for_sales.strategy_count == 0 and for_sales.disputes_due == 1
    assert not queries.waiting_for(finance, date(2026, 3, 8)).disputes_due
    # The proposer never approves their own strategy, so it is no sign on their own line.
    _, lines = ranked(sales, approver=sales)
    assert lines["S1"].approvals == 0
    # The finance reviewer's line would carry it, were the account theirs.
    page = queries.worklist_page([sales.id], AS_OF, NOW, levels=Levels(), approver=finance)
    assert page.items[0].approvals == 1 and page.items[0].attention >= 1
