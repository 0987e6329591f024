"""Who a receipt is credited to in the routine reports: the counterparty's first-responsible
person on the receipt's (Beijing) date, from the responsibility history — so a reassignment
does not rewrite a past period's report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.audit.context import Actor, acting_as
from recovery.auth import services as auth
from recovery.extensions import db
from recovery.parties.models import Counterparty
from recovery.responsibility import services as responsibility
from recovery.responsibility.models import ResponsibilityChange
from recovery.responsibility.queries import responsible_at
from recovery.worklist import reports
from tests.conftest import TEST_PASSWORD
from tests.worklist.conftest import L, WorkBuilder

MARCH = reports.parse_month("2026-03", date(2026, 6, 1))
APRIL = reports.parse_month("2026-04", date(2026, 6, 1))


def people():
    company = auth.create_department("集团", "company", None)
    east = auth.create_department("东区", "department", company)
    west = auth.create_department("西区", "department", company)
    roles = {"chen": "sales", "lin": "sales", "zhou": "sales", "boss": "supervisor"}
    names = {"chen": "陈", "lin": "林", "zhou": "周", "boss": "主管"}
    made = {
        username: auth.create_user(
            username,
            TEST_PASSWORD,
            [role],
            display_name=names[username],
            department=west if username == "zhou" else east,
        )
        for username, role in roles.items()
    }
    db.session.flush()
    return made, east, west


def reassign(counterparty_id: int, to_user, boss, at):
    with acting_as(Actor(boss.id, boss.username, "test")):
        responsibility.reassign(
            db.session.get(Counterparty, counterparty_id),
            to_user.id,
            reason="区域调整",
            actor=boss,
            now=at,
        )
        db.session.commit()


def recovered(period, today=date(2026, 6, 1)):
    report = reports.build_report(period, today)
    by_person = {row.name: row.recovered for row in report.people}
    by_department = {row.name: row.recovered for row in report.departments}
    return by_person, by_department, report.total.recovered


def test_a_reassignment_does_not_rewrite_last_months_report(app):
    with app.app_context():
        work = WorkBuilder()
        users, _east, _west = people()
        x1 = work.counterparty("X1", responsible_id=users["chen"].id)
        work.item(x1, 100000, date(2025, 6, 1), date(2025, 7, 1))
        work.receipt(x1, 1000, date(2026, 3, 5))
        db.session.commit()

        before = recovered(MARCH)
        assert before[0]["陈"] == Decimal("1000.00")

        # In April the account moves to lin (another department's zhou later).
        reassign(x1.id, users["lin"], users["boss"], L(2026, 4, 10, 9, 0))
        work.receipt(x1, 500, date(2026, 4, 15))
        db.session.commit()

        after = recovered(MARCH)
        assert after == before  # March still credits chen, east, and the total
        people_april, departments_april, total_april = recovered(APRIL)
        assert people_april["林"] == Decimal("500.00")
        assert people_april["陈"] == Decimal("0.00")
        assert departments_april["东区"] == Decimal("500.00") and total_april == Decimal("500.00")


def test_the_change_counts_from_its_beijing_day(app):
    """A change at 09:00 Beijing (01:00 UTC) counts for a receipt dated that day; one at
    00:30 Beijing the next day (16:30 UTC, still the receipt's date in UTC) does not."""
    with app.app_context():
        work = WorkBuilder()
        users, _east, _west = people()
        x1 = work.counterparty("X1", responsible_id=users["chen"].id)
        x2 = work.counterparty("X2", responsible_id=users["chen"].id)
        for cp in (x1, x2):
            work.item(cp, 100000, date(2025, 6, 1), date(2025, 7, 1))
            work.receipt(cp, 100 if cp is x1 else 70, date(2026, 4, 20))
        db.session.commit()
        reassign(x1.id, users["zhou"], users["boss"], L(2026, 4, 20, 9, 0))
        reassign(x2.id, users["zhou"], users["boss"], L(2026, 4, 21, 0, 30))

        by_person, by_department, total = recovered(APRIL)
        assert by_person["周"] == Decimal("100.00")  # X1's receipt, after the morning change
        assert by_person["陈"] == Decimal("70.00")  # X2's: chen still held it all that day
        assert by_department == {"东区": Decimal("70.00"), "西区": Decimal("100.00")}
        assert total == Decimal("170.00")


def test_a_case_collector_and_the_responsible_person_share_a_receipt_once(app):
    with app.app_context():
        work = WorkBuilder()
        users, _east, _west = people()
        x1 = work.counterparty("X1", responsible_id=users["chen"].id)
        work.item(x1, 100000, date(2025, 6, 1), date(2025, 7, 1))
        work.case(x1, opened_at=L(2026, 3, 1, 9), assignee_id=users["lin"].id)
        work.receipt(x1, 300, date(2026, 3, 10))
        db.session.commit()
        reassign(x1.id, users["zhou"], users["boss"], L(2026, 5, 1, 9, 0))

        by_person, by_department, total = recovered(MARCH)
        # chen held the account on 10 March; lin collects its case; zhou came later.
        assert by_person["陈"] == by_person["林"] == Decimal("300.00")
        assert by_person["周"] == Decimal("0.00")
        assert by_department["东区"] == Decimal("300.00")  # chen and lin: once
        assert total == Decimal("300.00")


def test_responsible_at_reads_the_history(app):
    """Before the first change: its ``from``; after each: its ``to`` (nobody too); no change
    at all: the current holder. Item and leader changes do not count."""
    with app.app_context():
        work = WorkBuilder()
        users, _east, _west = people()
        chen, lin, zhou = users["chen"], users["lin"], users["zhou"]
        x1 = work.counterparty("X1", responsible_id=zhou.id)
        x2 = work.counterparty("X2", responsible_id=lin.id)
        item = work.item(x1, 100, date(2025, 6, 1), date(2025, 7, 1))
        history = [
            (None, "responsible", chen.id, lin.id, L(2026, 1, 10, 12)),
            (None, "responsible", lin.id, None, L(2026, 2, 10, 12)),
            (None, "responsible", None, zhou.id, L(2026, 3, 10, 12)),
            (item.id, "responsible", zhou.id, chen.id, L(2026, 2, 20, 12)),
            (None, "leader", None, chen.id, L(2026, 2, 25, 12)),
        ]
        db.session.add_all(
            ResponsibilityChange(
                counterparty_id=x1.id,
                item_id=item_id,
                role=role,
                from_user_id=old,
                to_user_id=new,
                reason="test",
                effective_at=at,
            )
            for item_id, role, old, new, at in history
        )
        db.session.commit()

        def holder(counterparty, at):
            return db.session.scalar(
                sa.select(responsible_at(sa.literal(counterparty.id), sa.literal(at)))
            )

        assert holder(x1, L(2026, 1, 1)) == chen.id
        assert holder(x1, L(2026, 1, 10, 12)) == chen.id  # a change counts strictly after
        assert holder(x1, L(2026, 1, 10, 12, 1)) == lin.id
        assert holder(x1, L(2026, 2, 28)) is None
        assert holder(x1, L(2026, 4, 1)) == zhou.id
        assert holder(x2, L(2026, 4, 1)) == lin.id
