"""Setting targets (who, which periods, exact amounts, reasons, history) and the target of
any period (docs/targets.md)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.audit.context import Actor, acting_as
from recovery.audit.models import AuditLog
from recovery.extensions import db
from recovery.targets import services
from recovery.targets.models import Target
from recovery.targets.services import StaleTarget, TargetError, save_target, target_for
from tests.targets.conftest import english, make_org

TODAY = date(2026, 5, 20)


def month(text):
    from recovery.targets.periods import parse_period

    period = parse_period(text)
    return {"period_start": period.start, "period_end": period.end}


def put(actor, text, recovery, overdue="0", **scope):
    with acting_as(Actor(actor.id, actor.username, "test")):
        target = save_target(
            actor=actor,
            today=TODAY,
            recovery=recovery,
            overdue_reduction=overdue,
            **month(text),
            **scope,
        )
        db.session.commit()
        return target


def test_amounts_are_exact_and_not_negative(app):
    with english(app):
        org = make_org()
        for bad, reason in (("-1", "negative"), ("10.001", "two decimals"), ("ten", "amount")):
            with pytest.raises(TargetError, match=reason) as refused:
                put(org.chief, "2026-06", bad, department_id=org.east.id)
            assert refused.value.field == "recovery"
        with pytest.raises(TargetError) as refused:
            put(org.chief, "2026-06", "1", overdue="-5", department_id=org.east.id)
        assert refused.value.field == "overdue_reduction"
        target = put(org.chief, "2026-06", "1,234.50", overdue="0", department_id=org.east.id)
        assert target.recovery_amount == Decimal("1234.50")
        assert target.overdue_reduction_amount == Decimal("0.00")
        assert (target.period_kind, target.period_end) == ("month", date(2026, 6, 30))


def test_period_boundaries_must_be_canonical(app):
    with english(app):
        org = make_org()
        with pytest.raises(TargetError) as refused:
            save_target(
                actor=org.chief,
                today=TODAY,
                recovery="100",
                overdue_reduction="0",
                period_start=date(2026, 6, 2),
                period_end=date(2026, 6, 30),
                department_id=org.east.id,
            )
        assert refused.value.field == "period"
        quarter = save_target(
            actor=org.chief,
            today=TODAY,
            recovery="300",
            overdue_reduction="0",
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            department_id=org.east.id,
        )
        assert quarter.period_kind == "quarter"


def test_a_closed_period_needs_a_reason(app):
    with english(app):
        org = make_org()
        # April ended before today (20 May): a reason is required; May is still running.
        with pytest.raises(TargetError, match="over") as refused:
            put(org.chief, "2026-04", "100", department_id=org.east.id)
        assert refused.value.field == "reason"
        with acting_as(Actor(org.chief.id, org.chief.username, "test")):
            april = save_target(
                actor=org.chief,
                today=TODAY,
                recovery="100",
                overdue_reduction="0",
                reason="补录四月指标",
                **month("2026-04"),
                department_id=org.east.id,
            )
            db.session.commit()
        assert april.reason == "补录四月指标"
        # Changing it later needs a reason too.
        with pytest.raises(TargetError, match="over"):
            save_target(
                actor=org.chief,
                today=TODAY,
                recovery="200",
                overdue_reduction="0",
                target=april,
                version=april.version,
            )
        assert put(org.chief, "2026-05", "100", department_id=org.east.id).reason is None


def test_one_target_per_scope_and_period(app):
    with english(app):
        org = make_org()
        put(org.chief, "2026-06", "100", department_id=org.east.id)
        with pytest.raises(TargetError, match="set already") as refused:
            put(org.chief, "2026-06", "200", department_id=org.east.id)
        assert refused.value.field == "period"
        # The same month for a person, or a quarter for the department, is another target.
        put(org.chief, "2026-06", "50", user_id=org.chen.id)
        with pytest.raises(TargetError, match="one of them"):
            put(org.chief, "2026-06", "50", user_id=org.chen.id, department_id=org.east.id)


def test_supervisors_set_targets_for_their_own_tree_only(app):
    with english(app):
        org = make_org()
        # boss supervises 东区: 东区, 东一组 and their people.
        put(org.boss, "2026-06", "100", department_id=org.east.id)
        put(org.boss, "2026-06", "100", department_id=org.east1.id)
        put(org.boss, "2026-06", "100", user_id=org.lin.id)
        for scope in ({"department_id": org.west.id}, {"department_id": org.company.id}):
            with pytest.raises(TargetError, match="your own department"):
                put(org.boss, "2026-06", "100", **scope)
        with pytest.raises(TargetError, match="your own department") as refused:
            put(org.boss, "2026-06", "100", user_id=org.zhou.id)
        assert refused.value.field == "user_id"
        # A supervisor without a department sets none; sales and finance none either.
        for actor in (org.lonely, org.chen, org.fin):
            with pytest.raises(TargetError, match="your own department"):
                put(actor, "2026-07", "100", department_id=org.east.id)
        # Executives set any.
        put(org.chief, "2026-06", "100", department_id=org.west.id)
        assert services.settable_department_ids(org.chief) is None
        assert set(services.settable_department_ids(org.boss)) == {org.east.id, org.east1.id}


def test_a_change_is_audited_with_before_and_after_and_never_deleted(app):
    with english(app):
        org = make_org()
        target = put(org.chief, "2026-06", "100", overdue="10", department_id=org.east.id)
        with acting_as(Actor(org.chief2.id, org.chief2.username, "test")):
            save_target(
                actor=org.chief2,
                today=TODAY,
                recovery="150.50",
                overdue_reduction="10",
                reason="上调",
                target=target,
                version=1,
            )
            db.session.commit()
        assert target.version == 2 and target.updated_by_id == org.chief2.id
        rows = db.session.execute(
            sa.select(AuditLog.action, AuditLog.actor_name, AuditLog.changes)
            .where(AuditLog.table_name == "targets", AuditLog.row_id == str(target.id))
            .order_by(AuditLog.id)
        ).all()
        assert [r.action for r in rows] == ["insert", "update"]
        change = json.loads(rows[1].changes)
        assert change["recovery_amount"] == ["100.00", "150.50"]
        assert change["reason"] == [None, "上调"]
        assert "overdue_reduction_amount" not in change
        history = services.target_history(target)
        assert history[0]["who"] == "chief2"
        assert history[0]["changes"]["recovery_amount"] == ["100.00", "150.50"]
        assert history[1]["action"] == "insert"
        # A save from a page showing version 1 is refused and changes nothing.
        with pytest.raises(StaleTarget, match="副总"):
            save_target(
                actor=org.chief,
                today=TODAY,
                recovery="999",
                overdue_reduction="0",
                target=target,
                version=1,
            )
        db.session.rollback()
        assert db.session.get(Target, target.id).recovery_amount == Decimal("150.50")


def test_target_of_a_target_period_and_of_any_period(app):
    with english(app):
        org = make_org()
        # 东区: a quarter target for Q2 (3,000.00 / 300.00), its own May target (1,500.00),
        # a year target for 2026 (12,000.00 / 1,200.00).
        put(org.chief, "2026-05", "1500", overdue="100", department_id=org.east.id)
        quarter = {"period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30)}
        with acting_as(Actor(org.chief.id, org.chief.username, "test")):
            save_target(
                actor=org.chief,
                today=TODAY,
                recovery="3000",
                overdue_reduction="300",
                department_id=org.east.id,
                reason="年初下达",
                **quarter,
            )
            save_target(
                actor=org.chief,
                today=TODAY,
                recovery="12000",
                overdue_reduction="1200",
                department_id=org.east.id,
                reason="年初下达",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31),
            )
            db.session.commit()
        east = org.east.id

        def target(start, end, **scope):
            found = target_for(start, end, **scope)
            return found["recovery"], found["overdue_reduction"], found["has_target"]

        # Exactly a target period: its own target.
        assert target(date(2026, 4, 1), date(2026, 6, 30), department_id=east) == (
            Decimal("3000.00"),
            Decimal("300.00"),
            True,
        )
        assert target(date(2026, 5, 1), date(2026, 5, 31), department_id=east)[0] == Decimal(
            "1500.00"
        )
        # June has no month target: a third of Q2's (1,000.00; 100.00).
        assert target(date(2026, 6, 1), date(2026, 6, 30), department_id=east)[:2] == (
            Decimal("1000.00"),
            Decimal("100.00"),
        )
        # March: no month, no Q1 target: a twelfth of the year's (1,000.00).
        assert target(date(2026, 3, 1), date(2026, 3, 31), department_id=east)[0] == Decimal(
            "1000.00"
        )
        # 15 May – 10 June: May's 1,500 × 17/31 + June's 1,000 × 10/30
        #   = 822.580645… + 333.333… = 1,155.913978… → 1,155.91 (rounded once, half up).
        assert target(date(2026, 5, 15), date(2026, 6, 10), department_id=east)[0] == Decimal(
            "1155.91"
        )
        # Q1 has no target of its own: the sum of its months, each a twelfth of the year.
        assert target(date(2026, 1, 1), date(2026, 3, 31), department_id=east)[0] == Decimal(
            "3000.00"
        )
        # A person without any target: zero, and said so.
        assert target(date(2026, 5, 1), date(2026, 5, 31), user_id=org.chen.id) == (
            Decimal("0.00"),
            Decimal("0.00"),
            False,
        )


def test_a_department_without_its_own_target_sums_its_sub_departments(app):
    with english(app):
        org = make_org()
        put(org.chief, "2026-06", "100", overdue="10", department_id=org.east1.id)
        put(org.chief, "2026-06", "250", overdue="0", department_id=org.west.id)
        june = (date(2026, 6, 1), date(2026, 6, 30))
        # 东区 has none of its own: 东一组's. The company (no department): 东区 + 西区.
        assert target_for(*june, department_id=org.east.id)["recovery"] == Decimal("100.00")
        assert target_for(*june)["recovery"] == Decimal("350.00")
        assert target_for(*june)["overdue_reduction"] == Decimal("10.00")
        # Once 东区 has its own, it counts instead of its sub-departments'.
        put(org.chief, "2026-06", "400", department_id=org.east.id)
        assert target_for(*june, department_id=org.east.id)["recovery"] == Decimal("400.00")
        assert target_for(*june)["recovery"] == Decimal("650.00")
        # A person's target stands alone.
        put(org.chief, "2026-06", "70", user_id=org.chen.id)
        assert target_for(*june, user_id=org.chen.id)["recovery"] == Decimal("70.00")
        many = services.recovery_targets(
            *june, user_ids=[org.chen.id, org.lin.id], department_ids=[org.east1.id]
        )
        assert many[("user", org.chen.id)]["recovery"] == Decimal("70.00")
        assert many[("user", org.lin.id)]["has_target"] is False
        assert many[("department", org.east1.id)]["recovery"] == Decimal("100.00")
