"""bench/generate.py's recovery work (on by default, --no-work skips it) at a small scale: the
ledger is the same with or without it, the rows hold together, and they come in the
proportions bench/README.md states. (The million-item run is not part of the suite.)"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta

import sqlalchemy as sa

from recovery import PROJECT_ROOT, create_app
from recovery.activities import rules as activity_rules
from recovery.activities.models import Activity, Promise
from recovery.activities.promises import promise_status_rows
from recovery.cases import queries as case_queries
from recovery.cases import services as case_services
from recovery.extensions import db
from recovery.ledger.models import Item
from recovery.legal.models import (
    Lawsuit,
    LawsuitCost,
    Referral,
    ReferralDecision,
    ReferralItem,
)
from recovery.limitation import queries as limitation_queries
from recovery.limitation.models import LimitationEvent
from recovery.parties.models import Contact, Counterparty
from tests.conftest import base_config, fresh_database_url, run_bench_generate

AS_OF = date(2026, 11, 28)
LEDGER = ("counterparties", "projects", "contracts", "items", "adjustments", "receipts",
          "applications")  # fmt: skip
WORK = ("contacts", "recovery_cases", "activities", "promises", "limitation_events", "referrals",
        "referral_decisions", "referral_items", "lawsuits", "lawsuit_hearings",
        "lawsuit_costs")  # fmt: skip


def generate(url: str, tmp_path, *extra: str) -> None:
    run_bench_generate(
        url,
        tmp_path,
        "--counterparties",
        "1000",
        "--projects",
        "40",
        "--items",
        "8000",
        "--receipts",
        "6400",
        "--seed",
        "5",
        "--as-of",
        AS_OF.isoformat(),
        *extra,
    )


def ledger_digest() -> dict[str, str]:
    """Every column of every row of the ledger tables, by table."""
    found = {}
    for table in LEDGER:
        digest = hashlib.sha256()
        for row in db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")):  # noqa: S608
            digest.update(repr(tuple(row)).encode())
        found[table] = digest.hexdigest()
    return found


def counts() -> dict[str, int]:
    return {
        table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: S608
        for table in (*LEDGER, *WORK)
    }


def test_recovery_work_leaves_the_ledger_alone_and_holds_together(migrated_database, tmp_path):
    url = fresh_database_url(migrated_database, tmp_path)
    app = create_app(base_config(tmp_path, url))

    generate(url, tmp_path, "--no-work")
    with app.app_context():
        without = ledger_digest()
        assert not any(n for table, n in counts().items() if table in WORK)
        db.session.remove()
        db.engine.dispose()

    # --reset empties the ledger (and the work tables) and makes the same ledger again.
    generate(url, tmp_path, "--reset")
    with app.app_context():
        assert ledger_digest() == without
        found = counts()
        assert all(found[table] for table in WORK), found
        if db.engine.dialect.name == "sqlite":
            assert not db.session.execute(sa.text("PRAGMA foreign_key_check")).all()
        check_activities_and_promises()
        check_cases()
        check_limitation_events()
        check_referrals_and_lawsuits()
        # The readers the benchmark measures run on it.
        assert limitation_queries.expiring_count(AS_OF, 180) > 0
        db.session.remove()
        db.engine.dispose()

    # A second load without --reset is refused: the tables are not empty.
    env = {**os.environ, "RECOVERY_INSTANCE_PATH": str(tmp_path / "instance")}
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "generate.py"), "--database", url,
               "--counterparties", "3", "--projects", "1", "--items", "5",
               "--receipts", "2"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "use --reset" in done.stderr


def check_activities_and_promises() -> None:
    parties = db.session.scalar(sa.select(sa.func.count()).select_from(Counterparty))
    per_party = Counter(db.session.scalars(sa.select(Activity.counterparty_id)))
    assert 0.30 <= len(per_party) / parties <= 0.50
    assert min(per_party.values()) >= 1 and max(per_party.values()) <= 15
    activities = db.session.scalars(sa.select(Activity)).all()
    assert {a.kind for a in activities} == set(activity_rules.KIND_LABELS)
    first = AS_OF - timedelta(days=3 * 365 + 3)
    # Stored as UTC: the last local day may end at 16:00 UTC of the day itself.
    assert all(first <= a.occurred_at.date() <= AS_OF for a in activities)
    contacts = {c.id: c.counterparty_id for c in db.session.scalars(sa.select(Contact))}
    for a in activities:
        assert a.user_id == a.counterparty.responsible_id
        if a.kind in activity_rules.CONTACT_REQUIRED_KINDS:
            assert contacts[a.contact_id] == a.counterparty_id
        assert (a.review_status != "not_required") == (a.kind == "visit")
        if a.next_step_on is not None:
            assert a.next_step and a.next_step_on >= a.occurred_at.date()

    promises = db.session.scalars(sa.select(Promise)).all()
    promising = {p.counterparty_id for p in promises}
    assert 0.05 <= len(promising) / parties <= 0.15
    assert set(Counter(p.counterparty_id for p in promises).values()) <= {1, 2, 3}
    standing = defaultdict(bool)
    for p in promises:
        assert p.activity.counterparty_id == p.counterparty_id
        assert p.case_id == p.activity.case_id
        assert p.activity.kind in activity_rules.ACKNOWLEDGING_KINDS
        standing[p.activity_id] |= not p.cancelled
    assert any(p.cancelled and p.cancel_reason for p in promises)
    # interrupts_limitation is what the application's rule says: a standing promise; a
    # delivered kind with its proof of arrival; else only a spoken acknowledgement (not kept
    # apart from the flag, so only the other cases can be checked exactly).
    for a in activities:
        if standing[a.id]:
            assert a.interrupts_limitation
        elif a.kind in activity_rules.DELIVERED_KINDS:
            assert a.interrupts_limitation == bool(a.proof_of_arrival)
        else:
            assert not a.proof_of_arrival
    assert any(a.interrupts_limitation and not standing[a.id] for a in activities
               if a.kind in activity_rules.ACKNOWLEDGING_KINDS)  # fmt: skip
    # Kept, broken and open, as the application judges them from the receipts.
    statuses = Counter(row.status for row in db.session.execute(promise_status_rows(AS_OF)))
    assert statuses["kept"] and statuses["broken"], statuses


def check_cases() -> None:
    min_overdue, min_days = case_services.proposal_thresholds()
    cases = db.session.execute(sa.text("SELECT * FROM recovery_cases")).mappings().all()
    assert cases
    live = [c for c in cases if c["status"] != "closed"]
    assert len({c["counterparty_id"] for c in live}) == len(live)
    first_action = dict(
        db.session.execute(
            sa.select(Activity.case_id, sa.func.min(Activity.occurred_at)).group_by(
                Activity.case_id
            )
        ).all()
    )
    for case in cases:
        opened_on = case["opened_on"]
        if isinstance(opened_on, str):
            opened_on = date.fromisoformat(opened_on)
        moment = first_action.get(case["id"])
        stored = case["first_action_at"]
        assert (str(stored) if stored else None) == (str(moment) if moment else None)
        if case["status"] == "closed":
            assert case["outcome"] and case["opening_reason"] and case["closing_note"]
            continue
        # Opened when the application would have proposed it.
        position = case_queries.counterparty_position(case["counterparty_id"], opened_on)
        assert position.overdue >= min_overdue or position.days_overdue >= min_days
        assert case["assignee_id"] is not None
        expected = "in_progress" if moment is not None else "open"
        if case["status"] != "referred":
            assert case["status"] == expected
    statuses = Counter(c["status"] for c in cases)
    assert statuses["in_progress"] and statuses["open"] and statuses["closed"], statuses


def check_limitation_events() -> None:
    events = db.session.scalars(sa.select(LimitationEvent)).all()
    open_items = db.session.scalar(
        sa.select(sa.func.count()).select_from(Item).where(Item.open_amount > 0)
    )
    assert len(events) == round(open_items * 0.005)
    assert len({e.item_id for e in events}) == len(events)
    for event in events:
        assert event.item.open_amount > 0
        assert event.item.due_on < event.dated_on <= AS_OF
        if event.ended_on is not None:
            assert event.kind == "suspension" and event.dated_on <= event.ended_on <= AS_OF
        assert bool(event.withdraw_reason) == event.withdrawn
    assert {e.kind for e in events} >= {"demand", "acknowledgement", "suspension"}


def check_referrals_and_lawsuits() -> None:
    parties = db.session.scalar(sa.select(sa.func.count()).select_from(Counterparty))
    referrals = db.session.scalars(sa.select(Referral)).all()
    assert len(referrals) == max(1, round(parties * 0.003))
    for referral in referrals:
        lines = db.session.scalars(
            sa.select(ReferralItem).where(ReferralItem.referral_id == referral.id)
        ).all()
        claimed = [line for line in lines if line.claimed]
        assert claimed and referral.principal == sum(line.principal for line in claimed)
        assert referral.interest == sum(line.interest for line in claimed)
        for line in lines:
            assert line.item.counterparty_id == referral.counterparty_id
            assert line.item.due_on < referral.claim_as_of
        decisions = [
            d.decision
            for d in db.session.scalars(
                sa.select(ReferralDecision)
                .where(ReferralDecision.referral_id == referral.id)
                .order_by(ReferralDecision.id)
            )
        ]
        expected = {
            "draft": [],
            "submitted": ["submitted"],
            "returned": ["submitted", "returned"],
            "accepted": ["submitted", "accepted"],
            "declined": ["submitted", "declined"],
        }[referral.status]
        assert decisions == expected
        case = referral.case
        if referral.status in ("submitted", "returned", "accepted"):
            assert case.status == "referred" and case.referred_at == referral.submitted_at
    lawsuits = db.session.scalars(sa.select(Lawsuit)).all()
    assert lawsuits
    for suit in lawsuits:
        assert suit.referral.status == "accepted"
        assert suit.claimed_principal == suit.referral.principal
        dates = [suit.filed_on, suit.preservation_on, suit.judgment_on, suit.judgment_effective_on,
                 suit.performance_deadline, suit.enforcement_on, suit.closed_on]  # fmt: skip
        dates = [d for d in dates if d is not None]
        assert dates == sorted(dates) and dates[-1] <= AS_OF
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LawsuitCost)
            .where(LawsuitCost.lawsuit_id == suit.id, LawsuitCost.kind == "court_fee")
        )
