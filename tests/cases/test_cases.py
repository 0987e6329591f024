"""Recovery cases: opening rules, the status flow and its closing checks, assignment, the
field-visit hand-over, extension requests, progress against target and the proposals."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from recovery.cases import queries, services, strategies
from recovery.cases.errors import CaseError, StaleEdit
from recovery.cases.models import ApprovalDecision, RecoveryCase
from recovery.extensions import db
from recovery.settings.services import update_settings

# ---------------------------------------------------------------------------------------------
# Opening


def test_open_case_with_the_fields_of_a_case(world):
    counterparty = world.counterparty()
    case = world.open_case(
        counterparty,
        cause="cash_shortage",
        cause_note="Waiting for the employer's payment",
        target_amount=Decimal("30000.00"),
        target_date=world.today + timedelta(days=60),
        plan="Call weekly; visit in July.",
    )
    assert case.number.startswith("RC-2025-")
    assert case.status == "open" and case.origin == "manual"
    assert case.opened_on == world.today
    assert case.target_amount == Decimal("30000.00")
    # A sales user opening a case becomes its collector; the assignment clock starts.
    assert case.assignee_id == world.user_ids["sales"]
    assert case.assigned_by_id == world.user_ids["sales"] and case.assigned_at is not None


def test_at_most_one_open_case_per_counterparty(world):
    counterparty = world.counterparty()
    first = world.open_case(counterparty)
    with pytest.raises(CaseError) as refused:
        world.open_case(counterparty, actor="supervisor")
    assert str(refused.value.message) == str(
        _l("%(code)s already has an open case, %(no)s.", code=counterparty.code, no=first.number)
    )
    # Once closed, a new case may be opened.
    services.close_case(
        first,
        "written_off",
        "Write-off W-1",
        version=first.version,
        actor=world.user("supervisor"),
        today=world.today,
    )
    second = world.open_case(counterparty)
    assert second.id != first.id and second.status == "open"


def test_the_database_refuses_a_second_open_case(world):
    """The unique partial index stands behind the service's check (two users at once)."""
    counterparty = world.counterparty()
    world.open_case(counterparty)
    db.session.commit()
    db.session.add(
        RecoveryCase(number="RC-X", counterparty_id=counterparty.id, opened_on=world.today)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_nothing_overdue_needs_a_reason(world):
    # Owes money, but nothing is due yet.
    counterparty = world.counterparty(overdue=0)
    world.ledger.item(counterparty, "1000.00", world.today, world.today + timedelta(days=10))
    with pytest.raises(CaseError) as refused:
        world.open_case(counterparty)
    assert refused.value.field == "opening_reason"
    with pytest.raises(CaseError):
        world.open_case(counterparty, opening_reason="   ")
    case = world.open_case(counterparty, opening_reason="Customer announced insolvency")
    assert case.opening_reason == "Customer announced insolvency"


def test_due_today_is_not_overdue(world):
    counterparty = world.counterparty(overdue=Decimal("10.00"), days=0)
    with pytest.raises(CaseError) as refused:
        world.open_case(counterparty)
    assert refused.value.field == "opening_reason"


def test_a_paid_item_is_not_overdue(world):
    counterparty = world.counterparty(overdue=Decimal("500.00"))
    world.ledger.receipt(counterparty, "500.00", world.today - timedelta(days=1))
    with pytest.raises(CaseError) as refused:
        world.open_case(counterparty)
    assert refused.value.field == "opening_reason"


def test_target_checks(world):
    counterparty = world.counterparty()
    with pytest.raises(CaseError) as refused:
        world.open_case(counterparty, target_date=world.today - timedelta(days=1))
    assert refused.value.field == "target_date"
    with pytest.raises(CaseError) as refused:
        world.open_case(counterparty, cause="bad luck")
    assert refused.value.field == "cause"


def test_only_a_supervisor_assigns_somebody_else_on_opening(world):
    counterparty = world.counterparty()
    with pytest.raises(CaseError) as refused:
        world.open_case(counterparty, assignee_id=world.user_ids["sales2"])
    assert refused.value.field == "assignee_id"
    case = world.open_case(counterparty, actor="supervisor", assignee_id=world.user_ids["sales2"])
    assert case.assignee_id == world.user_ids["sales2"]
    assert case.assigned_by_id == world.user_ids["supervisor"]


def test_a_supervisor_may_open_unassigned(world):
    case = world.open_case(world.counterparty(), actor="supervisor")
    assert case.assignee_id is None and case.assigned_at is None


def test_proposed_origin_only_for_a_proposed_counterparty(world):
    small = world.counterparty(overdue=Decimal("10.00"), days=5)
    with pytest.raises(CaseError):
        world.open_case(small, origin="proposed")
    large = world.counterparty(overdue=Decimal("100000.00"), days=5)
    assert world.open_case(large, origin="proposed").origin == "proposed"


# ---------------------------------------------------------------------------------------------
# Editing and optimistic locking


def test_update_with_the_current_version(world):
    case = world.open_case(world.counterparty())
    db.session.commit()
    version = case.version
    services.update_case(
        case, version=version, actor=world.user("sales"), today=world.today, plan="New plan"
    )
    db.session.commit()
    assert case.plan == "New plan" and case.version == version + 1


def test_update_from_an_old_version_is_refused(world):
    case = world.open_case(world.counterparty())
    db.session.commit()
    old = case.version
    services.update_case(
        case, version=old, actor=world.user("supervisor"), today=world.today, plan="Theirs"
    )
    db.session.commit()
    with pytest.raises(StaleEdit) as refused:
        services.update_case(
            case, version=old, actor=world.user("sales"), today=world.today, plan="Mine"
        )
    assert "User supervisor" in str(refused.value.message)
    db.session.rollback()
    assert db.session.get(RecoveryCase, case.id).plan == "Theirs"


# ---------------------------------------------------------------------------------------------
# Status flow


def test_start_by_hand_and_by_the_first_action(world):
    case = world.open_case(world.counterparty())
    services.start_case(case, version=case.version, actor=world.user("sales"))
    assert case.status == "in_progress"
    with pytest.raises(CaseError):
        services.start_case(case, version=case.version, actor=world.user("sales"))

    other = world.open_case(world.counterparty())
    moment = datetime(2025, 6, 30, 2, 0)
    services.record_first_action(other, moment)
    assert other.first_action_at == moment and other.status == "in_progress"
    services.record_first_action(other, moment + timedelta(hours=3))
    assert other.first_action_at == moment  # only the first action counts


def test_refer_to_legal_needs_a_note(world):
    case = world.open_case(world.counterparty())
    with pytest.raises(CaseError) as refused:
        services.refer_case(case, " ", version=case.version, actor=world.user("sales"))
    assert refused.value.field == "note"
    services.refer_case(
        case, "Debtor ignores demands", version=case.version, actor=world.user("sales")
    )
    assert case.status == "referred" and case.referral_note == "Debtor ignores demands"
    assert case.referred_by_id == world.user_ids["sales"] and case.referred_at is not None
    with pytest.raises(CaseError):
        services.refer_case(case, "again", version=case.version, actor=world.user("sales"))


def _close(world, case, outcome, note=None):
    return services.close_case(
        case, outcome, note, version=case.version, actor=world.user("sales"), today=world.today
    )


def test_recovered_needs_nothing_outstanding_or_a_note(world):
    counterparty = world.counterparty(overdue=Decimal("1000.00"))
    case = world.open_case(counterparty)
    with pytest.raises(CaseError) as refused:
        _close(world, case, "recovered")
    assert refused.value.field == "note"
    world.ledger.receipt(counterparty, "1000.00", world.today)
    _close(world, case, "recovered")
    assert case.status == "closed" and case.outcome == "recovered"
    assert case.closed_by_id == world.user_ids["sales"]

    other = world.open_case(world.counterparty(overdue=Decimal("1000.00")))
    _close(world, other, "recovered", "The rest is covered by a court order")
    assert other.closing_note == "The rest is covered by a court order"


def test_written_off_needs_a_note(world):
    case = world.open_case(world.counterparty())
    with pytest.raises(CaseError):
        _close(world, case, "written_off")
    _close(world, case, "written_off", "WO-2025-3")
    assert case.outcome == "written_off"


def test_settled_in_kind_needs_a_completed_settlement_in_kind(world):
    case = world.open_case(world.counterparty(overdue=Decimal("50000.00")))
    with pytest.raises(CaseError) as refused:
        _close(world, case, "settled_in_kind")
    assert refused.value.field == "outcome"
    strategy = world.strategy(
        case,
        "in_kind",
        appraised_value=Decimal("40000.00"),
        appraiser="Huaxia Appraisal",
        appraised_on=world.today,
        accepted_value=Decimal("38000.00"),
        title_registration_no="T-1",
        title_registered_on=world.today,
    )
    world.submit(strategy)
    world.approve_all(strategy)
    with pytest.raises(CaseError):
        _close(world, case, "settled_in_kind")  # approved is not completed
    strategies.complete_strategy(
        strategy, version=strategy.version, actor=world.user("finance"), today=world.today
    )
    _close(world, case, "settled_in_kind")
    assert case.outcome == "settled_in_kind"


def test_no_closing_while_a_strategy_awaits_approval(world):
    case = world.open_case(world.counterparty())
    world.submit(world.secured(case))
    with pytest.raises(CaseError):
        _close(world, case, "written_off", "WO-1")


def test_unknown_outcome_and_closed_cases(world):
    case = world.open_case(world.counterparty())
    with pytest.raises(CaseError):
        _close(world, case, "vanished", "x")
    _close(world, case, "written_off", "WO-1")
    with pytest.raises(CaseError):
        _close(world, case, "written_off", "WO-1")
    with pytest.raises(CaseError):
        services.update_case(
            case, version=case.version, actor=world.user("sales"), today=world.today, plan="x"
        )


def test_stale_close_is_refused(world):
    case = world.open_case(world.counterparty())
    old = case.version
    services.start_case(case, version=old, actor=world.user("sales"))
    with pytest.raises(StaleEdit):
        services.close_case(
            case, "written_off", "WO", version=old, actor=world.user("sales"), today=world.today
        )


# ---------------------------------------------------------------------------------------------
# Assignment, hand-over to a field visit, extension requests


def test_assignment_by_a_supervisor(world):
    case = world.open_case(world.counterparty(), actor="supervisor")
    with pytest.raises(CaseError):
        services.assign_case(
            case, world.user_ids["sales2"], version=case.version, actor=world.user("sales")
        )
    with pytest.raises(CaseError) as refused:
        services.assign_case(
            case, world.user_ids["finance"], version=case.version, actor=world.user("supervisor")
        )
    assert refused.value.field == "assignee_id"
    services.assign_case(
        case, world.user_ids["sales2"], version=case.version, actor=world.user("supervisor")
    )
    assert case.assignee_id == world.user_ids["sales2"]
    assert case.assigned_by_id == world.user_ids["supervisor"] and case.assigned_at
    with pytest.raises(CaseError):  # already theirs
        services.assign_case(
            case, world.user_ids["sales2"], version=case.version, actor=world.user("supervisor")
        )


def test_hand_to_field_visit_starts_the_visit_clock(world):
    case = world.open_case(world.counterparty())
    assert case.visit_requested_at is None
    services.request_visit(case, version=case.version, actor=world.user("sales"))
    assert case.visit_requested_at is not None


def test_extension_request_and_decision(world):
    case = world.open_case(world.counterparty())
    request_values = {
        "reason": "Debtor's office closed for the holiday",
        "next_plan": "Visit on the first working day",
        "until_on": world.today + timedelta(days=5),
        "actor": world.user("sales"),
        "today": world.today,
    }
    for missing in ("reason", "next_plan"):
        with pytest.raises(CaseError) as refused:
            services.request_extension(case, **{**request_values, missing: ""})
        assert refused.value.field == missing
    with pytest.raises(CaseError) as refused:
        services.request_extension(case, **{**request_values, "until_on": world.today})
    assert refused.value.field == "until_on"
    extension = services.request_extension(case, **request_values)
    assert extension.status == "pending"
    with pytest.raises(CaseError):  # one pending request at a time
        services.request_extension(case, **request_values)

    with pytest.raises(CaseError):  # not a supervisor
        services.decide_extension(extension, approve=True, note=None, actor=world.user("finance"))
    with pytest.raises(CaseError) as refused:  # a rejection says why
        services.decide_extension(extension, approve=False, note="", actor=world.user("supervisor"))
    assert refused.value.field == "note"
    services.decide_extension(extension, approve=True, note=None, actor=world.user("supervisor"))
    assert extension.status == "approved"
    assert extension.decided_by_id == world.user_ids["supervisor"]
    with pytest.raises(CaseError):
        services.decide_extension(
            extension, approve=False, note="x", actor=world.user("supervisor")
        )


def test_nobody_decides_their_own_extension_request(world):
    case = world.open_case(world.counterparty(), actor="supervisor")
    extension = services.request_extension(
        case,
        reason="r",
        next_plan="p",
        until_on=world.today + timedelta(days=3),
        actor=world.user("supervisor"),
        today=world.today,
    )
    with pytest.raises(CaseError) as refused:
        services.decide_extension(
            extension, approve=True, note=None, actor=world.user("supervisor")
        )
    assert str(refused.value.message) == str(_l("Nobody decides on their own request."))
    services.decide_extension(extension, approve=True, note=None, actor=world.user("supervisor2"))


# ---------------------------------------------------------------------------------------------
# Progress against target


def test_progress_counts_receipts_from_opening_to_as_of(world):
    counterparty = world.counterparty(overdue=Decimal("10000.00"))
    world.ledger.receipt(counterparty, "1000.00", world.today - timedelta(days=1))  # before
    case = world.open_case(counterparty, target_amount=Decimal("8000.00"))
    world.ledger.receipt(counterparty, "2000.00", world.today)  # opening day counts
    world.ledger.receipt(counterparty, "500.50", world.today + timedelta(days=10))
    world.ledger.receipt(counterparty, "700.00", world.today + timedelta(days=40))  # after

    progress = services.case_progress(case, world.today + timedelta(days=10))
    assert progress["recovered"] == Decimal("2500.50")
    assert progress["target"] == Decimal("8000.00")
    assert progress["percent"] == Decimal("31.3")  # 2500.50 / 8000 = 31.256 %
    assert progress["remaining"] == Decimal("5499.50")
    assert progress["outstanding"] == Decimal("6499.50")  # 10000 − 1000 − 2000 − 500.50
    assert progress["overdue"] == Decimal("6499.50")

    assert services.case_progress(case, world.today)["recovered"] == Decimal("2000.00")


def test_progress_without_a_target_and_beyond_it(world):
    counterparty = world.counterparty(overdue=Decimal("5000.00"))
    case = world.open_case(counterparty)
    world.ledger.receipt(counterparty, "100.00", world.today)
    progress = services.case_progress(case, world.today)
    assert progress["percent"] is None and progress["bar"] is None
    assert progress["recovered"] == Decimal("100.00")

    services.update_case(
        case,
        version=case.version,
        actor=world.user("sales"),
        today=world.today,
        target_amount=Decimal("50.00"),
    )
    progress = services.case_progress(case, world.today)
    assert progress["percent"] == Decimal("200.0") and progress["bar"] == Decimal(100)


def test_progress_is_late_after_the_target_date(world):
    counterparty = world.counterparty()
    case = world.open_case(
        counterparty,
        target_amount=Decimal("1000.00"),
        target_date=world.today + timedelta(days=5),
    )
    assert not services.case_progress(case, world.today)["late"]
    assert services.case_progress(case, world.today + timedelta(days=6))["late"]


# ---------------------------------------------------------------------------------------------
# Automatic proposals


def _proposed(world, as_of=None):
    return {row.code: row for row in services.proposals(as_of or world.today)}


def test_proposal_thresholds_amount_and_age(world):
    # Defaults: 100000.00 overdue, or 90 days past due (both "at least").
    at_amount = world.counterparty(code="AMT", overdue=Decimal("100000.00"), days=10)
    below = world.counterparty(code="LOW", overdue=Decimal("99999.99"), days=89)
    at_age = world.counterparty(code="AGE", overdue=Decimal("10.00"), days=90)
    world.counterparty(code="NONE", overdue=0)
    rows = _proposed(world)
    assert set(rows) == {"AMT", "AGE"}
    assert rows["AMT"].by_amount and not rows["AMT"].by_age
    assert rows["AGE"].by_age and not rows["AGE"].by_amount
    assert rows["AGE"].days_overdue == 90 and rows["AGE"].overdue == Decimal("10.00")
    assert list(rows) == ["AMT", "AGE"]  # largest overdue first

    # A day later the 89-day item reaches 90 days.
    assert "LOW" in _proposed(world, world.today + timedelta(days=1))
    # Paid down below the amount threshold: no longer proposed by amount.
    world.ledger.receipt(at_amount, "0.01", world.today)
    assert "AMT" not in _proposed(world)
    assert below.id and at_age.id


def test_proposals_skip_counterparties_with_an_open_case(world):
    counterparty = world.counterparty(code="BIG", overdue=Decimal("200000.00"))
    assert "BIG" in _proposed(world)
    case = world.open_case(counterparty)
    assert "BIG" not in _proposed(world)
    _close(world, case, "written_off", "WO-9")
    assert "BIG" in _proposed(world)


def test_proposal_thresholds_follow_the_settings(world):
    world.counterparty(code="MID", overdue=Decimal("5000.00"), days=30)
    assert "MID" not in _proposed(world)
    update_settings({"cases.propose_overdue_amount": "5000.00"})
    assert "MID" in _proposed(world)
    update_settings(
        {"cases.propose_overdue_amount": "1000000.00", "cases.propose_overdue_days": "30"}
    )
    assert _proposed(world)["MID"].by_age


def test_proposals_visible_to_a_sales_user(world):
    world.counterparty(code="MINE", overdue=Decimal("200000.00"))
    world.counterparty(code="THEIRS", overdue=Decimal("200000.00"), responsible="sales2")
    rows = services.proposals(world.today, visible_to=world.user_ids["sales"])
    assert [row.code for row in rows] == ["MINE"]


def test_counterparty_position(world):
    counterparty = world.counterparty(overdue=Decimal("300.00"), days=40)
    world.ledger.item(
        counterparty, "200.00", world.today - timedelta(days=5), world.today + timedelta(days=5)
    )
    world.ledger.receipt(counterparty, "100.00", world.today)
    position = queries.counterparty_position(counterparty.id, world.today)
    assert position.outstanding == Decimal("400.00")
    assert position.overdue == Decimal("200.00")
    assert position.days_overdue == 40


def test_decisions_are_rows_and_audited(world):
    from recovery.audit.models import AuditLog

    case = world.open_case(world.counterparty())
    strategy = world.submit(world.secured(case))
    world.decide(strategy, "finance")
    db.session.flush()
    decisions = db.session.scalars(
        sa.select(ApprovalDecision).where(ApprovalDecision.strategy_id == strategy.id)
    ).all()
    assert [d.decision for d in decisions] == ["submitted", "approved"]
    audited = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditLog)
        .where(AuditLog.table_name == "approval_decisions")
    )
    assert audited == 2
