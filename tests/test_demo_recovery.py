"""The demo recovery work (flask --app recovery demo load): every state, step and kind the
recovery screens show, loaded once, the same every time."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

import sqlalchemy as sa

from recovery import create_app
from recovery.activities.models import ACTIVITY_KINDS, Activity, Dispute, Promise
from recovery.activities.promises import promise_status_rows
from recovery.auth.models import User
from recovery.cases.models import (
    ApprovalDecision,
    Collateral,
    ExtensionRequest,
    RecoveryCase,
    Strategy,
)
from recovery.demo.recovery import COLLECTORS, LEAVER
from recovery.extensions import db
from recovery.ledger.models import Adjustment, Receipt
from recovery.parties.models import Counterparty
from recovery.responsibility.models import Handover, ResponsibilityChange
from recovery.worklist import queries
from recovery.worklist.service_levels import Levels, find_breaches, to_utc
from tests.conftest import base_config, fresh_database_url

ANCHOR = date(2026, 6, 30)  # a Tuesday
SCALE = "0.1"


def load(runner) -> str:
    result = runner.invoke(args=["demo", "load", "--scale", SCALE, "--as-of", ANCHOR.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def values(column, *where):
    return set(db.session.scalars(sa.select(column).where(*where).distinct()))


def test_demo_recovery_work_has_every_state(app, runner):
    output = load(runner)
    assert "Demo recovery work: cases" in output
    for username, _name in COLLECTORS:
        assert username in output
    with app.app_context():
        assert values(RecoveryCase.status) == {"open", "in_progress", "referred", "closed"}
        assert values(RecoveryCase.outcome, RecoveryCase.outcome.is_not(None)) == {
            "recovered",
            "written_off",
            "settled_in_kind",
        }
        assert {"manual", "imported"} <= values(RecoveryCase.origin)

        # Strategies at every step of the chain, and every ending.
        assert values(Strategy.step, Strategy.status == "pending") == {
            "finance_review",
            "legal_review",
            "leader_approval",
        }
        assert {"draft", "approved", "rejected", "completed"} <= values(Strategy.status)
        assert values(ApprovalDecision.decision) == {
            "submitted",
            "approved",
            "rejected",
            "sent_back",
        }
        sent_back = db.session.scalar(
            sa.select(Strategy)
            .join(ApprovalDecision)
            .where(ApprovalDecision.decision == "sent_back")
        )
        assert sent_back.status == "draft"
        completed = db.session.scalar(sa.select(Strategy).where(Strategy.status == "completed"))
        assert completed.kind == "in_kind" and completed.receipt.method == "in_kind"
        assert completed.receipt.amount == completed.accepted_value
        assert completed.case.outcome == "settled_in_kind"
        assert db.session.scalar(sa.select(sa.func.count(Collateral.id))) >= 8
        assert values(Collateral.registration_no, Collateral.registration_no.is_not(None))
        # Nobody decided on their own proposal.
        own = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ApprovalDecision)
            .join(Strategy)
            .where(
                ApprovalDecision.decision != "submitted",
                ApprovalDecision.decided_by_id == Strategy.proposed_by_id,
            )
        )
        assert own == 0

        # Activities of every kind; visits pending, approved and returned; a late call allowed
        # with a reason; a demand that interrupts limitation.
        assert values(Activity.kind) == set(ACTIVITY_KINDS)
        assert values(Activity.review_status, Activity.kind == "visit") == {
            "pending",
            "approved",
            "returned",
        }
        override = db.session.scalar(
            sa.select(Activity).where(Activity.conduct_override_reason.is_not(None))
        )
        assert override is not None and override.conduct_warning
        assert db.session.scalar(
            sa.select(Activity.id).where(
                Activity.kind == "demand", Activity.interrupts_limitation.is_(True)
            )
        )

        # Promises kept, broken and open on the anchor day.
        rows = promise_status_rows(ANCHOR).subquery()
        assert set(db.session.scalars(sa.select(rows.c.status))) == {"kept", "broken", "open"}
        assert db.session.scalar(sa.select(sa.func.count(Promise.id))) >= 3

        # Disputes: open, accepted (its credit note approved by finance), rejected.
        assert values(Dispute.status) == {"open", "accepted", "rejected"}
        accepted = db.session.scalar(sa.select(Dispute).where(Dispute.status == "accepted"))
        assert (
            accepted.adjustment.status == "approved" and accepted.adjustment.kind == "credit_note"
        )

        # An extension request waits for the supervisor.
        assert values(ExtensionRequest.status) == {"pending"}

        # The hand-over: completed, with its history rows; the leaver is no longer active.
        handover = db.session.scalar(sa.select(Handover))
        assert handover.status == "completed" and handover.approved_by.username == "supervisor"
        assert all(check.done for check in handover.checklist)
        leaver = db.session.scalar(sa.select(User).where(User.username == LEAVER[0]))
        assert not leaver.active
        moved = db.session.scalars(
            sa.select(ResponsibilityChange).where(ResponsibilityChange.handover_id == handover.id)
        ).all()
        assert len(moved) >= handover.counterparties_moved >= 1
        assert all(change.to_user_id == handover.to_user_id for change in moved)

        # Every receipt the recovery work posted is dated on or before the anchor.
        latest = db.session.scalar(sa.select(sa.func.max(Receipt.received_on)))
        assert latest <= ANCHOR


def test_demo_recovery_work_feeds_the_worklists(app, runner):
    load(runner)
    with app.app_context():
        evening = to_utc(datetime(2026, 6, 30, 18, 0))
        breaches = find_breaches(evening, levels=Levels.from_settings())
        assert {b.rule for b in breaches if b.open} == {"assignment", "first_action", "visit"}
        sales = db.session.scalar(sa.select(User).where(User.username == "sales"))
        page = queries.worklist_page([sales.id], ANCHOR, evening)
        assert page.items and page.items[0].attention >= 2
        assert any(line.broken_promises for line in page.items)
        assert any(line.next_step_on == ANCHOR for line in page.items)
        assert queries.waiting_for(sales, ANCHOR).disputes_due == 1
        for username, step in (
            ("finance", "finance_review"),
            ("legal", "legal_review"),
            ("executive", "leader_approval"),
        ):
            user = db.session.scalar(sa.select(User).where(User.username == username))
            assert [s.step for s in queries.waiting_for(user, ANCHOR).strategies] == [step]
        supervisor = db.session.scalar(sa.select(User).where(User.username == "supervisor"))
        waiting = queries.waiting_for(supervisor, ANCHOR)
        assert waiting.visit_reviews == 1 and len(waiting.extensions) == 1


def recovery_digest() -> str:
    """The recovery work without row ids and case numbers (both follow the database's
    sequences, which a PostgreSQL test database wiped between loads does not restart)."""
    cp = Counterparty
    digest = hashlib.sha256()
    for query in (
        sa.select(
            cp.code,
            RecoveryCase.status,
            RecoveryCase.outcome,
            RecoveryCase.opened_at,
            RecoveryCase.assigned_at,
            RecoveryCase.target_amount,
        )
        .join(cp, cp.id == RecoveryCase.counterparty_id)
        .order_by(cp.code, RecoveryCase.opened_at),
        sa.select(cp.code, Strategy.kind, Strategy.status, Strategy.step)
        .join(RecoveryCase, RecoveryCase.id == Strategy.case_id)
        .join(cp, cp.id == RecoveryCase.counterparty_id)
        .order_by(cp.code, Strategy.kind),
        sa.select(cp.code, Activity.kind, Activity.occurred_at, Activity.summary)
        .join(cp, cp.id == Activity.counterparty_id)
        .order_by(Activity.occurred_at, cp.code, Activity.kind),
        sa.select(cp.code, Promise.amount, Promise.due_on)
        .join(cp, cp.id == Promise.counterparty_id)
        .order_by(cp.code, Promise.due_on),
        sa.select(cp.code, Dispute.amount, Dispute.status)
        .join(cp, cp.id == Dispute.counterparty_id)
        .order_by(cp.code, Dispute.status),
        sa.select(Adjustment.number, Adjustment.amount).order_by(Adjustment.number),
    ):
        for row in db.session.execute(query):
            # Letter numbers follow row ids, which PostgreSQL does not reuse between loads.
            digest.update(re.sub(r"LTR-\d{4}-\d{5}", "LTR-#", repr(tuple(row))).encode())
    return digest.hexdigest()


def test_demo_recovery_work_is_the_same_every_time_and_loaded_once(
    app, runner, migrated_database, tmp_path
):
    load(runner)
    with app.app_context():
        first = recovery_digest()
    again = load(runner)
    assert "Demo recovery work not loaded" in again
    with app.app_context():
        assert recovery_digest() == first
        db.session.remove()
        db.engine.dispose()
    other_path = tmp_path / "other"
    other_path.mkdir()
    other = create_app(base_config(other_path, fresh_database_url(migrated_database, other_path)))
    load(other.test_cli_runner())
    with other.app_context():
        assert recovery_digest() == first
        db.session.remove()
        db.engine.dispose()
