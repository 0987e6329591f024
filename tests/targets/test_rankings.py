"""Rankings by person and department, and the reward/penalty lists: order by hand, proposals
frozen, four eyes on the decision, export."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from recovery.audit.context import Actor, acting_as
from recovery.auth.models import User
from recovery.extensions import db
from recovery.parties.models import Counterparty
from recovery.settings.services import update_settings
from recovery.targets import services
from recovery.targets.models import RewardList
from recovery.targets.periods import parse_period
from recovery.targets.services import TargetError, rankings, save_target
from tests.conftest import login
from tests.targets.conftest import L, WorkBuilder, april_ledger, english

APRIL = parse_period("2026-04")
TODAY = date(2026, 5, 20)


def setup_rankings():
    """The April ledger (see april_ledger), with targets, one broken promise (lin's), one
    kept (zhou's) and one service-level breach (zhou's case, never acted on)."""
    org = april_ledger()
    work = WorkBuilder()
    x1 = db.session.scalar(sa.select(Counterparty).where(Counterparty.code == "X1"))
    x2 = db.session.scalar(sa.select(Counterparty).where(Counterparty.code == "X2"))
    # lin promised 5,000 for 16–18 April: nothing came → broken. zhou's 1,000 for 8–12 April
    # was paid on 10 April → kept.
    work.promise(x1, org.lin, 5000, date(2026, 4, 16), date(2026, 4, 18))
    work.promise(x2, org.zhou, 1000, date(2026, 4, 8), date(2026, 4, 12))
    # zhou's case assigned Wednesday 1 April 09:00, no action since: first action due 11:00.
    work.case(
        x2,
        number="K1",
        opened_at=L(2026, 4, 1, 9),
        assignee_id=org.zhou.id,
        assigned_at=L(2026, 4, 1, 9),
    )
    db.session.commit()
    with acting_as(Actor(org.chief.id, org.chief.username, "test")):
        for scope, amount in (
            ({"user_id": org.chen.id}, "2000"),
            ({"user_id": org.lin.id}, "4000"),
            ({"user_id": org.zhou.id}, "1000"),
            ({"department_id": org.east1.id}, "5000"),
            ({"department_id": org.west.id}, "2000"),
        ):
            save_target(
                actor=org.chief,
                today=TODAY,
                recovery=amount,
                overdue_reduction="0",
                period_start=APRIL.start,
                period_end=APRIL.end,
                reason="四月指标补录",
                **scope,
            )
        db.session.commit()
    return org


def test_rankings_by_person_in_order(app):
    with english(app):
        org = setup_rankings()
        rows = rankings(APRIL.start, APRIL.end, by="person", as_of=TODAY)
        by_name = {row.name: row for row in rows}
        # chen 3,000 of 2,000 (150 %), zhou 1,000 of 1,000 (100 %), lin 2,100 of 4,000
        # (52.5 %); then those without a target, equal on every figure: one shared rank.
        assert [(row.name, row.rank) for row in rows[:3]] == [("陈", 1), ("周", 2), ("林", 3)]
        assert {(row.name, row.rank) for row in rows[3:]} == {("主管", 4), ("孤", 4)}
        assert by_name["陈"].completion == Decimal("1.5000")
        assert by_name["林"].completion_percent == Decimal("52.5")
        assert by_name["林"].broken_promises == 1 and by_name["周"].broken_promises == 0
        assert by_name["周"].breaches == 1 and by_name["林"].breaches == 0
        assert by_name["林"].overdue_reduction == Decimal("100.00")
        assert by_name["周"].overdue_reduction == Decimal("1000.00")
        assert by_name["主管"].recovery_target is None and by_name["主管"].completion is None
        # The executive and finance are not collectors and have no figures: not listed.
        assert "总" not in by_name and "财" not in by_name
        assert by_name["林"].department == "东一组"
        assert org.chen.id == rows[0].key


def test_rankings_by_department(app):
    with english(app):
        setup_rankings()
        rows = rankings(APRIL.start, APRIL.end, by="department", as_of=TODAY)
        # 东区 has no target of its own: 东一组's 5,000; both recovered X1's 5,100 (102 %),
        # with the same reduction, broken promise and breaches: one shared rank, by name.
        assert [(row.name, row.rank) for row in rows] == [
            ("东一组", 1),
            ("东区", 1),
            ("西区子公司", 3),
        ]
        west = rows[2]
        assert (west.recovered, west.recovery_target) == (Decimal("1000.00"), Decimal("2000.00"))
        assert west.breaches == 1 and west.broken_promises == 0
        assert rows[0].broken_promises == rows[1].broken_promises == 1
        # The company itself is not ranked against its parts.
        assert "集团" not in {row.name for row in rows}


def test_a_tie_on_completion_is_broken_by_the_figures_that_follow():
    from recovery.targets.services import RankingRow, _rank_key

    def row(recovered, target, reduction="0", broken=0, breaches=0):
        return RankingRow(
            key=1,
            name="x",
            department=None,
            recovered=Decimal(recovered),
            recovery_target=Decimal(target) if target else None,
            overdue_start=Decimal(reduction),
            overdue_end=Decimal("0"),
            overdue_target=None,
            broken_promises=broken,
            breaches=breaches,
        )

    ordered = sorted(
        [
            row("100", None, reduction="999"),  # no target: last, whatever else
            row("50", "100", broken=1),
            row("100", "200", broken=0),  # 50 % but more recovered: before the 50 of 100
            row("50", "100", broken=0, breaches=2),
            row("50", "100", broken=0, breaches=1),
        ],
        key=_rank_key,
    )
    assert [(r.recovered, r.broken_promises, r.breaches) for r in ordered] == [
        (Decimal("100"), 0, 0),
        (Decimal("50"), 0, 1),
        (Decimal("50"), 0, 2),
        (Decimal("50"), 1, 0),
        (Decimal("100"), 0, 0),
    ]
    assert ordered[-1].recovery_target is None


def propose(actor, by="person", period=APRIL):
    with acting_as(Actor(actor.id, actor.username, "test")):
        reward_list = services.propose_list(by=by, period=period, actor=actor, today=TODAY)
        db.session.commit()
        return reward_list


def decide(reward_list, actor, approve, note=None):
    with acting_as(Actor(actor.id, actor.username, "test")):
        services.decide_list(
            reward_list, approve=approve, note=note, actor=actor, version=reward_list.version
        )
        db.session.commit()


def test_a_proposed_list_is_frozen(app):
    with english(app):
        org = setup_rankings()
        update_settings({"rewards.bonus_unit": "500.00"})
        db.session.commit()
        reward_list = propose(org.boss)
        entries = {e.name: e for e in reward_list.entries}
        # chen: 1,000 above 2,000 → two units of 500 × 100.00 = 200.00 bonus.
        chen = entries["陈"]
        assert (chen.bonus_units, chen.bonus, chen.net) == (2, Decimal("200.00"), Decimal("200.00"))
        # lin: 52.5 % < 80 %: 500.00; one broken promise: 50.00.
        lin = entries["林"]
        assert (lin.threshold_deduction, lin.promise_deduction) == (
            Decimal("500.00"),
            Decimal("50.00"),
        )
        assert lin.net == Decimal("-550.00")
        # No target: nothing either way.
        assert entries["主管"].recovery_target is None and entries["主管"].net == Decimal("0.00")
        assert reward_list.bonus_unit == Decimal("500.00")
        totals = services.list_totals(reward_list)
        assert totals == {
            "bonus": Decimal("200.00"),
            "deduction": Decimal("550.00"),
            "net": Decimal("-350.00"),
        }
        # Later: a back-dated April receipt for lin's account and a new rule. The rankings
        # move; the list does not.
        WorkBuilder().receipt(
            db.session.scalar(sa.select(Counterparty).where(Counterparty.code == "X1")),
            5000,
            date(2026, 4, 25),
            receipt_no="LATE",
        )
        update_settings({"rewards.bonus_unit": "10000.00", "rewards.bonus_per_unit": "1.00"})
        db.session.commit()
        now = {r.name: r for r in rankings(APRIL.start, APRIL.end, as_of=TODAY)}
        assert now["林"].recovered == Decimal("7100.00")
        db.session.expire_all()
        frozen = db.session.get(RewardList, reward_list.id)
        lin = {e.name: e for e in frozen.entries}["林"]
        assert lin.recovered == Decimal("2100.00") and lin.net == Decimal("-550.00")
        assert services.rule_of(frozen).bonus_per_unit == Decimal("100.00")


def test_proposals_wait_for_the_period_to_end_and_stand_alone(app):
    with english(app):
        org = setup_rankings()
        with pytest.raises(TargetError, match="not over yet"):
            propose(org.boss, period=parse_period("2026-05"))
        with pytest.raises(TargetError, match="supervisor or an executive"):
            propose(org.chen)
        first = propose(org.boss)
        with pytest.raises(TargetError, match="already"):
            propose(org.chief)
        # By department is another list.
        propose(org.chief, by="department")
        decide(first, org.chief, approve=False, note="数据待核")
        assert first.status == "rejected" and first.decision_note == "数据待核"
        second = propose(org.chief)
        assert second.id != first.id and second.status == "proposed"


def test_a_standing_list_is_named_by_its_status_label_not_its_code(app):
    with english(app):
        org = setup_rankings()
        first = propose(org.boss)
        with pytest.raises(TargetError) as refused:
            propose(org.chief)
        message = str(refused.value.message)
        assert f"List no. {first.id} " in message and "(status: Proposed)" in message
        db.session.rollback()
        decide(first, org.chief, approve=True)
        with pytest.raises(TargetError) as refused:
            propose(org.chief)
        assert "(status: Approved)" in str(refused.value.message)
        db.session.rollback()
        with force_locale("zh_CN"):
            message = str(refused.value.message)
        assert "已批准" in message and "approved" not in message


def test_the_proposer_does_not_approve_and_a_rejection_needs_a_reason(app):
    with english(app):
        org = setup_rankings()
        reward_list = propose(org.chief)
        with pytest.raises(TargetError, match="another executive"):
            decide(reward_list, org.chief, approve=True)
        db.session.rollback()
        with pytest.raises(TargetError, match="Only an executive"):
            decide(reward_list, org.boss, approve=True)
        db.session.rollback()
        with pytest.raises(TargetError, match="reason") as refused:
            decide(reward_list, org.chief2, approve=False, note="  ")
        assert refused.value.field == "note"
        db.session.rollback()
        decide(reward_list, org.chief2, approve=True)
        assert reward_list.status == "approved" and reward_list.decided_by_id == org.chief2.id
        with pytest.raises(TargetError, match="decided already"):
            decide(reward_list, db.session.get(User, org.chief2.id), approve=False, note="x")
        db.session.rollback()
        # A decision from a page showing an older version does nothing.
        other = propose(org.chief, by="department")
        with pytest.raises(services.StaleTarget):
            services.decide_list(
                other, approve=True, note=None, actor=org.chief2, version=other.version - 1
            )


def test_export_columns(app, client):
    with english(app):
        org = setup_rankings()
        reward_list = propose(org.boss)
        db.session.get(User, org.chief.id).language = "en"
        db.session.commit()
        list_id = reward_list.id
    login(client, "chief")
    response = client.get(f"/targets/lists/{list_id}/export?format=csv")
    assert response.status_code == 200
    assert "rewards-2026-04-person-proposed.csv" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == [
        "Rank",
        "Name",
        "Department",
        "Recovered",
        "Recovery target",
        "Completion %",
        "Overdue reduction",
        "Overdue reduction target",
        "Overdue reduction completion %",
        "Broken promises",
        "Service-level breaches",
        "Bonus",
        "Deduction",
        "Net",
        "How it was computed",
    ]
    lin = next(row for row in table[1:] if row[1] == "林")
    assert lin[:11] == [
        "3",
        "林",
        "东一组",
        "2100.00",
        "4000.00",
        "52.5",
        "100.00",
        "0.00",
        "—",
        "1",
        "0",
    ]
    assert lin[11:14] == ["0.00", "550.00", "-550.00"]
    assert "Completion below 80 %" in lin[14]
    workbook = load_workbook(
        io.BytesIO(client.get(f"/targets/lists/{list_id}/export?format=xlsx").data)
    )
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Rank" and rows[0][-1] == "How it was computed"
    chen = next(row for row in rows[1:] if row[1] == "陈")
    assert chen[0] == 1 and chen[3] == 3000 and chen[5] == 150
    assert client.get(f"/targets/lists/{list_id}/export?format=pdf").status_code == 404
