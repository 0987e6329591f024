"""The worklist's pages: every line on exactly one page, in rank order, with its count and its
signs — also the signs found outside SQL (service-level breaches, limitation) on lines that
are not on the first page."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from recovery.auth import services as auth
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.routes import company_today
from recovery.worklist import queries
from recovery.worklist.service_levels import Levels
from tests.conftest import TEST_PASSWORD, login
from tests.worklist.conftest import L

AS_OF = date(2026, 3, 10)  # a Tuesday
NOW = L(2026, 3, 10, 12, 0)
# Due 1 May 2023: three years end on Labour Day 2026, so on 6 May (art. 203), within the
# 180-day warning of the as-of date.
OLD_DUE = date(2023, 5, 1)
EXPIRES = date(2026, 5, 6)


def user(username, *roles, department=None):
    return auth.create_user(
        username, TEST_PASSWORD, roles or ("sales",), display_name=username, department=department
    )


def page_of(owners, number, per_page, **kwargs):
    return queries.worklist_page(
        [owner.id for owner in owners],
        AS_OF,
        NOW,
        levels=Levels(),
        page=number,
        per_page=per_page,
        **kwargs,
    )


def breaching_case(work, counterparty, assignee):
    """Assigned yesterday 09:00 and not acted on: the first action was due at 11:00."""
    return work.case(
        counterparty,
        opened_at=L(2026, 3, 9, 8, 0),
        assignee_id=assignee.id,
        assigned_at=L(2026, 3, 9, 9, 0),
    )


@pytest.fixture
def accounts(work):
    """Six lines of the sales user's, and accounts that must not be lines."""
    sales, other = user("s1"), user("o1")
    cp = {}
    # BOTH: a breach on its case and a debt whose limitation is approaching (two signs).
    cp["BOTH"] = work.counterparty("BOTH", responsible_id=sales.id)
    work.item(cp["BOTH"], 3, date(2023, 4, 1), OLD_DUE)
    breaching_case(work, cp["BOTH"], sales)
    # LIM: limitation only; a tiny debt, so its yuan-days are small.
    cp["LIM"] = work.counterparty("LIM", responsible_id=sales.id)
    work.item(cp["LIM"], 5, date(2023, 4, 1), OLD_DUE)
    # BR: someone else's counterparty with nothing overdue; the case assigned to the sales
    # user is late for its first action — the breach is its only sign.
    cp["BR"] = work.counterparty("BR", responsible_id=other.id)
    breaching_case(work, cp["BR"], sales)
    # No sign: ranked by overdue × days — BIG 500,000, MID 100,000, SMALL 50 yuan-days.
    cp["BIG"] = work.counterparty("BIG", responsible_id=sales.id)
    work.item(cp["BIG"], 50000, AS_OF - timedelta(days=40), AS_OF - timedelta(days=10))
    cp["MID"] = work.counterparty("MID", responsible_id=sales.id)
    work.item(cp["MID"], 1000, AS_OF - timedelta(days=130), AS_OF - timedelta(days=100))
    cp["SMALL"] = work.counterparty("SMALL", responsible_id=sales.id)
    work.item(cp["SMALL"], 10, AS_OF - timedelta(days=35), AS_OF - timedelta(days=5))
    # Not lines: nothing overdue, no case, no sign; a debt settled in full; someone else's.
    cp["NONE"] = work.counterparty("NONE", responsible_id=sales.id)
    work.item(cp["NONE"], 500, AS_OF, AS_OF + timedelta(days=30))
    cp["PAID"] = work.counterparty("PAID", responsible_id=sales.id)
    work.item(cp["PAID"], 800, AS_OF - timedelta(days=60), AS_OF - timedelta(days=30))
    work.receipt(cp["PAID"], 800, AS_OF - timedelta(days=2))
    cp["THEIRS"] = work.counterparty("THEIRS", responsible_id=other.id)
    work.item(cp["THEIRS"], 99999, AS_OF - timedelta(days=330), AS_OF - timedelta(days=300))
    return sales, other, cp


RANKED = ["BOTH", "LIM", "BR", "BIG", "MID", "SMALL"]


def test_each_page_shows_its_share_of_the_ranking(accounts):
    sales, _other, _cp = accounts
    pages = [page_of([sales], number, 2) for number in (1, 2, 3)]
    assert [[line.code for line in page.items] for page in pages] == [
        ["BOTH", "LIM"],
        ["BR", "BIG"],
        ["MID", "SMALL"],
    ]
    assert {page.total for page in pages} == {6} and {page.pages for page in pages} == {3}
    assert [line.code for line in page_of([sales], 1, 50).items] == RANKED

    first, second, third = ({line.code: line for line in page.items} for page in pages)
    assert first["BOTH"].attention == 2
    assert [b.rule for b in first["BOTH"].breaches] == ["first_action"]
    assert first["BOTH"].limitation_on == EXPIRES and first["BOTH"].limitation_flag
    assert first["LIM"].attention == 1 and first["LIM"].limitation_on == EXPIRES
    assert first["LIM"].breaches == [] and first["LIM"].exposure == Decimal(
        5 * (AS_OF - OLD_DUE).days
    )
    # The breach found in Python still ranks and marks a line of the second page.
    assert second["BR"].attention == 1 and [b.rule for b in second["BR"].breaches] == [
        "first_action"
    ]
    assert second["BR"].overdue == Decimal("0.00") and second["BR"].case_number is not None
    assert second["BR"].responsible == "o1" and second["BR"].limitation_on is None
    assert second["BIG"].attention == 0 and second["BIG"].breaches == []
    assert second["BIG"].exposure == Decimal("500000.00") and second["BIG"].days_overdue == 10
    assert third["MID"].exposure == Decimal("100000.00")
    assert third["MID"].oldest_due_on == AS_OF - timedelta(days=100)
    assert third["SMALL"].overdue == Decimal("10.00") and third["SMALL"].days_overdue == 5


def test_a_page_past_the_end_is_empty_but_keeps_the_count(accounts):
    sales, _other, _cp = accounts
    past = page_of([sales], 4, 2)
    assert past.items == [] and past.total == 6 and past.pages == 3
    nobody = user("n1")
    empty = page_of([nobody], 1, 2)
    assert empty.items == [] and empty.total == 0
    assert page_of([nobody], 3, 2).total == 0


def test_a_page_boundary_through_equal_signs_follows_the_amounts(accounts):
    """The line that slides across the boundary when another account gains a sign."""
    sales, _other, cp = accounts
    # A next step due today on SMALL: one sign, and the smallest amount of those with one.
    work_activity = cp["SMALL"]
    from recovery.activities.models import Activity

    db.session.add(
        Activity(
            counterparty_id=work_activity.id,
            user_id=sales.id,
            kind="call",
            occurred_at=L(2026, 3, 9, 10, 0),
            summary="call",
            next_step="call back",
            next_step_on=AS_OF,
        )
    )
    db.session.flush()
    pages = [[line.code for line in page_of([sales], n, 2).items] for n in (1, 2, 3)]
    assert pages == [["BOTH", "LIM"], ["SMALL", "BR"], ["BIG", "MID"]]


def test_a_team_sees_each_account_once(accounts):
    sales, other, _cp = accounts
    # BR is the other person's counterparty and its case is the sales user's: one line.
    codes = [line.code for line in page_of([sales, other], 1, 50).items]
    assert codes == ["BOTH", "LIM", "BR", "THEIRS", "BIG", "MID", "SMALL"]
    assert page_of([sales, other], 2, 3).total == 7
    assert [line.code for line in page_of([sales, other], 2, 3).items] == ["THEIRS", "BIG", "MID"]


def test_the_worklist_page_marks_breaches_and_limitation_beyond_the_first_page(
    client, app, make_user, monkeypatch
):
    sales = make_user("sl", "sales")
    with app.app_context():
        from tests.worklist.conftest import WorkBuilder

        work = WorkBuilder()
        other = user("o1")
        today = company_today()
        long_ago = utcnow() - timedelta(days=30)
        four_years_ago = today - timedelta(days=4 * 365)

        def expired_debt(cp, amount):  # limitation ended: a sign
            work.item(cp, amount, four_years_ago - timedelta(days=30), four_years_ago)

        def late_case(cp):  # assigned a month ago, never acted on: a breach
            work.case(cp, opened_at=long_ago, assignee_id=sales.id, assigned_at=long_ago)

        # Page 1: two signs each. Page 2: one sign each — the breach found in Python on a
        # line without any debt. Pages 3 and 4: no sign, by overdue × days.
        for code in ("TWO-A", "TWO-B"):
            cp = work.counterparty(code, responsible_id=sales.id)
            expired_debt(cp, 2)
            late_case(cp)
        expired_debt(work.counterparty("EXP", responsible_id=sales.id), 1)
        late_case(work.counterparty("BR", responsible_id=other.id))
        for n, amount in enumerate((3000, 2000, 1000)):
            cp = work.counterparty(f"D{n}", responsible_id=sales.id)
            work.item(cp, amount, today - timedelta(days=90), today - timedelta(days=60))
        db.session.commit()
    monkeypatch.setattr(
        queries, "worklist_page", functools.partial(queries.worklist_page, per_page=2)
    )
    login(client, "sl")
    pages = [client.get(f"/worklist/?page={n}").get_data(as_text=True) for n in (1, 2, 3, 4)]

    def rows(html):
        return [part.split('"', 1)[0] for part in html.split('data-counterparty="')[1:]]

    def reasons(html, code):
        row = html.split(f'data-counterparty="{code}"', 1)[1].split("</tr>", 1)[0]
        return [part.split('"', 1)[0] for part in row.split('data-reason="')[1:]]

    assert [rows(html) for html in pages] == [
        ["TWO-A", "TWO-B"],
        ["EXP", "BR"],
        ["D0", "D1"],
        ["D2"],
    ]
    assert reasons(pages[0], "TWO-A") == ["breach-first_action", "limitation"]
    assert reasons(pages[1], "EXP") == ["limitation"]
    assert reasons(pages[1], "BR") == ["breach-first_action"]
    assert reasons(pages[2], "D0") == [] and reasons(pages[3], "D2") == []
    assert 'data-attention="1"' in pages[1] and 'data-attention="1"' not in pages[2]


def test_the_team_page_marks_the_breaches_it_lists(client, app, make_user):
    """The team page finds its breaches once (the pool of unassigned cases included) and
    marks its lines with the open ones of each line's case."""
    with app.app_context():
        from tests.worklist.conftest import WorkBuilder

        work = WorkBuilder()
        company = auth.create_department("集团", "company", None)
        region = auth.create_department("华东区", "department", company)
        user("boss", "supervisor", department=region)
        member = user("near", department=region)
        outsider = user("out")
        long_ago = utcnow() - timedelta(days=30)
        today = company_today()
        late = work.counterparty("LATE", responsible_id=member.id)
        work.case(late, opened_at=long_ago, assignee_id=member.id, assigned_at=long_ago)
        calm = work.counterparty("CALM", responsible_id=member.id)
        work.item(calm, 100, today - timedelta(days=90), today - timedelta(days=60))
        # The pool: a case nobody was assigned, of a counterparty outside the team.
        pool = work.counterparty("POOL", responsible_id=outsider.id)
        work.case(pool, number="QQ-POOL", opened_at=long_ago, origin="imported")
        db.session.commit()
    login(client, "boss")
    html = client.get("/worklist/team").get_data(as_text=True)
    assert 'data-case="QQ-POOL" data-rule="assignment"' in html
    lines = html.split('data-testid="worklist-lines"', 1)[1]
    assert [part.split('"', 1)[0] for part in lines.split('data-counterparty="')[1:]] == [
        "LATE",
        "CALM",
    ]
    late_row = lines.split('data-counterparty="LATE"', 1)[1].split("</tr>", 1)[0]
    assert 'data-reason="breach-first_action"' in late_row
    calm_row = lines.split('data-counterparty="CALM"', 1)[1].split("</tr>", 1)[0]
    assert "data-reason=" not in calm_row
