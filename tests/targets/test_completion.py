"""Completion of targets, computed by hand from a small ledger: a person's receipts across a
reassignment, the overdue reduction, departments with their sub-departments, and the "—"
cases (no target, a zero target)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from recovery.audit.context import Actor, acting_as
from recovery.extensions import db
from recovery.targets.services import completion, save_target
from tests.targets.conftest import april_ledger, english, make_org

APRIL = (date(2026, 4, 1), date(2026, 4, 30))
TODAY = date(2026, 5, 20)


def set_target(org, recovery, overdue, **scope):
    with acting_as(Actor(org.chief.id, org.chief.username, "test")):
        save_target(
            actor=org.chief,
            today=TODAY,
            recovery=recovery,
            overdue_reduction=overdue,
            period_start=APRIL[0],
            period_end=APRIL[1],
            reason="补录",
            **scope,
        )
        db.session.commit()


def test_a_persons_receipts_across_a_reassignment(app):
    with english(app):
        org = april_ledger()
        set_target(org, "4000", "200", user_id=org.lin.id)
        lin = completion(*APRIL, user_id=org.lin.id, as_of=TODAY)
        # lin: 100 (15 April, the day of the change) + 2,000 (20 April) = 2,100.00 of 4,000.00.
        assert lin["actual"]["recovery"] == Decimal("2100.00")
        assert lin["target"]["recovery"] == Decimal("4000.00")
        assert lin["ratio"]["recovery"] == Decimal("0.5250")
        assert lin["explanation"]["recovery"] is None
        # chen: 3,000 of 5 April; 500 of 31 March is March's. No target: no ratio, and why.
        chen = completion(*APRIL, user_id=org.chen.id, as_of=TODAY)
        assert chen["actual"]["recovery"] == Decimal("3000.00")
        assert chen["ratio"]["recovery"] is None
        assert "No target" in chen["explanation"]["recovery"]
        zhou = completion(*APRIL, user_id=org.zhou.id, as_of=TODAY)
        assert zhou["actual"]["recovery"] == Decimal("1000.00")
        # Looked at on 10 April: only what had happened by then (chen's 3,000; lin nothing).
        early = completion(*APRIL, user_id=org.chen.id, as_of=date(2026, 4, 10))
        assert early["actual"]["recovery"] == Decimal("3000.00")
        assert completion(*APRIL, user_id=org.lin.id, as_of=date(2026, 4, 10))["actual"][
            "recovery"
        ] == Decimal("0.00")


def test_overdue_reduction_by_hand(app):
    with english(app):
        org = april_ledger()
        set_target(org, "4000", "200", user_id=org.lin.id)
        # As of 31 March: X1's A 10,000 − 500 = 9,500 overdue (B not due yet); X2's C 8,000.
        # As of 30 April: X1 received 5,100 in April, applied to A (due first): A 4,400, and B
        # (due 10 April) is overdue: 9,400. X2: 8,000 − 1,000 = 7,000.
        # X1 belongs to lin at the end of April: lin's reduction 9,500 − 9,400 = 100.
        lin = completion(*APRIL, user_id=org.lin.id, as_of=TODAY)
        assert lin["actual"]["overdue_start"] == Decimal("9500.00")
        assert lin["actual"]["overdue_end"] == Decimal("9400.00")
        assert lin["actual"]["overdue_reduction"] == Decimal("100.00")
        assert lin["ratio"]["overdue_reduction"] == Decimal("0.5000")
        chen = completion(*APRIL, user_id=org.chen.id, as_of=TODAY)
        assert chen["actual"]["overdue_reduction"] == Decimal("0.00")
        zhou = completion(*APRIL, user_id=org.zhou.id, as_of=TODAY)
        assert (zhou["actual"]["overdue_start"], zhou["actual"]["overdue_end"]) == (
            Decimal("8000.00"),
            Decimal("7000.00"),
        )
        # The whole company: 17,500 → 16,400.
        company = completion(*APRIL, as_of=TODAY)
        assert company["actual"]["overdue_reduction"] == Decimal("1100.00")
        assert company["actual"]["recovery"] == Decimal("6100.00")


def test_departments_count_their_sub_departments(app):
    with english(app):
        org = april_ledger()
        set_target(org, "0", "0", department_id=org.east.id)
        set_target(org, "10000", "1000", department_id=org.west.id)
        east = completion(*APRIL, department_id=org.east.id, as_of=TODAY)
        east1 = completion(*APRIL, department_id=org.east1.id, as_of=TODAY)
        # X1 is 东一组's, so 东区's too: 3,000 + 100 + 2,000.
        assert east["actual"]["recovery"] == east1["actual"]["recovery"] == Decimal("5100.00")
        assert east["actual"]["overdue_reduction"] == Decimal("100.00")
        # A zero target: no ratio, and the reason.
        assert east["ratio"] == {"recovery": None, "overdue_reduction": None}
        assert "zero" in east["explanation"]["recovery"]
        west = completion(*APRIL, department_id=org.west.id, as_of=TODAY)
        assert west["actual"]["recovery"] == Decimal("1000.00")
        assert west["ratio"]["recovery"] == Decimal("0.1000")
        assert west["ratio"]["overdue_reduction"] == Decimal("1.0000")


def test_a_period_with_no_data_is_all_zero_and_a_future_one_too(app):
    with english(app):
        org = make_org()
        empty = completion(date(2030, 1, 1), date(2030, 1, 31), user_id=org.chen.id, as_of=TODAY)
        assert empty["actual"] == {
            "recovery": Decimal("0.00"),
            "overdue_start": Decimal("0.00"),
            "overdue_end": Decimal("0.00"),
            "overdue_reduction": Decimal("0.00"),
        }
        assert empty["ratio"]["recovery"] is None
        company = completion(date(2026, 1, 1), date(2026, 3, 31), as_of=TODAY)
        assert company["actual"]["recovery"] == Decimal("0.00")
