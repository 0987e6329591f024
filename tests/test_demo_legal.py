"""The demo's legal and executive data (flask --app recovery demo load): referrals in every
state, lawsuits at every stage, letters, targets, reward lists and provisions, built through
the services, and the pages a reviewer opens answering for the right demo user."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta

import sqlalchemy as sa

from recovery.activities.evidence import stored_path
from recovery.audit.models import AuditLog
from recovery.audit.services import verify_chain
from recovery.auth.models import User
from recovery.cases.models import RecoveryCase
from recovery.demo.executive import SECOND_EXECUTIVE, TARGET_PEOPLE
from recovery.demo.ledger import SALES_DEPARTMENTS
from recovery.demo.legal import court_fee, enforcement_fee, lawyer_fee, preservation_fee
from recovery.demo.services import demo_password
from recovery.extensions import db
from recovery.ledger.models import Application
from recovery.legal import checklist, judgment
from recovery.legal.models import (
    Hearing,
    Lawsuit,
    LawsuitCost,
    LawsuitRecovery,
    Referral,
    ReferralDecision,
)
from recovery.letters.models import Letter
from recovery.provisions.models import ProvisionRun, ProvisionRunLine, SpecificProvision
from recovery.targets.models import RewardList, Target
from recovery.targets.periods import month_of, quarter_of, year_of
from tests.conftest import login

ANCHOR = date(2026, 6, 30)  # a Tuesday
SCALE = "0.1"


def load(runner) -> str:
    result = runner.invoke(args=["demo", "load", "--scale", SCALE, "--as-of", ANCHOR.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_court_fees_follow_the_scale():
    from decimal import Decimal

    assert court_fee(Decimal("8000")) == Decimal("50.00")
    # 50 + 90,000 × 2.5 % + 50,000 × 2 %
    assert court_fee(Decimal("150000")) == Decimal("3300.00")
    assert preservation_fee(Decimal("500")) == Decimal("30.00")
    assert preservation_fee(Decimal("50000")) == Decimal("520.00")
    assert preservation_fee(Decimal("10000000")) == Decimal("5000.00")
    assert enforcement_fee(Decimal("200000")) == Decimal("2900.00")
    assert lawyer_fee(Decimal("100000")) == Decimal("10000.00")
    assert lawyer_fee(Decimal("3000000")) == Decimal("40000.00")
    assert lawyer_fee(Decimal("900000000")) == Decimal("500000.00")


def check_legal_rows() -> None:
    referrals = db.session.scalars(sa.select(Referral)).all()
    assert {r.status for r in referrals} == {"submitted", "returned", "declined", "accepted"}

    # The recovery work's referred case (the sales user's own) has its real referral: prepared
    # and sent by sales, evidence as the checklist requires, accepted by the demo legal user.
    sales, legal = user("sales"), user("legal")
    own = db.session.scalar(
        sa.select(Referral)
        .join(RecoveryCase, RecoveryCase.id == Referral.case_id)
        .where(
            RecoveryCase.opened_by_id == sales.id,
            Referral.note == "债务人拒不付款，催告函已送达，请法务部提起诉讼。",
        )
    )
    assert own is not None and own.status == "accepted"
    assert own.case.status == "referred" and own.case.referral_note
    assert own.submitted_by_id == sales.id and own.decided_by_id == legal.id
    assert own.principal > 0 and own.items
    package = checklist.build_package(own)
    assert package.complete and package.documents
    assert [d.decision for d in own.decisions] == ["submitted", "accepted"]
    # Every referred case has its referral; none is referred by hand.
    referred = db.session.scalars(
        sa.select(RecoveryCase).where(RecoveryCase.status == "referred")
    ).all()
    assert referred
    for case in referred:
        assert db.session.scalar(
            sa.select(Referral.id).where(
                Referral.case_id == case.id,
                Referral.status.in_(("submitted", "returned", "accepted")),
            )
        ), case.number

    returned = next(r for r in referrals if r.status == "returned")
    assert checklist.requested_kinds(returned) == ["statement", "correspondence"]
    assert not checklist.build_package(returned).complete  # waiting for the new evidence
    declined = next(r for r in referrals if r.status == "declined")
    assert declined.decision_reason and declined.case.status == "in_progress"
    submitted = next(r for r in referrals if r.status == "submitted")
    assert submitted.submitted_by.username == "finance"
    assert db.session.scalar(
        sa.select(sa.func.count(ReferralDecision.id)).where(
            ReferralDecision.decided_by_id == legal.id
        )
    )
    # Submissions and decisions are dated back into the demo's history, in order.
    for referral in referrals:
        moments = [d.decided_at for d in sorted(referral.decisions, key=lambda d: d.id)]
        assert moments == sorted(moments) and moments[-1].date() <= ANCHOR

    lawsuits = {s.stage: s for s in db.session.scalars(sa.select(Lawsuit))}
    assert set(lawsuits) == {
        "filed",
        "hearing",
        "preservation",
        "judgment",
        "enforcement",
        "closed",
    }
    for lawsuit in lawsuits.values():
        assert lawsuit.referral.status == "accepted"
        kinds = set(
            db.session.scalars(
                sa.select(LawsuitCost.kind).where(LawsuitCost.lawsuit_id == lawsuit.id)
            )
        )
        assert {"court_fee", "lawyer_fee"} <= kinds, lawsuit.stage
    assert lawsuits["filed"].filed_on > ANCHOR - timedelta(days=14)
    # Filed four weeks ago: the hearings are still to come, in the next weeks.
    upcoming = db.session.scalars(
        sa.select(Hearing.held_on).where(Hearing.lawsuit_id == lawsuits["hearing"].id)
    ).all()
    assert upcoming and all(ANCHOR < day <= ANCHOR + timedelta(days=28) for day in upcoming)
    assert lawsuits["preservation"].preserved_assets and lawsuits["preservation"].preserved_amount
    judged = lawsuits["judgment"]
    assert judged.performance_deadline < ANCHOR and judged.judgment_effective_on
    position = judgment.position(judged, ANCHOR)
    assert position.delayed_performance_interest > 0
    # Enforcement: the money recovered is a receipt of method enforcement, in the ledger.
    enforced = lawsuits["enforcement"]
    recovery = db.session.scalar(
        sa.select(LawsuitRecovery).where(LawsuitRecovery.lawsuit_id == enforced.id)
    )
    assert recovery.receipt.method == "enforcement"
    assert recovery.receipt.counterparty_id == enforced.counterparty_id
    applied = db.session.scalar(
        sa.select(sa.func.count(Application.id)).where(
            Application.receipt_id == recovery.receipt_id
        )
    )
    assert applied >= 1
    closed = lawsuits["closed"]
    assert closed.outcome == "paid_in_full" and closed.judgment_kind == "mediation"
    assert [r.receipt.method for r in closed.recoveries] == ["enforcement"]
    assert closed.case.status == "closed" and closed.case.outcome == "recovered"


def check_letters() -> None:
    letters = db.session.scalars(sa.select(Letter).order_by(Letter.id)).all()
    assert {(x.kind, x.level) for x in letters} == {
        ("demand", "reminder"),
        ("demand", "formal"),
        ("demand", "final"),
        ("confirmation", None),
        ("statement", None),
    }
    for letter in letters:
        content = stored_path(letter.file.stored_name).read_bytes()
        assert content.startswith(b"%PDF-")
        assert hashlib.sha256(content).hexdigest() == letter.file.sha256
    delivered = [x for x in letters if x.delivered_at is not None]
    assert len(delivered) == 1 and delivered[0].level == "final"
    activity = delivered[0].delivery_activity
    assert activity.kind == "demand" and activity.interrupts_limitation
    assert activity.occurred_at.date() <= ANCHOR


def check_limitation(runner) -> None:
    result = runner.invoke(
        args=[
            "report", "limitation", "--as-of", ANCHOR.isoformat(), "--within", "180",
            "--format", "csv",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    days = [int(row["days_left"]) for row in csv.DictReader(io.StringIO(result.output))]
    assert any(d < 0 for d in days)
    assert any(0 <= d <= 30 for d in days)
    assert any(30 < d <= 90 for d in days)
    assert any(90 < d <= 180 for d in days)


def check_executive_rows() -> None:
    executive, second = user("executive"), user(SECOND_EXECUTIVE[0])
    assert second is not None and second.has_role("executive")
    periods = [month_of(ANCHOR), quarter_of(ANCHOR), year_of(ANCHOR)]
    last_month = month_of(month_of(ANCHOR).start - timedelta(days=1))
    targets = db.session.scalars(sa.select(Target)).all()
    for period in [*periods, last_month]:
        found = [
            t for t in targets if t.period_start == period.start and t.period_kind == period.kind
        ]
        departments = {t.department.name for t in found if t.department_id}
        people = {t.user.username for t in found if t.user_id}
        assert departments == set(SALES_DEPARTMENTS), period
        assert people == set(TARGET_PEOPLE), period
        assert all(t.recovery_amount > 0 for t in found if t.department_id)
    lists = {x.ranked_by: x for x in db.session.scalars(sa.select(RewardList))}
    people_list = lists["person"]
    assert people_list.status == "approved" and people_list.period_start == last_month.start
    assert people_list.proposed_by_id == executive.id and people_list.decided_by_id == second.id
    assert people_list.entries
    assert lists["department"].status == "proposed"
    assert lists["department"].proposed_by.username == "supervisor"

    run = db.session.scalar(sa.select(ProvisionRun))
    assert run.status == "closed" and run.as_of == last_month.end
    specific = db.session.scalar(sa.select(SpecificProvision))
    assert specific.status == "approved" and specific.decided_by_id == executive.id
    assert specific.proposed_by.username == "finance"
    line = db.session.scalar(
        sa.select(ProvisionRunLine).where(
            ProvisionRunLine.run_id == run.id, ProvisionRunLine.specific_id == specific.id
        )
    )
    assert line is not None and line.specific_provision > 0


def check_audit() -> None:
    audited = set(
        db.session.scalars(
            sa.select(AuditLog.table_name).where(
                AuditLog.table_name.in_(
                    (
                        "referrals",
                        "lawsuits",
                        "lawsuit_costs",
                        "letters",
                        "targets",
                        "reward_lists",
                        "specific_provisions",
                        "provision_runs",
                    )
                )
            )
        )
    )
    assert audited >= {"referrals", "lawsuits", "letters", "targets", "reward_lists"}
    assert verify_chain(db.session.connection()).ok


def check_pages(client, ids) -> None:
    def as_user(username):
        client.post("/logout")
        response = login(client, username, demo_password(username))
        assert response.status_code == 302, username
        assert client.get("/").status_code in (200, 302)

    as_user("legal")
    for url in (
        "/legal/",
        *(f"/legal/lawsuits/{i}" for i in ids["lawsuits"]),
        *(f"/legal/referrals/{i}" for i in ids["referrals"]),
        f"/limitation/?as_of={ANCHOR.isoformat()}",
    ):
        assert client.get(url).status_code == 200, url
    as_user("sales")
    assert client.get(f"/legal/referrals/{ids['own_referral']}").status_code == 200
    assert client.get("/dashboard/").status_code == 403  # signed in as sales indeed
    as_user("finance")
    assert client.get("/letters/").status_code == 200
    as_user("executive")
    for url in (
        f"/dashboard/?as_of={ANCHOR.isoformat()}",
        "/targets/",
        "/targets/lists",
        *(f"/targets/lists/{i}" for i in ids["lists"]),
        f"/provisions/?as_of={ANCHOR.isoformat()}",
        f"/provisions/runs/{ids['run']}",
        "/legal/",
    ):
        assert client.get(url).status_code == 200, url


def test_demo_legal_and_executive_data(app, runner, client):
    output = load(runner)
    assert "Demo legal work: referrals" in output
    assert "Demo targets and provisions:" in output
    assert SECOND_EXECUTIVE[0] in output
    with app.app_context():
        check_legal_rows()
        check_letters()
        check_executive_rows()
        check_audit()
        sales = user("sales")
        ids = {
            "lawsuits": list(db.session.scalars(sa.select(Lawsuit.id))),
            "referrals": list(db.session.scalars(sa.select(Referral.id))),
            "own_referral": db.session.scalar(
                sa.select(Referral.id)
                .join(RecoveryCase, RecoveryCase.id == Referral.case_id)
                .where(RecoveryCase.opened_by_id == sales.id)
            ),
            "lists": list(db.session.scalars(sa.select(RewardList.id))),
            "run": db.session.scalar(sa.select(ProvisionRun.id)),
        }
    check_limitation(runner)
    check_pages(client, ids)

    # Loaded once: a second load adds no legal or executive rows.
    again = load(runner)
    assert "Demo legal work not loaded" in again
    assert "Demo targets and provisions not loaded" in again
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Lawsuit.id))) == len(ids["lawsuits"])
        targets = db.session.scalar(sa.select(sa.func.count(Target.id)))
        assert targets == 4 * (len(SALES_DEPARTMENTS) + len(TARGET_PEOPLE))
