"""Strategies (第十六条–第十九条): the proposal, each kind's record, every path through the
approval chain, the four-eyes refusals, and completion through the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from recovery.audit.context import Actor, acting_as
from recovery.cases import strategies
from recovery.cases.errors import CaseError, StaleEdit
from recovery.cases.labels import STEP_LABELS
from recovery.cases.models import Strategy
from recovery.core.permissions import ROLE_LABELS
from recovery.extensions import db
from recovery.ledger.models import Receipt
from recovery.parties import services as parties


def _pending_for(world, name):
    return [s.id for s in db.session.scalars(strategies.pending_approvals_for(world.user(name)))]


# ---------------------------------------------------------------------------------------------
# The proposal


def _project(world, code, prospects, employer=None):
    return parties.save_project(
        code=code,
        name=code,
        prospects=prospects,
        employer_id=employer.id if employer else None,
    )


def test_funds_good_proposes_cash_collection(world):
    counterparty = world.counterparty(financial_status="good", business_status="poor")
    kind, reason = strategies.propose_strategy(counterparty, world.today)
    assert kind == "cash_collection"
    assert "第十六条" in str(reason)


def test_funds_poor_and_good_project_prospects_propose_a_secured_arrangement(world):
    counterparty = world.counterparty(overdue=0, financial_status="poor", business_status="poor")
    good = _project(world, "P-GOOD", "good")
    poor = _project(world, "P-POOR", "poor")
    due = world.today - timedelta(days=10)
    world.ledger.item(counterparty, "600.00", due, due, project_id=good.id)
    world.ledger.item(counterparty, "400.00", due, due, project_id=poor.id)
    kind, reason = strategies.propose_strategy(counterparty, world.today)
    assert kind == "secured"
    assert "600.00" in str(reason) and "1,000.00" in str(reason)
    # Paid down on the good project: the poor one now carries most of the debt.
    world.ledger.receipt(counterparty, "300.00", world.today, item=world_item(counterparty, good))
    assert strategies.propose_strategy(counterparty, world.today)[0] == "in_kind"


def world_item(counterparty, project):
    from recovery.ledger.models import Item

    return db.session.scalar(
        sa.select(Item).where(
            Item.counterparty_id == counterparty.id, Item.project_id == project.id
        )
    )


def test_without_debts_on_projects_the_employers_projects_count(world):
    counterparty = world.counterparty(financial_status="poor", business_status="normal")
    _project(world, "E-1", "good", employer=counterparty)
    kind, reason = strategies.propose_strategy(counterparty, world.today)
    assert kind == "secured"
    assert "1" in str(reason)


def test_funds_and_business_poor_propose_settlement_in_kind(world):
    counterparty = world.counterparty(financial_status="poor", business_status="poor")
    assert strategies.propose_strategy(counterparty, world.today)[0] == "in_kind"


def test_nothing_fits_proposes_litigation(world):
    counterparty = world.counterparty(financial_status="poor", business_status="normal")
    _project(world, "E-2", "poor", employer=counterparty)
    kind, reason = strategies.propose_strategy(counterparty, world.today)
    assert kind == "litigation"
    assert "第十六条" in str(reason)


def test_bad_faith_proposes_litigation(world):
    counterparty = world.counterparty(financial_status="good")
    world.open_case(counterparty, cause="wilful_default")
    kind, reason = strategies.propose_strategy(counterparty, world.today)
    assert kind == "litigation" and "第二十条" in str(reason)


# ---------------------------------------------------------------------------------------------
# Recording


def test_recorded_with_the_proposal_and_a_rationale_when_different(world):
    counterparty = world.counterparty(financial_status="good")
    case = world.open_case(counterparty)
    with pytest.raises(CaseError) as refused:
        strategies.record_strategy(
            case, "secured", "  ", actor=world.user("sales"), as_of=world.today
        )
    assert refused.value.field == "rationale"
    strategy = strategies.record_strategy(
        case, "cash_collection", None, actor=world.user("sales"), as_of=world.today
    )
    # No approval chain: approved when recorded.
    assert strategy.status == "approved" and strategy.proposed_kind == "cash_collection"
    assert "第十六条" in strategy.proposal_reason
    secured = strategies.record_strategy(
        case,
        "secured",
        "The debtor offers a mortgage",
        actor=world.user("sales"),
        as_of=world.today,
    )
    assert secured.status == "draft" and secured.proposed_kind == "cash_collection"


def test_one_live_strategy_of_a_kind(world):
    case = world.open_case(world.counterparty())
    world.secured(case)
    with pytest.raises(CaseError) as refused:
        world.strategy(case, "secured")
    assert refused.value.field == "kind"


def test_litigation_needs_no_chain(world):
    case = world.open_case(world.counterparty())
    assert world.strategy(case, "litigation").status == "approved"


# ---------------------------------------------------------------------------------------------
# The approval chain


def test_approve_through_the_chain(world):
    case = world.open_case(world.counterparty())
    strategy = world.secured(case)
    assert _pending_for(world, "finance") == []
    world.submit(strategy)
    assert (strategy.status, strategy.step) == ("pending", "finance_review")
    assert _pending_for(world, "finance") == [strategy.id]
    assert _pending_for(world, "legal") == []

    world.decide(strategy, "finance")
    assert strategy.step == "legal_review"
    assert _pending_for(world, "finance") == []
    assert _pending_for(world, "legal") == [strategy.id]

    world.decide(strategy, "legal")
    assert strategy.step == "leader_approval"
    assert _pending_for(world, "executive") == [strategy.id]

    world.decide(strategy, "executive")
    assert (strategy.status, strategy.step) == ("approved", None)
    assert _pending_for(world, "executive") == []
    assert [(d.step, d.decision, d.decided_by_id) for d in strategy.decisions] == [
        ("finance_review", "submitted", world.user_ids["sales"]),
        ("finance_review", "approved", world.user_ids["finance"]),
        ("legal_review", "approved", world.user_ids["legal"]),
        ("leader_approval", "approved", world.user_ids["executive"]),
    ]


@pytest.mark.parametrize("step_index", [0, 1, 2])
def test_reject_at_any_step_needs_a_reason_and_is_final(world, step_index):
    case = world.open_case(world.counterparty())
    strategy = world.submit(world.secured(case))
    deciders = ("finance", "legal", "executive")
    for who in deciders[:step_index]:
        world.decide(strategy, who)
    who = deciders[step_index]
    with pytest.raises(CaseError) as refused:
        world.decide(strategy, who, "rejected", "  ")
    assert refused.value.field == "reason"
    world.decide(strategy, who, "rejected", "Collateral worth too little")
    assert (strategy.status, strategy.step) == ("rejected", None)
    assert strategy.decisions[-1].reason == "Collateral worth too little"
    assert _pending_for(world, deciders[min(step_index + 1, 2)]) == []
    with pytest.raises(CaseError):
        world.submit(strategy)
    # A new strategy of the kind may now be recorded.
    assert world.strategy(case, "secured").status == "draft"


def test_send_back_and_resubmit(world):
    case = world.open_case(world.counterparty())
    strategy = world.submit(world.secured(case))
    world.decide(strategy, "finance")
    with pytest.raises(CaseError) as refused:
        world.decide(strategy, "legal", "sent_back")
    assert refused.value.field == "reason"
    world.decide(strategy, "legal", "sent_back", "Add the land registry extract")
    assert (strategy.status, strategy.step) == ("draft", None)
    assert _pending_for(world, "legal") == []

    # The proposer fixes the record and submits again; the chain starts over.
    strategies.update_strategy(
        strategy,
        version=strategy.version,
        actor=world.user("sales"),
        today=world.today,
        investigation="Visited the plant; registry extract attached.",
    )
    world.submit(strategy)
    assert (strategy.status, strategy.step) == ("pending", "finance_review")
    assert _pending_for(world, "finance") == [strategy.id]
    world.approve_all(strategy)
    assert strategy.status == "approved"
    assert [d.decision for d in strategy.decisions] == [
        "submitted",
        "approved",
        "sent_back",
        "submitted",
        "approved",
        "approved",
        "approved",
    ]


def test_self_approval_is_refused(world):
    """A finance user who proposed the strategy may not review it."""
    case = world.open_case(world.counterparty(), actor="supervisor")
    strategy = world.secured(case, actor="finlegal")
    world.submit(strategy, actor="finlegal")
    assert _pending_for(world, "finlegal") == []
    with pytest.raises(CaseError) as refused:
        world.decide(strategy, "finlegal")
    assert str(refused.value.message) == str(_l("Nobody decides on a strategy they proposed."))
    assert strategy.step == "finance_review" and len(strategy.decisions) == 1


def test_the_submitter_may_not_decide(world):
    case = world.open_case(world.counterparty(), actor="supervisor")
    strategy = world.secured(case, actor="sales")
    world.submit(strategy, actor="finlegal")
    with pytest.raises(CaseError) as refused:
        world.decide(strategy, "finlegal")
    assert str(refused.value.message) == str(_l("Nobody decides on a strategy they submitted."))
    assert _pending_for(world, "finlegal") == []


def test_wrong_role_is_refused(world):
    case = world.open_case(world.counterparty())
    strategy = world.submit(world.secured(case))
    for who in ("legal", "executive", "supervisor", "sales2"):
        with pytest.raises(CaseError) as refused:
            world.decide(strategy, who)
        assert str(refused.value.message) == str(
            _l(
                "The %(step)s step needs the %(role)s role.",
                step=STEP_LABELS["finance_review"],
                role=ROLE_LABELS["finance"],
            )
        )
    assert strategy.step == "finance_review"
    world.decide(strategy, "finance")
    with pytest.raises(CaseError):
        world.decide(strategy, "finance2")  # finance may not decide the legal step
    assert strategy.step == "legal_review"


def test_one_person_decides_one_step_of_a_submission(world):
    case = world.open_case(world.counterparty())
    strategy = world.submit(world.secured(case))
    world.decide(strategy, "finlegal")  # as finance
    assert strategy.step == "legal_review"
    assert _pending_for(world, "finlegal") == []
    with pytest.raises(CaseError):
        world.decide(strategy, "finlegal")  # as legal: no
    world.decide(strategy, "legal")
    assert strategy.step == "leader_approval"


def test_a_decision_from_an_old_page_is_refused(world):
    case = world.open_case(world.counterparty())
    strategy = world.submit(world.secured(case))
    old = strategy.version
    world.decide(strategy, "finance")
    with pytest.raises(StaleEdit):
        strategies.decide_strategy(
            strategy, "approved", None, version=old, actor=world.user("legal")
        )


def test_only_pending_strategies_are_decided(world):
    case = world.open_case(world.counterparty())
    strategy = world.secured(case)
    with pytest.raises(CaseError):
        world.decide(strategy, "finance")


def test_submission_needs_the_record(world):
    case = world.open_case(world.counterparty())
    strategy = world.strategy(case, "secured")
    with pytest.raises(CaseError):
        world.submit(strategy)
    assert strategies.missing_for_submission(strategy) == ["investigation", "collateral"]
    strategies.update_strategy(
        strategy,
        version=strategy.version,
        actor=world.user("sales"),
        today=world.today,
        investigation="Checked the books",
    )
    assert strategies.missing_for_submission(strategy) == ["collateral"]
    line = strategies.add_collateral(
        strategy, kind="pledge", asset="Shares of X", value=Decimal("100.00"), today=world.today
    )
    strategies.withdraw_collateral(line)
    assert strategies.missing_for_submission(strategy) == ["collateral"]
    assert line.active is False  # kept, not deleted


def test_collateral_checks(world):
    case = world.open_case(world.counterparty())
    strategy = world.strategy(case, "secured")
    with pytest.raises(CaseError) as refused:
        strategies.add_collateral(
            strategy, kind="lien", asset="a", value=Decimal("1.00"), today=world.today
        )
    assert refused.value.field == "kind"
    with pytest.raises(CaseError) as refused:
        strategies.add_collateral(
            strategy, kind="mortgage", asset=" ", value=Decimal("1.00"), today=world.today
        )
    assert refused.value.field == "asset"
    with pytest.raises(CaseError) as refused:
        strategies.add_collateral(
            strategy,
            kind="mortgage",
            asset="Hall",
            value=Decimal("1.00"),
            registered_on=world.today + timedelta(days=1),
            today=world.today,
        )
    assert refused.value.field == "registered_on"
    cash = world.strategy(case, "cash_collection")
    with pytest.raises(CaseError):
        strategies.add_collateral(
            cash, kind="mortgage", asset="Hall", value=Decimal("1.00"), today=world.today
        )


def test_approved_terms_do_not_change_but_execution_is_recorded(world):
    counterparty = world.counterparty(overdue=Decimal("50000.00"))
    case = world.open_case(counterparty)
    strategy = world.strategy(
        case,
        "in_kind",
        appraised_value=Decimal("40000.00"),
        appraiser="Huaxia Appraisal",
        appraised_on=world.today,
        accepted_value=Decimal("38000.00"),
    )
    world.submit(strategy)
    with pytest.raises(CaseError):  # nothing changes while in the chain
        strategies.update_strategy(
            strategy,
            version=strategy.version,
            actor=world.user("sales"),
            today=world.today,
            preservation="Sealed",
        )
    world.approve_all(strategy)
    with pytest.raises(CaseError) as refused:
        strategies.update_strategy(
            strategy,
            version=strategy.version,
            actor=world.user("sales"),
            today=world.today,
            accepted_value=Decimal("39000.00"),
        )
    assert refused.value.field == "accepted_value"
    strategies.update_strategy(
        strategy,
        version=strategy.version,
        actor=world.user("sales"),
        today=world.today,
        accepted_value=Decimal("38000.00"),  # unchanged terms may be sent along
        preservation="Sealed by the court",
        title_registration_no="BDC-2025-77",
        title_registered_on=world.today,
    )
    assert strategy.title_registration_no == "BDC-2025-77"


def test_record_checks(world):
    case = world.open_case(world.counterparty())
    strategy = world.strategy(case, "in_kind")
    db.session.commit()
    values = {"version": strategy.version, "actor": world.user("sales"), "today": world.today}
    with pytest.raises(CaseError) as refused:
        strategies.update_strategy(
            strategy, **values, appraised_value=Decimal("100.00"), accepted_value=Decimal("101.00")
        )
    assert refused.value.field == "accepted_value"
    db.session.rollback()
    strategy = db.session.get(Strategy, strategy.id)
    with pytest.raises(CaseError) as refused:
        strategies.update_strategy(
            strategy,
            version=strategy.version,
            actor=world.user("sales"),
            today=world.today,
            appraised_on=world.today + timedelta(days=1),
        )
    assert refused.value.field == "appraised_on"


def test_a_stale_strategy_edit_is_refused(world):
    case = world.open_case(world.counterparty())
    strategy = world.strategy(case, "secured")
    db.session.commit()
    old = strategy.version
    supervisor = world.user("supervisor")
    # The audit trail records the actor of the request; here, set by hand.
    with acting_as(Actor(supervisor.id, supervisor.username)):
        strategies.update_strategy(
            strategy, version=old, actor=supervisor, today=world.today, investigation="Theirs"
        )
        db.session.commit()
    with pytest.raises(StaleEdit) as refused:
        strategies.update_strategy(
            strategy,
            version=old,
            actor=world.user("sales"),
            today=world.today,
            investigation="Mine",
        )
    # Strategies keep no updated_by: the audit trail names who changed it.
    assert "User supervisor" in str(refused.value.message)


# ---------------------------------------------------------------------------------------------
# Completion through the ledger


def _in_kind(world, counterparty, accepted="38000.00", registered=True):
    case = world.open_case(counterparty)
    record = {
        "appraised_value": Decimal("40000.00"),
        "appraiser": "Huaxia Appraisal",
        "appraised_on": world.today - timedelta(days=3),
        "accepted_value": Decimal(accepted),
    }
    strategy = world.strategy(case, "in_kind", **record)
    world.submit(strategy)
    world.approve_all(strategy)
    if registered:
        strategies.update_strategy(
            strategy,
            version=strategy.version,
            actor=world.user("sales"),
            today=world.today,
            title_registration_no="BDC-2025-77",
            title_registered_on=world.today - timedelta(days=1),
        )
    return strategy


def _balance(world, counterparty, as_of=None):
    from recovery.cases.queries import counterparty_position

    return counterparty_position(counterparty.id, as_of or world.today).outstanding


def test_in_kind_completion_posts_the_receipt_and_the_balance_drops(world):
    counterparty = world.counterparty(overdue=Decimal("50000.00"))
    strategy = _in_kind(world, counterparty)
    assert _balance(world, counterparty) == Decimal("50000.00")
    strategies.complete_strategy(
        strategy, version=strategy.version, actor=world.user("finance"), today=world.today
    )
    assert strategy.status == "completed" and strategy.completed_at is not None
    receipt = db.session.get(Receipt, strategy.receipt_id)
    assert receipt.receipt_no == f"INK-{strategy.id}"
    assert receipt.method == "in_kind"
    assert receipt.amount == Decimal("38000.00")
    assert receipt.received_on == world.today - timedelta(days=1)  # the registration date
    assert receipt.counterparty_id == counterparty.id
    assert _balance(world, counterparty) == Decimal("12000.00")
    # Allocation ran: the item itself is paid down.
    from recovery.ledger.models import Item

    item = db.session.scalar(sa.select(Item).where(Item.counterparty_id == counterparty.id))
    assert item.open_amount == Decimal("12000.00")


def test_in_kind_completion_needs_title_registration(world):
    counterparty = world.counterparty(overdue=Decimal("50000.00"))
    strategy = _in_kind(world, counterparty, registered=False)
    with pytest.raises(CaseError):
        strategies.complete_strategy(
            strategy, version=strategy.version, actor=world.user("finance"), today=world.today
        )
    assert strategy.status == "approved" and strategy.receipt_id is None


def test_completion_that_posts_needs_finance(world):
    counterparty = world.counterparty(overdue=Decimal("50000.00"))
    strategy = _in_kind(world, counterparty)
    with pytest.raises(CaseError):
        strategies.complete_strategy(
            strategy, version=strategy.version, actor=world.user("sales"), today=world.today
        )


def test_in_kind_value_above_what_is_owed_is_refused(world):
    counterparty = world.counterparty(overdue=Decimal("50000.00"))
    strategy = _in_kind(world, counterparty)
    # Paid meanwhile: only 10000.00 is owed when the title is registered.
    world.ledger.receipt(counterparty, "40000.00", world.today - timedelta(days=2))
    with pytest.raises(CaseError) as refused:
        strategies.complete_strategy(
            strategy, version=strategy.version, actor=world.user("finance"), today=world.today
        )
    assert refused.value.field == "accepted_value"
    assert db.session.scalar(sa.select(Receipt).where(Receipt.method == "in_kind")) is None


def test_submission_refuses_an_amount_above_what_is_owed(world):
    counterparty = world.counterparty(overdue=Decimal("1000.00"))
    case = world.open_case(counterparty)
    strategy = world.strategy(
        case, "netting", netting_party="Group subsidiary East", netting_amount=Decimal("1000.01")
    )
    with pytest.raises(CaseError) as refused:
        world.submit(strategy)
    assert refused.value.field == "netting_amount"


def test_netting_completion_posts_an_offset(world):
    counterparty = world.counterparty(overdue=Decimal("1000.00"))
    case = world.open_case(counterparty)
    strategy = world.strategy(
        case, "netting", netting_party="Group subsidiary East", netting_amount=Decimal("400.00")
    )
    world.submit(strategy)
    world.approve_all(strategy)
    strategies.complete_strategy(
        strategy, version=strategy.version, actor=world.user("finance"), today=world.today
    )
    receipt = strategy.receipt
    assert (receipt.receipt_no, receipt.method, receipt.amount, receipt.received_on) == (
        f"OFS-{strategy.id}",
        "offset",
        Decimal("400.00"),
        world.today,
    )
    assert _balance(world, counterparty) == Decimal("600.00")


def test_debt_transfer_runs_the_same_chain(world):
    case = world.open_case(world.counterparty())
    strategy = world.strategy(
        case, "debt_transfer", transferee="Huarong AMC", transfer_price=Decimal("20000.00")
    )
    world.submit(strategy)
    assert strategy.step == "finance_review"
    world.approve_all(strategy)
    strategies.complete_strategy(
        strategy, version=strategy.version, actor=world.user("sales"), today=world.today
    )
    assert strategy.status == "completed" and strategy.receipt_id is None


def test_secured_completion_needs_registered_mortgages(world):
    case = world.open_case(world.counterparty())
    strategy = world.secured(case)
    strategies.add_collateral(
        strategy,
        kind="guarantee",
        asset="Parent company",
        value=Decimal("10.00"),
        today=world.today,
    )
    world.submit(strategy)
    world.approve_all(strategy)
    with pytest.raises(CaseError):
        strategies.complete_strategy(
            strategy, version=strategy.version, actor=world.user("sales"), today=world.today
        )
    mortgage = next(line for line in strategy.collateral if line.kind == "mortgage")
    strategies.register_collateral(
        mortgage,
        registration_no="Real estate 2025-0001",
        registered_on=world.today,
        registry_office="City registry",
        today=world.today,
    )
    strategies.complete_strategy(
        strategy, version=strategy.version, actor=world.user("sales"), today=world.today
    )
    assert strategy.status == "completed"


def test_cancel_a_strategy(world):
    case = world.open_case(world.counterparty())
    strategy = world.submit(world.secured(case))
    with pytest.raises(CaseError):  # neither proposer nor supervisor
        strategies.cancel_strategy(strategy, version=strategy.version, actor=world.user("sales2"))
    strategies.cancel_strategy(strategy, version=strategy.version, actor=world.user("sales"))
    assert strategy.status == "cancelled" and strategy.step is None
    assert _pending_for(world, "finance") == []
    with pytest.raises(CaseError):
        strategies.cancel_strategy(strategy, version=strategy.version, actor=world.user("sales"))
