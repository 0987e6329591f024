"""First-responsible persons: history of every change, reassignment, hand-over, lifetime
responsibility and leaders (issue 4, point 1)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.activities.models import Promise
from recovery.audit.models import AuditLog
from recovery.audit.services import verify_chain
from recovery.auth import services as auth
from recovery.cases.models import RecoveryCase, Strategy
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.ledger.models import Item
from recovery.parties import services as parties
from recovery.parties.models import Counterparty
from recovery.responsibility import queries, services
from recovery.responsibility.listeners import EDITED_ON_RECORD
from recovery.responsibility.models import Handover, ResponsibilityChange
from recovery.responsibility.services import ResponsibilityError
from recovery.settings.models import Setting
from tests.responsibility.conftest import TODAY, as_actor

D = date


def changes(**where) -> list[ResponsibilityChange]:
    query = sa.select(ResponsibilityChange).order_by(ResponsibilityChange.id)
    for key, value in where.items():
        query = query.where(getattr(ResponsibilityChange, key) == value)
    return list(db.session.scalars(query))


def account(world, owner="s1", code=None, open_amounts=("100.00", "200.00"), paid=("50.00",)):
    """A counterparty of ``owner`` with open items and fully paid items (all owned by them)."""
    b, user = world.build, world.user(owner)
    cp = b.counterparty(code, responsible_id=user.id)
    items = [b.item(cp, amount, D(2025, 1, 1), D(2025, 2, 1)) for amount in open_amounts]
    paid_items = []
    for amount in paid:
        item = b.item(cp, amount, D(2025, 1, 1), D(2025, 2, 1))
        b.receipt(cp, amount, D(2025, 1, 15), item=item)
        paid_items.append(item)
    db.session.commit()
    return cp, items, paid_items


# ---------------------------------------------------------------------------------------------
# Reassignment


def test_reassignment_records_who_when_why_and_approver_and_moves_open_items(world):
    cp, (first, second), (paid,) = account(world)
    other = world.build.item(
        cp, "70.00", D(2025, 1, 1), D(2025, 2, 1), responsible_id=world.users["s2"].id
    )
    db.session.commit()
    boss, s1, s3 = world.user("boss"), world.user("s1"), world.user("s3")

    with as_actor(boss):
        moved = services.reassign(cp, s3.id, reason="  客户移交华东区  ", actor=boss)
        db.session.commit()

    assert (moved.counterparties, moved.items) == (1, 2)
    assert db.session.get(Counterparty, cp.id).responsible_id == s3.id
    owners = {i.id: i.responsible_id for i in db.session.scalars(sa.select(Item))}
    assert owners[first.id] == owners[second.id] == s3.id
    assert owners[paid.id] == s1.id  # paid items stay with whoever answered for them
    assert owners[other.id] == world.users["s2"].id  # someone else's item is not taken
    (seat,) = changes(item_id=None)
    assert (seat.counterparty_id, seat.from_user_id, seat.to_user_id) == (cp.id, s1.id, s3.id)
    assert (seat.kind, seat.role, seat.reason, seat.approved_by_id) == (
        "reassignment",
        "responsible",
        "客户移交华东区",
        boss.id,
    )
    assert isinstance(seat.effective_at, datetime)
    item_rows = [c for c in changes() if c.item_id is not None]
    assert sorted(c.item_id for c in item_rows) == sorted([first.id, second.id])
    assert {(c.from_user_id, c.to_user_id, c.approved_by_id) for c in item_rows} == {
        (s1.id, s3.id, boss.id)
    }


def test_reassignment_is_audited_and_the_chain_holds(world):
    cp, _items, _paid = account(world, paid=())
    boss, s3 = world.user("boss"), world.user("s3")
    before = db.session.scalar(sa.select(sa.func.max(AuditLog.id)))
    with as_actor(boss):
        services.reassign(cp, s3.id, reason="调整分工", actor=boss)
        db.session.commit()
    entries = db.session.execute(
        sa.select(
            AuditLog.table_name, AuditLog.action, AuditLog.changes, AuditLog.actor_name
        ).where(AuditLog.id > before)
    ).all()
    tables = sorted((t, a) for t, a, _c, _n in entries)
    assert tables.count(("items", "update")) == 2
    assert tables.count(("counterparties", "update")) == 1
    assert tables.count(("responsibility_changes", "insert")) == 3
    assert {n for *_x, n in entries} == {"boss"}
    update = next(json.loads(c) for t, a, c, _n in entries if t == "counterparties")
    assert update == {"responsible_id": [world.users["s1"].id, s3.id]}
    assert verify_chain(db.session.connection()).ok


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(world, reason):
    cp, _items, _paid = account(world)
    boss = world.user("boss")
    with pytest.raises(ResponsibilityError) as refused:
        services.reassign(cp, world.users["s3"].id, reason=reason, actor=boss)
    assert refused.value.field == "reason"
    db.session.rollback()
    assert db.session.get(Counterparty, cp.id).responsible_id == world.users["s1"].id
    assert changes() == []


@pytest.mark.parametrize("who", ["s1", "fin", "exec", "law", "root"])
def test_only_a_supervisor_reassigns(world, who):
    cp, _items, _paid = account(world)
    with pytest.raises(ResponsibilityError, match="supervisor"):
        services.reassign(cp, world.users["s3"].id, reason="x", actor=world.user(who))
    db.session.rollback()
    assert changes() == []


def test_reassigning_to_the_same_or_a_disabled_person_is_refused(world):
    cp, _items, _paid = account(world)
    boss = world.user("boss")
    with pytest.raises(ResponsibilityError, match="already") as same:
        services.reassign(cp, world.users["s1"].id, reason="x", actor=boss)
    assert same.value.field == "to_user_id"
    s3 = world.user("s3")
    s3.active = False
    db.session.commit()
    with pytest.raises(ResponsibilityError, match="disabled"):
        services.reassign(cp, s3.id, reason="x", actor=boss)
    with pytest.raises(ResponsibilityError, match="Choose"):
        services.reassign(cp, None, reason="x", actor=boss)


def test_a_first_assignment_is_kind_initial(world):
    cp = world.build.counterparty("C-NOBODY")
    item = world.build.item(cp, "10.00", D(2025, 1, 1), D(2025, 2, 1))
    db.session.commit()
    boss = world.user("boss")
    moved = services.reassign(cp, world.users["s2"].id, reason="新客户分配", actor=boss)
    db.session.commit()
    assert moved.items == 1  # the item nobody answered for goes with the counterparty
    assert {(c.kind, c.from_user_id) for c in changes()} == {("initial", None)}
    assert db.session.get(Item, item.id).responsible_id == world.users["s2"].id


def test_one_item_is_reassigned_alone(world):
    cp, (first, second), _paid = account(world)
    boss = world.user("boss")
    services.reassign_item(first, world.users["s2"].id, reason="专项催收", actor=boss)
    db.session.commit()
    assert db.session.get(Item, first.id).responsible_id == world.users["s2"].id
    assert db.session.get(Item, second.id).responsible_id == world.users["s1"].id
    assert db.session.get(Counterparty, cp.id).responsible_id == world.users["s1"].id
    (row,) = changes()
    assert (row.item_id, row.counterparty_id, row.reason) == (first.id, cp.id, "专项催收")
    assert [c.id for c in queries.item_changes(first.id)] == [row.id]


# ---------------------------------------------------------------------------------------------
# Changes made on the records themselves (forms, imports): the listener


def test_changing_the_responsible_person_on_the_forms_leaves_history(world):
    cp, (first, _second), _paid = account(world)
    assert changes() == []  # creating a record is not a change
    fin, s2 = world.user("fin"), world.user("s2")
    with as_actor(fin):
        ledger.update_item(db.session.get(Item, first.id), responsible_id=s2.id)
        parties.save_counterparty(db.session.get(Counterparty, cp.id), responsible_id=s2.id)
        db.session.commit()
        # Saving the same value again is no change.
        ledger.update_item(db.session.get(Item, first.id), responsible_id=s2.id)
        db.session.commit()
    rows = changes()
    assert [(c.item_id, c.from_user_id, c.to_user_id) for c in rows] == [
        (first.id, world.users["s1"].id, s2.id),
        (None, world.users["s1"].id, s2.id),
    ]
    assert {(c.reason, c.approved_by_id, c.kind) for c in rows} == {
        (EDITED_ON_RECORD, fin.id, "reassignment")
    }


def test_a_change_on_an_expired_record_still_knows_the_old_holder(world):
    cp, _items, _paid = account(world)
    counterparty = db.session.get(Counterparty, cp.id)
    db.session.expire(counterparty)
    counterparty.responsible_id = world.users["s3"].id
    counterparty.leader_id = world.users["exec"].id
    db.session.commit()
    seats = {c.role: (c.from_user_id, c.to_user_id, c.kind) for c in changes()}
    assert seats == {
        "responsible": (world.users["s1"].id, world.users["s3"].id, "reassignment"),
        "leader": (None, world.users["exec"].id, "initial"),
    }


def test_a_person_assigned_through_the_relationship_is_recorded(world):
    cp, (first, _second), _paid = account(world)
    item = db.session.get(Item, first.id)
    item.responsible = world.user("s2")
    counterparty = db.session.get(Counterparty, cp.id)
    counterparty.leader = world.user("exec")
    newcomer = auth.create_user("newcomer", "correct-horse-9", ["sales"])
    counterparty.responsible = newcomer
    db.session.commit()
    seats = {(c.role, c.item_id): (c.from_user_id, c.to_user_id) for c in changes()}
    s1 = world.users["s1"].id
    assert seats == {
        ("responsible", first.id): (s1, world.users["s2"].id),
        ("leader", None): (None, world.users["exec"].id),
        ("responsible", None): (s1, newcomer.id),
    }
    assert {c.counterparty_id for c in changes()} == {cp.id}


def test_an_import_that_changes_the_responsible_person_leaves_history(world, tmp_path):
    from recovery.imports.services import import_file
    from tests.imports.conftest import ITEM_HEADER, item_row, write_csv

    first = write_csv(tmp_path / "a.csv", ITEM_HEADER, [item_row(responsible="s1")])
    assert import_file("items", first).written
    assert changes() == []  # the import created the item: its first holder is on the item
    second = write_csv(tmp_path / "b.csv", ITEM_HEADER, [item_row(responsible="s2")])
    assert import_file("items", second).written
    item = db.session.scalar(sa.select(Item))
    (row,) = changes()
    assert (row.item_id, row.from_user_id, row.to_user_id, row.reason) == (
        item.id,
        world.users["s1"].id,
        world.users["s2"].id,
        EDITED_ON_RECORD,
    )
    history = queries.item_changes(item.id)
    assert queries.first_holder(history, "responsible", item.responsible_id).username == "s1"


# ---------------------------------------------------------------------------------------------
# Hand-over


def holdings_of_s1(world):
    """s1 holds two counterparties (3 open items, 1 paid), an open and a closed case, a
    running promise; s2 holds one counterparty."""
    cp1, open1, paid1 = account(world, code="H1", open_amounts=("100.00", "200.00"))
    cp2, open2, _ = account(world, code="H2", open_amounts=("300.00",), paid=())
    cp3, open3, _ = account(world, owner="s2", code="H3", open_amounts=("400.00",), paid=())
    s1 = world.user("s1")
    db.session.add_all(
        [
            RecoveryCase(
                number="CASE-1", counterparty_id=cp1.id, opened_on=TODAY, assignee_id=s1.id
            ),
            RecoveryCase(
                number="CASE-0",
                counterparty_id=cp2.id,
                opened_on=TODAY,
                assignee_id=s1.id,
                status="closed",
                outcome="recovered",
            ),
            Promise(
                counterparty_id=cp1.id,
                amount=Decimal("100.00"),
                promised_on=TODAY,
                due_on=TODAY + timedelta(days=10),
                recorded_by_id=s1.id,
            ),
        ]
    )
    db.session.commit()
    return (cp1, cp2, cp3), (*open1, *open2), paid1, open3


def draft(world, actor="boss", leaving="s1", successor="s3", **values):
    return services.draft_handover(
        from_user_id=world.users[leaving].id,
        to_user_id=world.users[successor].id,
        reason=values.pop("reason", "离职交接"),
        actor=world.user(actor),
        as_of=TODAY,
        **values,
    )


def tick_all(handover, actor):
    services.tick_checklist(
        handover, {c.id: (True, "已交接") for c in handover.checklist}, actor=actor
    )


def test_the_checklist_is_generated_from_what_the_person_holds(world):
    holdings_of_s1(world)
    handover = draft(world, extra_lines=["", "  交还门禁卡  "])
    db.session.commit()
    labels = [c.label for c in handover.checklist]
    assert labels[0].startswith("Accounts: 2 counterparties and 3 open items (600.00")
    assert any(label.startswith("Open recovery cases: 1;") for label in labels)
    assert any(label.startswith("Promises to pay still running: 1;") for label in labels)
    assert any(label.startswith("Contacts briefed") for label in labels)
    assert not any(label.startswith("Evidence files") for label in labels)  # holds none
    assert labels[-1] == "交还门禁卡"
    assert [c.position for c in handover.checklist] == list(range(len(labels)))
    assert handover.status == "draft" and handover.requested_by_id == world.users["boss"].id


def test_a_hand_over_moves_everything_in_one_step_with_history_and_counts(world):
    (cp1, cp2, cp3), open_items, paid, others = holdings_of_s1(world)
    boss, s1, s3 = world.user("boss"), world.user("s1"), world.user("s3")
    handover = draft(world)
    tick_all(handover, boss)
    db.session.commit()
    case_version = db.session.scalar(
        sa.select(RecoveryCase.version).where(RecoveryCase.number == "CASE-1")
    )

    with as_actor(boss):
        moved = services.apply_handover(handover, actor=boss)
        db.session.commit()

    assert (moved.counterparties, moved.items, moved.cases) == (2, 3, 1)
    handover = db.session.get(Handover, handover.id)
    assert handover.status == "completed" and handover.approved_by_id == boss.id
    assert (handover.counterparties_moved, handover.items_moved, handover.cases_moved) == (2, 3, 1)
    assert handover.completed_at is not None
    responsible = dict(
        db.session.execute(sa.select(Counterparty.code, Counterparty.responsible_id)).all()
    )
    assert responsible == {"H1": s3.id, "H2": s3.id, "H3": world.users["s2"].id}
    owners = {i.id: i.responsible_id for i in db.session.scalars(sa.select(Item))}
    assert {owners[i.id] for i in open_items} == {s3.id}
    assert owners[paid[0].id] == s1.id
    assert owners[others[0].id] == world.users["s2"].id
    cases = {c.number: c for c in db.session.scalars(sa.select(RecoveryCase))}
    assert cases["CASE-1"].assignee_id == s3.id and cases["CASE-1"].version == case_version + 1
    assert cases["CASE-0"].assignee_id == s1.id  # a closed case stays
    rows = changes(handover_id=handover.id)
    assert len(rows) == 5
    assert {(c.kind, c.from_user_id, c.to_user_id, c.approved_by_id, c.reason) for c in rows} == {
        ("handover", s1.id, s3.id, boss.id, "离职交接")
    }
    assert sorted(c.counterparty_id for c in rows if c.item_id is None) == sorted([cp1.id, cp2.id])
    assert verify_chain(db.session.connection()).ok
    with pytest.raises(ResponsibilityError, match="no longer a draft"):
        services.apply_handover(handover, actor=boss)


def test_the_person_leaving_cannot_approve_their_own_hand_over(world):
    account(world, owner="leaving_boss")
    handover = draft(world, actor="leaving_boss", leaving="leaving_boss")
    leaving = world.user("leaving_boss")
    tick_all(handover, leaving)
    db.session.commit()
    with pytest.raises(ResponsibilityError, match="cannot approve their own"):
        services.apply_handover(handover, actor=leaving)
    db.session.rollback()
    assert db.session.get(Handover, handover.id).status == "draft"
    assert changes() == []
    # Another supervisor may.
    moved = services.apply_handover(handover, actor=world.user("boss"))
    assert moved.counterparties == 1


def test_an_incomplete_checklist_is_refused(world):
    holdings_of_s1(world)
    boss = world.user("boss")
    handover = draft(world)
    first, *rest = handover.checklist
    services.tick_checklist(handover, {c.id: (True, None) for c in rest}, actor=boss)
    db.session.commit()
    with pytest.raises(ResponsibilityError) as refused:
        services.apply_handover(handover, actor=boss)
    assert "Tick every line" in str(refused.value) and first.label in str(refused.value)
    db.session.rollback()
    assert changes() == []
    assert (
        db.session.get(
            Counterparty,
            db.session.scalar(sa.select(Counterparty.id).where(Counterparty.code == "H1")),
        ).responsible_id
        == world.users["s1"].id
    )


def test_drafting_checks_people_reason_and_one_draft_per_person(world):
    account(world)
    with pytest.raises(ResponsibilityError, match="someone other"):
        draft(world, successor="s1")
    with pytest.raises(ResponsibilityError) as no_reason:
        draft(world, reason="  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(ResponsibilityError, match="supervisor"):
        draft(world, actor="s2")
    draft(world)
    with pytest.raises(ResponsibilityError, match="exists already"):
        draft(world, successor="s2")


def test_a_cancelled_draft_cannot_be_applied(world):
    account(world)
    boss = world.user("boss")
    handover = draft(world)
    tick_all(handover, boss)
    services.cancel_handover(handover, actor=boss)
    with pytest.raises(ResponsibilityError, match="no longer a draft"):
        services.apply_handover(handover, actor=boss)
    draft(world)  # the person may be handed over again


def test_a_hand_over_of_thousands_of_items_is_one_bulk_step(world):
    s1, boss, s3 = world.user("s1"), world.user("boss"), world.user("s3")
    cp = world.build.counterparty("BIG", responsible_id=s1.id)
    db.session.flush()
    count = 3000
    db.session.execute(
        Item.__table__.insert(),
        [
            {
                "document_no": f"BULK{n:05d}",
                "counterparty_id": cp.id,
                "item_type": "goods",
                "category": "accounts_receivable",
                "amount": Decimal("10.00"),
                "open_amount": Decimal("10.00"),
                "recognized_on": D(2025, 1, 1),
                "due_on": D(2025, 2, 1),
                "responsible_id": s1.id,
                "created_at": datetime(2025, 1, 1),
            }
            for n in range(count)
        ],
    )
    handover = draft(world)
    tick_all(handover, boss)
    db.session.commit()
    started = datetime.now()
    moved = services.apply_handover(handover, actor=boss)
    db.session.commit()
    elapsed = (datetime.now() - started).total_seconds()
    assert (moved.counterparties, moved.items) == (1, count)
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Item.responsible_id == s3.id)) == count
    )
    assert len(changes(handover_id=handover.id)) == count + 1
    assert elapsed < 20, elapsed


# ---------------------------------------------------------------------------------------------
# Lifetime responsibility (终身责任人)


def unreviewed_account(world):
    b = world.build
    signer = world.user("s2")
    cp = b.counterparty("K-CP", responsible_id=world.users["s1"].id)
    unreviewed = parties.save_contract(
        number="K-UNREVIEWED", counterparty_id=cp.id, reviewed=False, signer_id=signer.id
    )
    reviewed = parties.save_contract(
        number="K-REVIEWED", counterparty_id=cp.id, reviewed=True, signer_id=world.users["s3"].id
    )
    under = b.item(cp, "500.00", D(2025, 1, 1), D(2025, 2, 1), contract_id=unreviewed.id)
    checked = b.item(cp, "600.00", D(2025, 1, 1), D(2025, 2, 1), contract_id=reviewed.id)
    bare = b.item(cp, "700.00", D(2025, 1, 1), D(2025, 2, 1))
    db.session.commit()
    return cp, signer, (under, checked, bare)


def test_the_signer_of_an_unreviewed_contract_is_responsible_for_life(world):
    cp, signer, (under, checked, bare) = unreviewed_account(world)
    found = services.lifetime_responsible([under.id, checked.id, bare.id])
    assert {k: v.id for k, v in found.items()} == {under.id: signer.id}
    assert [u.id for u in services.lifetime_responsible_for_counterparty(cp.id)] == [signer.id]
    assert services.lifetime_responsible([]) == {}


def test_lifetime_responsibility_survives_reassignment_and_hand_over(world):
    cp, signer, (under, _checked, _bare) = unreviewed_account(world)
    boss = world.user("boss")
    services.reassign(cp, world.users["s3"].id, reason="调整", actor=boss)
    services.reassign_item(under, world.users["exec"].id, reason="调整", actor=boss)
    db.session.commit()
    handover = draft(world, leaving="s3", successor="s1")
    tick_all(handover, boss)
    services.apply_handover(handover, actor=boss)
    db.session.commit()
    assert services.lifetime_responsible([under.id])[under.id].id == signer.id
    assert [u.id for u in services.lifetime_responsible_for_counterparty(cp.id)] == [signer.id]
    assert db.session.get(Item, under.id).responsible_id == world.users["exec"].id


# ---------------------------------------------------------------------------------------------
# Leaders (第十条)


def test_debts_needing_a_leader_follow_the_thresholds(world):
    db.session.add_all(
        [
            Setting(key="cases.leader_amount", value="1000.00"),
            Setting(key="cases.leader_days", value="365"),
        ]
    )
    b = world.build
    as_of = D(2026, 6, 30)
    large = b.counterparty("LARGE")
    b.item(large, "1000.00", D(2026, 6, 1), D(2026, 12, 1))  # exactly the amount, not due
    small = b.counterparty("SMALL")
    b.item(small, "999.99", D(2026, 6, 1), D(2026, 12, 1))
    aged = b.counterparty("AGED")
    b.item(aged, "10.00", D(2025, 1, 1), as_of - timedelta(days=365))
    young = b.counterparty("YOUNG")
    b.item(young, "10.00", D(2025, 1, 1), as_of - timedelta(days=364))
    paid = b.counterparty("PAID")
    old = b.item(paid, "5000.00", D(2024, 1, 1), D(2024, 2, 1))
    b.receipt(paid, "5000.00", D(2024, 3, 1), item=old)
    led = b.counterparty("LED", leader_id=world.users["exec"].id)
    b.item(led, "9000.00", D(2024, 1, 1), D(2024, 2, 1))
    hard = b.counterparty("HARD")
    b.item(hard, "1.00", D(2026, 6, 1), D(2026, 12, 1))
    case = RecoveryCase(number="CASE-H", counterparty_id=hard.id, opened_on=as_of)
    db.session.add(case)
    db.session.flush()
    db.session.add(
        Strategy(
            case_id=case.id,
            kind="litigation",
            status="approved",
            proposed_by_id=world.users["s1"].id,
        )
    )
    rejected = b.counterparty("REJECTED")
    b.item(rejected, "1.00", D(2026, 6, 1), D(2026, 12, 1))
    case2 = RecoveryCase(number="CASE-R", counterparty_id=rejected.id, opened_on=as_of)
    db.session.add(case2)
    db.session.flush()
    db.session.add(
        Strategy(
            case_id=case2.id,
            kind="litigation",
            status="rejected",
            proposed_by_id=world.users["s1"].id,
        )
    )
    referred = b.counterparty("REFERRED")
    db.session.add(
        RecoveryCase(
            number="CASE-L", counterparty_id=referred.id, opened_on=as_of, status="referred"
        )
    )
    db.session.commit()

    page = queries.needing_leader(as_of, 1)
    found = {n.code: (n.large, n.long_aged, n.difficult) for n in page.items}
    assert found == {
        "LARGE": (True, False, False),
        "AGED": (False, True, False),
        "HARD": (False, False, True),
        "REFERRED": (False, False, True),
    }
    assert page.total == 4
    assert page.items[0].code == "LARGE"  # the largest first
    aged_row = next(n for n in page.items if n.code == "AGED")
    assert (aged_row.days_overdue, aged_row.outstanding) == (365, Decimal("10.00"))
    # As of an earlier date the large item does not exist yet and the old one is younger.
    earlier = {n.code for n in queries.needing_leader(D(2026, 5, 31), 1).items}
    assert earlier == {"HARD", "REFERRED"}


def test_a_leader_is_an_executive_set_by_a_supervisor_with_history(world):
    cp, _items, _paid = account(world)
    boss = world.user("boss")
    with pytest.raises(ResponsibilityError, match="executive") as not_executive:
        services.set_leader(cp, world.users["s2"].id, reason="大额", actor=boss)
    assert not_executive.value.field == "leader_id"
    with pytest.raises(ResponsibilityError, match="supervisor"):
        services.set_leader(cp, world.users["exec"].id, reason="大额", actor=world.user("exec"))
    with pytest.raises(ResponsibilityError, match="reason"):
        services.set_leader(cp, world.users["exec"].id, reason="", actor=boss)
    services.set_leader(cp, world.users["exec"].id, reason="大额欠款", actor=boss)
    db.session.commit()
    assert db.session.get(Counterparty, cp.id).leader_id == world.users["exec"].id
    (row,) = changes()
    assert (row.role, row.kind, row.from_user_id, row.to_user_id, row.approved_by_id) == (
        "leader",
        "initial",
        None,
        world.users["exec"].id,
        boss.id,
    )
    with pytest.raises(ResponsibilityError, match="already"):
        services.set_leader(cp, world.users["exec"].id, reason="x", actor=boss)
    services.set_leader(cp, None, reason="已收回", actor=boss)
    db.session.commit()
    assert db.session.get(Counterparty, cp.id).leader_id is None
    assert changes()[-1].to_user_id is None
    # The first-responsible person is another seat: untouched.
    assert db.session.get(Counterparty, cp.id).responsible_id == world.users["s1"].id
