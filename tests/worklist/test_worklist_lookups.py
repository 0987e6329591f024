"""The worklist's per-account lookups give the answers the rules define: the latest activity
of an account (ties on the time broken by the later record), and the cases whose breaches
count (assigned to the person, or on their account whoever works them)."""

from __future__ import annotations

from datetime import date, timedelta

from recovery.auth import services as auth
from recovery.worklist import queries
from recovery.worklist.service_levels import Levels, find_breaches
from tests.conftest import TEST_PASSWORD
from tests.worklist.conftest import L

AS_OF = date(2026, 3, 10)  # a Tuesday
NOW = L(2026, 3, 10, 12, 0)


def user(username, *roles):
    return auth.create_user(username, TEST_PASSWORD, roles or ("sales",), display_name=username)


def lines(owner):
    page = queries.worklist_page([owner.id], AS_OF, NOW, levels=Levels())
    return {line.code: line for line in page.items}


def test_the_latest_activity_at_the_same_moment_is_the_one_recorded_last(work):
    sales = user("s1")
    due = work.counterparty("DUE", responsible_id=sales.id)
    not_due = work.counterparty("NOTDUE", responsible_id=sales.id)
    cleared = work.counterparty("CLEARED", responsible_id=sales.id)
    for cp in (due, not_due, cleared):
        work.item(cp, 100, AS_OF - timedelta(days=40), AS_OF - timedelta(days=10))
    same = L(2026, 3, 6, 10, 0)
    older = L(2026, 3, 2, 10, 0)
    # DUE: two activities at the same moment; the one recorded last has a step due today.
    work.activity(due, sales, older, next_step="old", next_step_on=date(2026, 3, 3))
    work.activity(due, sales, same, next_step="later", next_step_on=date(2026, 3, 20))
    work.activity(due, sales, same, next_step="call back", next_step_on=AS_OF)
    # NOTDUE: the same, the other way round: the step due is replaced by the later record's.
    work.activity(not_due, sales, same, next_step="call back", next_step_on=AS_OF)
    work.activity(not_due, sales, same, next_step="later", next_step_on=date(2026, 3, 20))
    # CLEARED: the latest activity set no next step: the earlier one due no longer counts.
    work.activity(cleared, sales, older, next_step="visit", next_step_on=date(2026, 3, 5))
    work.activity(cleared, sales, same)

    found = lines(sales)
    assert found["DUE"].next_step == "call back" and found["DUE"].next_step_on == AS_OF
    assert found["DUE"].attention == 1
    for code in ("NOTDUE", "CLEARED"):
        assert found[code].next_step_on is None and found[code].next_step is None
        assert found[code].attention == 0


def test_an_activity_of_another_account_does_not_replace_the_step(work):
    sales = user("s1")
    mine = work.counterparty("MINE", responsible_id=sales.id)
    other = work.counterparty("OTHER", responsible_id=sales.id)
    work.item(mine, 100, AS_OF - timedelta(days=40), AS_OF - timedelta(days=10))
    work.activity(mine, sales, L(2026, 3, 2, 10), next_step="visit", next_step_on=AS_OF)
    work.activity(other, sales, L(2026, 3, 9, 10), next_step="later", next_step_on=AS_OF)
    found = lines(sales)
    assert found["MINE"].next_step == "visit" and found["OTHER"].next_step == "later"


def test_breaches_count_for_the_assignee_and_for_the_accounts_responsible(work):
    sales, colleague, stranger = user("s1"), user("s2"), user("s3")
    # Someone else's counterparty whose case is assigned to the sales user.
    assigned = work.counterparty("ASSIGNED", responsible_id=stranger.id)
    # The sales user's counterparty whose case a colleague works.
    own = work.counterparty("OWN", responsible_id=sales.id)
    # Neither: not the sales user's breach.
    neither = work.counterparty("NEITHER", responsible_id=stranger.id)
    # The sales user's counterparty, its case done in time: no breach.
    on_time = work.counterparty("ONTIME", responsible_id=sales.id)
    cases = {}
    for cp, assignee in ((assigned, sales), (own, colleague), (neither, colleague)):
        cases[cp.code] = work.case(
            cp, opened_at=L(2026, 3, 9, 8, 0), assignee_id=assignee.id, assigned_at=L(2026, 3, 9, 9)
        )
    work.case(
        on_time,
        opened_at=L(2026, 3, 9, 8, 0),
        assignee_id=colleague.id,
        assigned_at=L(2026, 3, 9, 9),
        first_action_at=L(2026, 3, 9, 10),
    )

    levels = Levels()
    by_condition = find_breaches(NOW, cases=queries.account_cases([sales.id]), levels=levels)
    by_ids = find_breaches(NOW, case_ids=queries.account_case_ids([sales.id]), levels=levels)
    assert by_condition == by_ids
    assert {b.case_id for b in by_condition} == {cases["ASSIGNED"].id, cases["OWN"].id}
    assert {b.rule for b in by_condition} == {"first_action"}

    found = lines(sales)
    assert set(found) == {"ASSIGNED", "OWN", "ONTIME"}
    assert [b.case_id for b in found["ASSIGNED"].breaches] == [cases["ASSIGNED"].id]
    assert [b.case_id for b in found["OWN"].breaches] == [cases["OWN"].id]
    assert found["ONTIME"].breaches == [] and found["ONTIME"].attention == 0
    # The colleague sees the case they work, and not the sales user's other accounts.
    assert set(lines(colleague)) == {"OWN", "NEITHER", "ONTIME"}


def test_a_team_with_the_unassigned_pool_and_a_department(work):
    boss = user("boss", "supervisor")
    member = user("member")
    company = auth.create_department("集团", "company", None)
    department = auth.create_department("华东区", "department", company)
    pooled = work.counterparty("POOL", responsible_id=member.id)
    in_department = work.counterparty("DEPT", department_id=department.id)
    outside = work.counterparty("OUT")
    pool_case = work.case(pooled, opened_at=L(2026, 3, 2, 8, 0))
    dept_case = work.case(in_department, opened_at=L(2026, 3, 2, 8, 0), assignee_id=boss.id)
    work.case(
        outside, opened_at=L(2026, 3, 2, 8, 0), assignee_id=member.id, assigned_at=L(2026, 3, 9, 9)
    )
    team = [boss.id]
    condition = queries.account_cases(team, departments=[department.id], unassigned=True)
    ids = queries.account_case_ids(team, departments=[department.id], unassigned=True)
    found = find_breaches(NOW, cases=condition, levels=Levels())
    assert found == find_breaches(NOW, case_ids=ids, levels=Levels())
    assert {b.case_id for b in found} == {pool_case.id, dept_case.id}
