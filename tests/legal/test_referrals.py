"""Referral to legal: the checklist per claim type, sending, and legal's review with the case
owner told on the worklist and by e-mail."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from recovery.activities import evidence
from recovery.activities.models import Activity, EvidenceFile
from recovery.cases.errors import CaseError, StaleEdit
from recovery.extensions import db
from recovery.legal import checklist, notify, queries, services, summary
from recovery.legal.models import ReferralDecision
from recovery.legal.services import LegalError

D = date


def missing_keys(referral):
    return [row.requirement.key for row in checklist.build_package(referral).missing]


def activity(world, kind, proof=None):
    record = Activity(
        counterparty_id=world.counterparty.id,
        case_id=world.case.id,
        kind=kind,
        occurred_at=datetime(2025, 5, 6, 2, 0),
        user_id=world.user_ids["sales"],
        summary=f"{kind} recorded",
        proof_of_arrival=proof,
        interrupts_limitation=bool(proof),
    )
    db.session.add(record)
    db.session.flush()
    return record


# ---------------------------------------------------------------------------------------------
# The checklist


def test_an_incomplete_package_cannot_be_sent_and_the_missing_pieces_are_named(world):
    referral = world.referral()
    # The contract requirement is met by the contract records of both items claimed.
    assert missing_keys(referral) == ["delivery", "invoice", "amount_confirmed", "demand"]
    with pytest.raises(LegalError) as refused:
        world.submit(referral)
    message = str(refused.value.message)
    assert "Delivery notes or receipts of goods" in message and "Invoices issued" in message
    assert "balance confirmation" in message and "demand for payment served" in message
    assert referral.status == "draft" and world.case.status == "open"

    world.attach(referral, "delivery")
    world.attach(referral, "invoice")
    assert missing_keys(referral) == ["amount_confirmed", "demand"]


def test_what_the_system_holds_meets_the_checklist(world):
    referral = world.referral()
    activity(world, "confirmation")
    activity(world, "demand")  # no proof of arrival: does not count
    assert "demand" in missing_keys(referral)
    activity(world, "demand", proof="EMS 1234567890 signed 2025-05-08")
    assert missing_keys(referral) == ["delivery", "invoice"]


def test_an_item_without_contract_needs_the_contract_file(world):
    world.item2.contract_id = None
    referral = world.referral(claim_type="construction")
    assert missing_keys(referral) == ["contract", "settlement", "amount_confirmed", "demand"]
    package = checklist.build_package(referral)
    assert package.items_without_contract == ["INV-2"]
    world.attach(referral, "contract")
    world.attach(referral, "settlement")  # a signed settlement confirms the amount too
    assert missing_keys(referral) == ["demand"]


def test_sending_refers_the_case_and_stores_the_summary(world):
    referral = world.complete(world.referral())
    world.submit(referral)
    assert referral.status == "submitted" and referral.submitted_by_id == world.user_ids["sales"]
    assert world.case.status == "referred" and world.case.referred_at is not None
    assert [d.decision for d in referral.decisions] == ["submitted"]

    record = summary.store_summary(referral, actor=world.user("sales"))
    assert referral.summary_file_id == record.id and record.case_id == world.case.id
    path = evidence.stored_path(record.stored_name)
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert referral.number in text and "被告有限公司" in text
    assert "INV-1" in text and "INV-2" in text
    assert f"{referral.principal:,.2f}" in text and f"{referral.interest:,.2f}" in text


def test_sending_needs_the_note_and_the_right_role(world):
    referral = world.complete(world.referral(note=""))
    with pytest.raises(LegalError, match="note"):
        world.submit(referral)
    referral.note = "Sue."
    with pytest.raises(LegalError, match="Sales or finance"):
        world.submit(referral, actor="legal")


def test_one_referral_in_play_per_case(world):
    world.referral()
    with pytest.raises(LegalError, match="already referred"):
        world.referral()


def test_a_claim_date_in_the_future_or_without_overdue_items_is_refused(world):
    with pytest.raises(LegalError, match="not come yet"):
        world.referral(as_of=world.today + timedelta(days=1))
    with pytest.raises(LegalError, match="no claim to refer"):
        world.referral(as_of=D(2025, 1, 31))


# ---------------------------------------------------------------------------------------------
# Legal's review


def sent(world):
    referral = world.complete(world.referral())
    world.submit(referral)
    return referral


def test_accept(world):
    referral = sent(world)
    world.review(referral, "accepted")
    assert referral.status == "accepted" and referral.decided_by_id == world.user_ids["legal"]
    assert [d.decision for d in referral.decisions] == ["submitted", "accepted"]
    assert world.case.status == "referred"


def test_return_names_what_is_missing_and_asks_for_it_again(world):
    referral = sent(world)
    with pytest.raises(LegalError, match="Name the evidence"):
        world.review(referral, "returned", reason="Not enough")
    world.review(referral, "returned", missing=["visa", "guarantee"], reason="Where are the visas?")
    assert referral.status == "returned" and referral.requested_kinds == "visa,guarantee"
    decision = referral.decisions[-1]
    assert (decision.decision, decision.missing) == ("returned", "visa,guarantee")
    assert missing_keys(referral) == ["requested:visa", "requested:guarantee"]
    with pytest.raises(LegalError, match="Asked for by legal"):
        world.submit(referral)
    world.attach(referral, "visa")
    world.attach(referral, "guarantee")
    world.submit(referral)
    assert referral.status == "submitted"


def test_decline_needs_reasons_and_sends_the_case_back_to_collection(world):
    referral = sent(world)
    with pytest.raises(LegalError, match="reasons"):
        world.review(referral, "declined")
    world.review(referral, "declined", reason="The debtor is insolvent: no assets to enforce.")
    assert referral.status == "declined" and world.case.status == "in_progress"
    assert referral.decision_reason.startswith("The debtor is insolvent")
    # A new referral may be prepared after a decline.
    assert world.referral().id != referral.id


def test_only_legal_reviews_and_never_its_own_referral(world):
    referral = world.complete(world.referral(actor="finlegal"))
    world.submit(referral, actor="finlegal")
    with pytest.raises(LegalError, match="Only legal"):
        world.review(referral, "accepted", actor="sales")
    with pytest.raises(LegalError, match="they sent"):
        world.review(referral, "accepted", actor="finlegal")
    world.review(referral, "accepted", actor="legal2")
    with pytest.raises(LegalError, match="waiting for legal"):
        world.review(referral, "declined", actor="legal", reason="too late")


def test_a_review_from_an_old_page_is_refused(world):
    referral = sent(world)
    shown = referral.version
    referral.note = "changed meanwhile"
    db.session.flush()
    with pytest.raises(StaleEdit, match="Changed by User sales"):
        services.review_referral(
            referral, "accepted", version=shown, reason=None, actor=world.user("legal")
        )
    assert issubclass(LegalError, CaseError)


# ---------------------------------------------------------------------------------------------
# The case owner is told


def test_decisions_show_on_the_case_owners_worklist(world):
    referral = sent(world)
    now = datetime(2025, 6, 30, 3, 0)
    assert queries.notices_for(world.user("sales"), now) == []
    world.review(referral, "returned", missing=["invoice"])
    notices = queries.notices_for(world.user("sales"), now)
    assert [(n.referral.id, n.decision.decision) for n in notices] == [(referral.id, "returned")]
    assert queries.notices_for(world.user("sales2"), now) == []
    world.attach(referral, "invoice", name="invoice-2.pdf")
    world.submit(referral)
    assert queries.notices_for(world.user("sales"), now) == []  # sent again: nothing to do
    world.review(referral, "accepted")
    (notice,) = queries.notices_for(world.user("sales"), referral.decided_at)
    assert notice.decision.decision == "accepted"
    later = referral.decided_at + timedelta(days=queries.NOTICE_DAYS + 1)
    assert queries.notices_for(world.user("sales"), later) == []


def test_no_email_when_mail_is_not_configured(world):
    referral = sent(world)
    world.review(referral, "accepted")
    assert notify.notify_decision(referral) == []


def test_the_case_owner_is_emailed_when_mail_is_configured(world, smtp):
    referral = sent(world)
    world.review(referral, "returned", missing=["invoice"], reason="The invoices are unreadable.")
    assert notify.notify_decision(referral) == ["sales@example.cn"]
    ((recipients, message),) = smtp.messages
    assert recipients == ["sales@example.cn"]
    assert referral.number in message["Subject"] and "Returned" in message["Subject"]
    body = message.get_content()
    assert "Invoices" in body and "The invoices are unreadable." in body


def test_decisions_are_rows_and_audited(world):
    from recovery.audit.models import AuditLog

    referral = sent(world)
    world.review(referral, "accepted")
    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReferralDecision)) == 2
    tables = set(db.session.scalars(sa.select(AuditLog.table_name)))
    assert {"referrals", "referral_decisions", "referral_items", "referral_documents"} <= tables
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceFile)) == 4
