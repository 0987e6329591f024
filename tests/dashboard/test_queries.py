"""The dashboard's SQL: balances equal the ledger's own, and every drill-down list adds up to
the figure it stands behind (whole list, not only its first page)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.activities.models import Dispute
from recovery.cases.models import RecoveryCase, Strategy
from recovery.core.pagination import PER_PAGE
from recovery.dashboard import kpis, queries
from recovery.extensions import db
from recovery.ledger import rules as ledger_rules
from recovery.ledger import screen_queries
from recovery.ledger.queries import LedgerFilter
from tests.dashboard.example import MARCH, build_example, departments

D = date


def all_pages(fetch):
    """Every row of a paginated list."""
    rows, number = [], 1
    while True:
        listed = fetch(number)
        page = getattr(listed, "page", listed)
        rows += page.items
        if not page.has_next:
            return listed, rows
        number += 1


@pytest.fixture
def random_ledger(build):
    """About 70 items over a year and a half, receipts, a few named, two departments."""
    _company, one, two = departments()
    chooser = random.Random(6)
    parties = [
        build.counterparty(f"Q{n}", department_id=chooser.choice([one.id, two.id]))
        for n in range(6)
    ]
    for _ in range(70):
        party = chooser.choice(parties)
        day = D.fromordinal(D(2025, 1, 1).toordinal() + chooser.randrange(0, 500))
        build.item(
            party,
            f"{chooser.randrange(10, 900)}.{chooser.randrange(0, 100):02d}",
            day,
            D.fromordinal(day.toordinal() + chooser.choice([0, 15, 30, 90])),
            department_id=chooser.choice([one.id, two.id, None]),
        )
    for _ in range(45):
        party = chooser.choice(parties)
        day = D.fromordinal(D(2025, 2, 1).toordinal() + chooser.randrange(0, 500))
        build.receipt(party, f"{chooser.randrange(10, 1200)}.00", day)
    db.session.commit()
    return one, two


AS_OF_DATES = (D(2025, 3, 31), D(2025, 9, 14), D(2026, 1, 31), D(2026, 6, 30))


def test_balances_equal_the_ledgers_totals(random_ledger):
    one, _two = random_ledger
    for as_of in AS_OF_DATES:
        mine = queries.balances(as_of)
        theirs = screen_queries.totals(as_of, screen_queries.ScreenFilter(open_only=True))
        assert (mine.count, mine.receivables, mine.overdue) == (
            theirs.count,
            theirs.outstanding,
            theirs.overdue,
        ), as_of
        assert mine.due == theirs.due and mine.age == theirs.age
        # A department (a leaf: its tree is itself) against the ledger's department filter.
        dept = queries.balances(as_of, queries.scope_for(one.id))
        ledger = screen_queries.totals(
            as_of, screen_queries.ScreenFilter(open_only=True, department_id=one.id)
        )
        assert (dept.receivables, dept.overdue) == (ledger.outstanding, ledger.overdue)


@pytest.mark.parametrize("later", [True, False], ids=["later", "by-then"])
def test_both_ways_to_a_past_balance_equal_the_ledgers(
    random_ledger, make_user, monkeypatch, later
):
    """A past balance from the open amount plus what came later (the usual way), or from
    the amount less what came by then (the way for dates far back), with approved
    credits on either side of the dates."""
    from recovery.ledger import services as ledger
    from recovery.ledger.models import Item

    finance, approver = make_user("dash.finance", "finance"), make_user("dash.approver", "finance")
    items = db.session.scalars(
        sa.select(Item).where(Item.open_amount >= Decimal("4.00")).order_by(Item.id)
    ).all()
    # Early items credited twice: before an as-of date and after it (so that, as of the
    # date, the item has moved since and was credited by then).
    early = sorted(items, key=lambda item: item.recognized_on)[:3]
    assert early[-1].recognized_on < D(2026, 1, 31)
    for number, item in enumerate(early):
        between = next(d for d in AS_OF_DATES if d >= item.recognized_on)
        for half, day in enumerate((between, D(2026, 6, 1))):
            adjustment = ledger.propose_adjustment(
                item, kind="credit_note", amount=Decimal("2.00"), dated_on=day, reason="test",
                number=f"CN-{number}-{half}", actor=finance,
            )  # fmt: skip
            ledger.decide_adjustment(adjustment, approve=True, actor=approver)
    db.session.commit()
    monkeypatch.setattr(queries, "_fewer_applications_after", lambda _as_of: later)
    for as_of in AS_OF_DATES:
        mine = queries.balances(as_of)
        theirs = screen_queries.totals(as_of, screen_queries.ScreenFilter(open_only=True))
        assert (mine.count, mine.receivables, mine.overdue) == (
            theirs.count,
            theirs.outstanding,
            theirs.overdue,
        ), as_of
        assert mine.due == theirs.due and mine.age == theirs.age


def test_every_list_adds_up_to_its_figure(random_ledger):
    one, _two = random_ledger
    as_of, date_from = D(2026, 1, 31), D(2025, 1, 1)
    for scope in (queries.COMPANY, queries.scope_for(one.id)):
        report = kpis.report(as_of, date_from=date_from, department_id=scope)
        balances = report.balances

        def listed(kind, scope=scope, **extra):
            result, rows = all_pages(
                lambda n: queries.item_list(
                    kind, as_of, scope, date_from=date_from, page=n, **extra
                )
            )
            assert len(rows) == result.count
            assert sum((r.figure for r in rows), Decimal("0.00")) == result.total
            return result

        assert listed("receivables").total == balances.receivables
        assert listed("overdue").total == balances.overdue
        for bucket in ledger_rules.DUE_BUCKETS:
            assert listed("bucket", bucket=bucket).total == balances.due[bucket]
        for bucket in ledger_rules.AGE_BUCKETS:
            assert listed("bucket", bucket=bucket).total == balances.age[bucket]
        sales = listed("sales")
        assert sales.total == report.sales
        if scope is queries.COMPANY:
            assert sales.count > PER_PAGE  # more than one page: the total is the whole list's
        settled = listed("settled")
        assert settled.count == report.settled.count
        assert settled.days_total == report.settled.days_to_pay
        assert settled.days_late_total == report.settled.days_late
        recovered, rows = all_pages(
            lambda n, scope=scope: queries.recovered_list(date_from, as_of, scope, n)
        )
        assert recovered.total == report.recovered
        assert sum((r.counted for r in rows), Decimal("0.00")) == report.recovered
        for row in queries.top_overdue(as_of, scope):
            assert listed("overdue", counterparty_id=row.id).total == row.overdue
    # The whole company's top 20 and holds in one scan equal the two separate reads.
    for as_of in AS_OF_DATES:
        top, holds = queries.top_overdue_and_holds(as_of)
        assert top == queries.top_overdue(as_of)
        assert holds == queries.credit_holds(as_of)
        assert top_of_three(as_of) == queries.top_overdue(as_of, limit=3)
        # The page's one reading of the open items gives the same three.
        assert queries.company_overview(as_of) == (
            queries.balances_by_department(as_of),
            top,
            holds,
        )
        assert queries.company_overview(as_of, limit=3)[1] == top_of_three(as_of)


def top_of_three(as_of):
    return queries.top_overdue_and_holds(as_of, limit=3)[0]


def test_the_worked_example_lists(build):
    build_example(build)
    as_of, date_from = MARCH[1], MARCH[0]
    overdue = queries.item_list("overdue", as_of, date_from=date_from)
    assert [(r.document_no, r.figure, r.days) for r in overdue.page.items] == [
        ("A2", Decimal("45000.00"), 14),
        ("A1", Decimal("25000.00"), 45),
    ]
    settled = queries.item_list("settled", as_of, date_from=date_from)
    assert sorted((r.document_no, r.days, r.days_late) for r in settled.page.items) == [
        ("B1", 40, 10),
        ("B2", 20, 0),
    ]
    assert [r.receipt_no for r in queries.recovered_list(date_from, as_of).page.items] == [
        "RA1",
        "RB1",
        "RB2",
    ]
    top = queries.top_overdue(as_of)
    assert [(r.code, r.overdue, r.items, r.oldest_due) for r in top] == [
        ("A", Decimal("70000.00"), 2, D(2026, 2, 14))
    ]


def test_credit_holds_overdue_or_above_the_limit(build):
    _company, one, two = departments()
    late = build.counterparty("LATE", department_id=one.id)
    big = build.counterparty("BIG", department_id=two.id, credit_limit=Decimal("500.00"))
    fine = build.counterparty("FINE", department_id=two.id, credit_limit=Decimal("5000.00"))
    build.item(late, "100.00", D(2026, 1, 1), D(2026, 1, 31))
    build.item(big, "800.00", D(2026, 3, 1), D(2026, 4, 30))
    build.item(fine, "800.00", D(2026, 3, 1), D(2026, 4, 30))
    db.session.commit()
    as_of = D(2026, 3, 15)
    holds = queries.credit_holds(as_of)
    assert (holds.count, holds.overdue, holds.exposure) == (2, Decimal("100.00"), Decimal("900.00"))
    page = queries.credit_hold_page(as_of, queries.COMPANY)
    assert [(r.code, r.over_limit) for r in page.items] == [("LATE", False), ("BIG", True)]
    assert queries.credit_holds(as_of, queries.scope_for(two.id)).count == 1
    # One counterparty held only for its limit: not among the overdue, in the holds.
    top, both = queries.top_overdue_and_holds(as_of)
    assert [r.code for r in top] == ["LATE"] and both == holds
    # Paid: no longer held.
    build.receipt(late, "100.00", D(2026, 3, 10))
    db.session.commit()
    assert queries.credit_holds(as_of).count == 1


def test_disputed_amounts_are_capped_at_what_is_owed(build, make_user):
    owner = db.session.merge(make_user("owner", "sales"))
    a = build.counterparty("A")
    item = build.item(a, "300.00", D(2026, 1, 1), D(2026, 1, 31))
    other = build.item(a, "50.00", D(2026, 1, 2), D(2026, 1, 31))
    build.receipt(a, "280.00", D(2026, 2, 10))  # leaves 20.00 on the first item, 50 on other

    def dispute(on, amount, raised, status="open", resolved=None):
        db.session.add(
            Dispute(
                item_id=on.id,
                counterparty_id=a.id,
                amount=Decimal(amount),
                reason="quality",
                description="x",
                owner_id=owner.id,
                opened_by_id=owner.id,
                deadline=D(2026, 6, 1),
                raised_on=raised,
                status=status,
                resolved_on=resolved,
            )
        )

    dispute(item, "100.00", D(2026, 1, 20))
    dispute(other, "30.00", D(2026, 2, 1), status="rejected", resolved=D(2026, 3, 1))
    db.session.commit()
    # 20.00 of the first item still owed (the dispute is capped); the other one is open.
    assert queries.disputed_total(D(2026, 2, 15)) == (2, Decimal("50.00"))
    assert queries.disputed_total(D(2026, 3, 15)) == (1, Decimal("20.00"))
    listed = queries.item_list("disputed", D(2026, 2, 15))
    assert listed.total == Decimal("50.00")


def test_cases_by_strategy_and_status(build, make_user):
    user = db.session.merge(make_user("boss", "supervisor"))
    _company, one, two = departments()
    parties = [
        build.counterparty(code, department_id=dept.id)
        for code, dept in (("C1", one), ("C2", one), ("C3", two))
    ]
    cases = []
    for number, (party, status) in enumerate(
        zip(parties, ("open", "in_progress", "open"), strict=True), start=1
    ):
        case = RecoveryCase(
            number=f"CASE{number}",
            counterparty_id=party.id,
            status=status,
            opened_on=D(2026, 3, number),
            opened_by_id=user.id,
        )
        db.session.add(case)
        cases.append(case)
    db.session.flush()
    db.session.add(
        Strategy(case_id=cases[0].id, kind="secured", status="cancelled", proposed_by_id=user.id)
    )
    db.session.add(
        Strategy(case_id=cases[0].id, kind="litigation", status="pending", proposed_by_id=user.id)
    )
    db.session.add(
        Strategy(
            case_id=cases[1].id, kind="cash_collection", status="approved", proposed_by_id=user.id
        )
    )
    db.session.commit()
    matrix = queries.cases_matrix(D(2026, 3, 31))
    assert matrix == {
        ("litigation", "open"): 1,
        ("cash_collection", "in_progress"): 1,
        ("none", "open"): 1,
    }
    assert queries.cases_matrix(D(2026, 3, 2)) == {
        ("litigation", "open"): 1,
        ("cash_collection", "in_progress"): 1,
    }
    assert queries.cases_matrix(D(2026, 3, 31), queries.scope_for(two.id)) == {("none", "open"): 1}
    page = queries.case_page(D(2026, 3, 31), strategy="litigation", status="open")
    assert [(case.number, kind) for case, kind in page.items] == [("CASE1", "litigation")]
    assert queries.case_page(D(2026, 3, 31)).total == sum(matrix.values())


def test_scopes_follow_the_department_tree(build):
    company, one, two = departments()
    db.session.commit()
    assert queries.scope_for(company.id).department_ids == tuple(
        sorted((company.id, one.id, two.id))
    )
    assert queries.scope_for(one.id).department_ids == (one.id,)
    assert queries.scope_for(company.id, exact=True).department_ids == (company.id,)
    scope, known = queries.scope_from_args({"department_id": "999999"})
    assert scope is queries.COMPANY and not known
    assert queries.scope_from_args({"department_id": "none"})[0].no_department
    assert queries.scope_from_args({"department_id": "abc"}) == (queries.COMPANY, False)
    assert LedgerFilter  # the ledger's filter is what the department comparison above uses


def test_paid_off_means_by_payment(build, make_user):
    """Paid off in the period: by payment, not by a write-off; a credit note may help."""
    from recovery.ledger import services as ledger

    proposer = db.session.merge(make_user("proposer", "finance"))
    approver = db.session.merge(make_user("approver", "finance"))
    a = build.counterparty("A")

    def credit(item, kind, amount, number):
        adjustment = ledger.propose_adjustment(
            item,
            kind=kind,
            amount=Decimal(amount),
            dated_on=D(2026, 3, 5),
            reason="r",
            number=number,
            actor=proposer,
        )
        ledger.decide_adjustment(adjustment, approve=True, actor=approver)

    x = build.item(a, "100.00", D(2026, 1, 1), D(2026, 1, 31), "X")
    credit(x, "credit_note", "30.00", "CN-X")
    build.receipt(a, "70.00", D(2026, 3, 10), item=x)
    y = build.item(a, "100.00", D(2026, 1, 2), D(2026, 1, 31), "Y")
    credit(y, "credit_note", "100.00", "CN-Y")
    z = build.item(a, "100.00", D(2026, 1, 3), D(2026, 1, 31), "Z")
    build.receipt(a, "60.00", D(2026, 3, 12), item=z)
    credit(z, "write_off", "40.00", "WO-Z")
    w = build.item(a, "50.00", D(2026, 2, 1), D(2026, 3, 3), "W")
    build.receipt(a, "50.00", D(2026, 3, 20), item=w)
    db.session.commit()
    listed = queries.item_list("settled", D(2026, 3, 31), date_from=D(2026, 3, 1))
    assert sorted((r.document_no, r.days, r.days_late) for r in listed.page.items) == [
        ("W", 47, 17),
        ("X", 68, 38),
    ]
    assert queries.settled_between(D(2026, 3, 1), D(2026, 3, 31)).count == 2
