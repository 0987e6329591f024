"""Referrals to legal and lawsuits: every change of the legal domain (DOMAIN §5).

Every function takes plain values and the acting user; none touches the request. A refusal
is a LegalError with a translated reason (and the field at fault). Changes go through the
ORM session, so the audit trail records them; a referral or lawsuit saved from an old page
is refused (optimistic locking, ``version``: "changed by X at T").

Referral: draft → submitted → accepted | returned (→ submitted again) | declined.
Lawsuit: filed → preservation → hearing → judgment → enforcement → closed, forward only;
preservation, hearings and enforcement may be skipped.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from recovery.activities.evidence import StagedFile, evidence_folder
from recovery.activities.models import EvidenceFile
from recovery.cases import services as case_services
from recovery.cases.errors import CaseError, check_version, flush_checked
from recovery.cases.models import RecoveryCase
from recovery.core.money import AmountError, display_amount, parse_amount
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger import services as ledger_services
from recovery.legal import checklist, claims, judgment
from recovery.legal.claims import claim_lines
from recovery.legal.labels import EVIDENCE_KIND_LABELS
from recovery.legal.models import (
    CLAIM_TYPES,
    COST_KINDS,
    EVIDENCE_KINDS,
    HEARING_KINDS,
    JUDGMENT_KINDS,
    OUTCOMES,
    STAGES,
    Hearing,
    Lawsuit,
    LawsuitCost,
    LawsuitRecovery,
    Referral,
    ReferralDecision,
    ReferralDocument,
    ReferralItem,
)
from recovery.legal.queries import lawsuits_by_stage
from recovery.parties.forms import amount_reason

__all__ = [
    "LegalError",
    "add_cost",
    "add_documents",
    "add_hearing",
    "apply_enforcement",
    "attach_evidence",
    "cancel_hearing",
    "claim_lines",
    "close_lawsuit",
    "file_lawsuit",
    "lawsuits_by_stage",
    "record_judgment",
    "record_preservation",
    "record_recovery",
    "review_referral",
    "start_referral",
    "store_file",
    "submit_referral",
    "update_referral",
    "withdraw_document",
]

# A suit must be filed within 30 days of a preservation granted before it (诉前保全,
# Civil Procedure Law art. 104), so a preservation may be dated up to 30 days before filing.
PRE_SUIT_PRESERVATION_DAYS = 30
REFERRERS = ("sales", "finance")


class LegalError(CaseError):
    """A refused change to a referral or lawsuit; ``field`` names the input at fault."""


def _text(value) -> str | None:
    return (value or "").strip() or None


def _touch(record, actor) -> None:
    record.updated_by_id = actor.id if actor is not None else None


def _check_amount(value, field: str, *, allow_zero: bool = False) -> Decimal:
    """An exact amount or a refusal naming the field (forms parse too; services do not trust
    their callers)."""
    try:
        return parse_amount(value, allow_zero=allow_zero)
    except AmountError as error:
        raise LegalError(amount_reason(error), field=field) from error


def _require_date(value, field: str) -> date:
    if not isinstance(value, date):
        raise LegalError(_l("Enter a date."), field=field)
    return value


def _not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise LegalError(_l("The date is in the future."), field=field)


# ---------------------------------------------------------------------------------------------
# Referrals: preparing and sending


def _next_number(prefix: str, model, today: date) -> str:
    last = db.session.scalar(sa.select(sa.func.max(model.id))) or 0
    return f"{prefix}-{today.year}-{last + 1:05d}"


def live_referral(case_id: int) -> Referral | None:
    """The case's referral in play (any status but declined)."""
    return db.session.scalar(
        sa.select(Referral).where(Referral.case_id == case_id, Referral.status != "declined")
    )


def _check_claim(claim_type: str, claim_as_of, today: date) -> date:
    if claim_type not in CLAIM_TYPES:
        raise LegalError(_l("Choose the type of claim."), field="claim_type")
    claim_as_of = _require_date(claim_as_of, "claim_as_of")
    if claim_as_of > today:
        raise LegalError(
            _l("The claim is computed as of a date that has not come yet."), field="claim_as_of"
        )
    return claim_as_of


def _set_claim(referral: Referral, item_ids: list[int] | None) -> None:
    """Recompute the claim as of its date; ``item_ids`` None keeps the items claimed now
    (still overdue as of the date). Rows are updated in place, never deleted."""
    candidates = claims.overdue_item_ids(referral.counterparty_id, referral.claim_as_of)
    rows = {
        row.item_id: row
        for row in db.session.scalars(
            sa.select(ReferralItem).where(ReferralItem.referral_id == referral.id)
        )
    }
    if item_ids is None:
        wanted = [i for i in candidates if i not in rows or rows[i].claimed]
    else:
        unknown = set(item_ids) - set(candidates)
        if unknown:
            raise LegalError(
                _l("Only items overdue as of the claim date can be claimed."), field="item_ids"
            )
        wanted = [i for i in candidates if i in set(item_ids)]
    if not wanted:
        raise LegalError(
            _l(
                "Nothing of %(code)s is overdue as of %(date)s: there is no claim to refer.",
                code=referral.counterparty.code,
                date=referral.claim_as_of.isoformat(),
            ),
            field="item_ids",
        )
    lines = {
        line.item_id: line
        for line in claim_lines(referral.counterparty_id, wanted, referral.claim_as_of)
    }
    for item_id, row in rows.items():
        if item_id not in lines:
            row.claimed = False
    for item_id, line in lines.items():
        row = rows.get(item_id)
        if row is None:
            row = ReferralItem(referral_id=referral.id, item_id=item_id)
            db.session.add(row)
        row.claimed = True
        row.principal = line.principal
        row.interest = line.interest
    referral.principal, referral.interest = claims.totals(list(lines.values()))


def start_referral(
    case: RecoveryCase, *, claim_type: str, claim_as_of, note: str | None, actor, today: date
) -> Referral:
    """A draft referral of the case, claiming every item overdue as of the claim date."""
    if case.status == "closed":
        raise LegalError(_l("The case is closed."))
    existing = live_referral(case.id)
    if existing is not None:
        raise LegalError(
            _l("The case is already referred: %(no)s.", no=existing.number), field="claim_type"
        )
    claim_as_of = _check_claim(claim_type, claim_as_of, today)
    referral = Referral(
        number=_next_number("LR", Referral, today),
        case_id=case.id,
        counterparty_id=case.counterparty_id,
        claim_type=claim_type,
        status="draft",
        claim_as_of=claim_as_of,
        note=_text(note),
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(referral)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise LegalError(_l("The case was referred a moment ago by somebody else.")) from error
    _set_claim(referral, None)
    db.session.flush()
    return referral


def _require_editable(referral: Referral) -> None:
    if referral.status not in ("draft", "returned"):
        raise LegalError(_l("Only a draft or a returned referral can be changed."))


def update_referral(
    referral: Referral,
    *,
    version,
    claim_type: str,
    claim_as_of,
    note: str | None,
    item_ids: list[int] | None,
    actor,
    today: date,
) -> Referral:
    """Change the claim type, the claim date, the items claimed and the note for legal."""
    _require_editable(referral)
    check_version(referral, version)
    referral.claim_as_of = _check_claim(claim_type, claim_as_of, today)
    referral.claim_type = claim_type
    referral.note = _text(note)
    _set_claim(referral, item_ids)
    _touch(referral, actor)
    flush_checked(referral)
    return referral


def _check_kind(kind: str) -> None:
    if kind not in EVIDENCE_KINDS:
        raise LegalError(_l("Choose the kind of evidence."), field="kind")


def add_documents(
    referral: Referral, files: list[StagedFile], *, kind: str, note: str | None, actor
) -> list[ReferralDocument]:
    """Files uploaded for the package (already checked and stored by
    recovery.activities.evidence.stage_files): evidence of the case, in the referral."""
    _require_editable(referral)
    _check_kind(kind)
    if not files:
        raise LegalError(_l("Choose at least one file."), field="files")
    documents = []
    for staged in files:
        record = EvidenceFile(
            counterparty_id=referral.counterparty_id,
            case_id=referral.case_id,
            original_name=staged.original_name,
            stored_name=staged.stored_name,
            content_type=staged.content_type,
            size=staged.size,
            sha256=staged.sha256,
            description=_text(note),
            uploaded_by_id=actor.id,
        )
        db.session.add(record)
        db.session.flush()
        document = ReferralDocument(
            referral_id=referral.id,
            evidence_file_id=record.id,
            kind=kind,
            note=_text(note),
            added_by_id=actor.id,
        )
        db.session.add(document)
        documents.append(document)
    _touch(referral, actor)
    db.session.flush()
    return documents


def attach_evidence(referral: Referral, evidence_file_id: int, *, kind: str, actor):
    """Put a file the system already holds for the counterparty into the package."""
    _require_editable(referral)
    _check_kind(kind)
    record = db.session.get(EvidenceFile, evidence_file_id) if evidence_file_id else None
    if record is None or record.counterparty_id != referral.counterparty_id:
        raise LegalError(_l("Choose a file of this counterparty."), field="evidence_file_id")
    document = db.session.scalar(
        sa.select(ReferralDocument).where(
            ReferralDocument.referral_id == referral.id,
            ReferralDocument.evidence_file_id == record.id,
        )
    )
    if document is not None and not document.withdrawn:
        raise LegalError(_l("This file is in the package already."), field="evidence_file_id")
    if document is None:
        document = ReferralDocument(
            referral_id=referral.id, evidence_file_id=record.id, added_by_id=actor.id
        )
        db.session.add(document)
    document.kind = kind
    document.withdrawn = False
    document.added_by_id = actor.id
    document.added_at = utcnow()
    _touch(referral, actor)
    db.session.flush()
    return document


def withdraw_document(referral: Referral, document: ReferralDocument, *, actor) -> None:
    """Take a file out of the package before it is sent (the file itself stays)."""
    _require_editable(referral)
    if document.referral_id != referral.id or document.withdrawn:
        raise LegalError(_l("This file is not in the package."))
    document.withdrawn = True
    _touch(referral, actor)
    db.session.flush()


def _decision(referral: Referral, decision: str, actor, reason=None, missing=None) -> None:
    db.session.add(
        ReferralDecision(
            referral_id=referral.id,
            decision=decision,
            reason=reason,
            missing=missing,
            decided_by_id=actor.id,
        )
    )


def submit_referral(referral: Referral, *, version, actor, today: date) -> Referral:
    """Send the referral to legal: the claim is recomputed as of its date and the evidence
    package must meet the checklist (the missing pieces are named). The case becomes
    'referred'."""
    _require_editable(referral)
    check_version(referral, version, typed=False)
    if actor is None or not actor.has_role(*REFERRERS):
        raise LegalError(_l("Sales or finance send a referral to legal."))
    if _text(referral.note) is None:
        raise LegalError(_l("Say what legal should know: the note is required."), field="note")
    _set_claim(referral, None)
    db.session.flush()
    package = checklist.build_package(referral)
    if not package.complete:
        raise LegalError(
            _l(
                "The evidence package is incomplete. Missing: %(missing)s.",
                missing="; ".join(str(row.requirement.label) for row in package.missing),
            )
        )
    now = utcnow()
    referral.status = "submitted"
    referral.submitted_at = now
    referral.submitted_by_id = actor.id
    referral.decided_at = referral.decided_by_id = referral.decision_reason = None
    _decision(referral, "submitted", actor)
    _touch(referral, actor)
    case = referral.case
    if case.status in ("open", "in_progress"):
        case_services.refer_case(case, referral.note[:500], version=case.version, actor=actor)
    flush_checked(referral)
    return referral


# ---------------------------------------------------------------------------------------------
# Referrals: legal's review


def review_referral(
    referral: Referral,
    decision: str,
    *,
    version,
    reason: str | None,
    missing_kinds: list[str] | None = None,
    actor,
) -> Referral:
    """Legal accepts, returns for more evidence (naming the kinds missing) or declines (with
    the reasons; the case goes back to collection)."""
    if actor is None or not actor.has_role("legal"):
        raise LegalError(_l("Only legal reviews referrals."))
    if referral.status != "submitted":
        raise LegalError(_l("Only a referral waiting for legal can be reviewed."))
    if referral.submitted_by_id == actor.id:
        raise LegalError(_l("Nobody reviews a referral they sent."))
    check_version(referral, version, typed=True)
    reason = _text(reason)
    missing_kinds = [k for k in (missing_kinds or []) if k]
    if any(kind not in EVIDENCE_KINDS for kind in missing_kinds):
        raise LegalError(_l("Choose the kinds of evidence from the list."), field="missing")
    if decision == "returned":
        if not missing_kinds:
            raise LegalError(_l("Name the evidence that is missing."), field="missing")
        referral.requested_kinds = ",".join(missing_kinds)
    elif decision == "declined":
        if reason is None:
            raise LegalError(_l("Give the reasons for declining."), field="reason")
    elif decision != "accepted":
        raise LegalError(_l("Accept, return or decline."))
    referral.status = decision
    referral.decided_at = utcnow()
    referral.decided_by_id = actor.id
    referral.decision_reason = reason
    _decision(referral, decision, actor, reason, ",".join(missing_kinds) if missing_kinds else None)
    _touch(referral, actor)
    if decision == "declined" and referral.case.status == "referred":
        # Legal will not sue: collection goes on.
        referral.case.status = "in_progress"
        referral.case.updated_by_id = actor.id
    flush_checked(referral)
    return referral


def missing_labels(referral: Referral) -> list[str]:
    return [str(EVIDENCE_KIND_LABELS[k]) for k in checklist.requested_kinds(referral)]


# ---------------------------------------------------------------------------------------------
# Files the legal domain writes itself (the referral summary)


def store_file(
    content: bytes, *, name: str, content_type: str, counterparty_id: int, case_id, actor
) -> EvidenceFile:
    """Store generated bytes as an evidence file (random name, SHA-256) of the case."""
    stored_name = secrets.token_hex(16)
    path = evidence_folder() / stored_name
    with open(path, "xb") as handle:
        handle.write(content)
    try:
        record = EvidenceFile(
            counterparty_id=counterparty_id,
            case_id=case_id,
            original_name=name,
            stored_name=stored_name,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by_id=actor.id,
        )
        db.session.add(record)
        db.session.flush()
    except BaseException:
        os.remove(path)
        raise
    return record


# ---------------------------------------------------------------------------------------------
# Lawsuits


def _require_legal(actor) -> None:
    if actor is None or not actor.has_role("legal"):
        raise LegalError(_l("Only legal runs lawsuits."))


def _stage_index(stage: str) -> int:
    return STAGES.index(stage)


def _advance(lawsuit: Lawsuit, stage: str) -> None:
    """Move forward to ``stage``; never back (a later event keeps the later stage)."""
    if _stage_index(stage) > _stage_index(lawsuit.stage):
        lawsuit.stage = stage


def _require_stage(lawsuit: Lawsuit, allowed: tuple[str, ...], message) -> None:
    if lawsuit.stage not in allowed:
        raise LegalError(message)


def file_lawsuit(
    referral: Referral,
    *,
    court: str,
    case_number: str,
    filed_on,
    court_fee: Decimal | None,
    actor,
    today: date,
) -> Lawsuit:
    """File the suit (立案) on an accepted referral, claiming the referral's amount."""
    _require_legal(actor)
    if referral.status != "accepted":
        raise LegalError(_l("Only an accepted referral can be filed as a suit."))
    if db.session.scalar(sa.select(Lawsuit.id).where(Lawsuit.referral_id == referral.id)):
        raise LegalError(_l("A suit is filed on this referral already."))
    court, case_number = _text(court), _text(case_number)
    if court is None:
        raise LegalError(_l("Name the court."), field="court")
    if case_number is None:
        raise LegalError(_l("Enter the court's case number."), field="case_number")
    filed_on = _require_date(filed_on, "filed_on")
    _not_future(filed_on, today, "filed_on")
    if court_fee is not None:
        court_fee = _check_amount(court_fee, "court_fee")
    lawsuit = Lawsuit(
        referral_id=referral.id,
        case_id=referral.case_id,
        counterparty_id=referral.counterparty_id,
        stage="filed",
        court=court,
        case_number=case_number,
        filed_on=filed_on,
        claimed_principal=referral.principal,
        claimed_interest=referral.interest,
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(lawsuit)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise LegalError(_l("A suit was filed on this referral a moment ago.")) from error
    if court_fee is not None:
        db.session.add(
            LawsuitCost(
                lawsuit_id=lawsuit.id,
                kind="court_fee",
                amount=court_fee,
                incurred_on=filed_on,
                note=str(_l("Paid on filing")),
                created_by_id=actor.id,
            )
        )
        db.session.flush()
    return lawsuit


def _editable_lawsuit(lawsuit: Lawsuit, version, actor, typed: bool = True) -> None:
    _require_legal(actor)
    if lawsuit.stage == "closed":
        raise LegalError(_l("The suit is closed."))
    check_version(lawsuit, version, typed=typed)


BEFORE_JUDGMENT = ("filed", "preservation", "hearing")


def record_preservation(
    lawsuit: Lawsuit,
    *,
    version,
    applied_on,
    ruling: str | None,
    assets: str | None,
    amount: Decimal | None,
    actor,
    today: date,
) -> Lawsuit:
    """Property preservation (财产保全) granted: the date, the ruling, what was frozen or
    seized, and for how much."""
    _editable_lawsuit(lawsuit, version, actor)
    _require_stage(
        lawsuit,
        BEFORE_JUDGMENT,
        _l(
            "A judgment is recorded: preservation belongs before it (seizures now are enforcement)."
        ),
    )
    applied_on = _require_date(applied_on, "applied_on")
    _not_future(applied_on, today, "applied_on")
    if applied_on < lawsuit.filed_on - timedelta(days=PRE_SUIT_PRESERVATION_DAYS):
        raise LegalError(
            _l(
                "A preservation more than %(n)s days before the filing (%(date)s) cannot belong "
                "to this suit.",
                n=PRE_SUIT_PRESERVATION_DAYS,
                date=lawsuit.filed_on.isoformat(),
            ),
            field="applied_on",
        )
    assets = _text(assets)
    if assets is None:
        raise LegalError(_l("Say what was frozen or seized."), field="assets")
    if amount is not None:
        amount = _check_amount(amount, "amount")
    lawsuit.preservation_on = applied_on
    lawsuit.preservation_ruling = _text(ruling)
    lawsuit.preserved_assets = assets
    lawsuit.preserved_amount = amount
    _advance(lawsuit, "preservation")
    _touch(lawsuit, actor)
    flush_checked(lawsuit)
    return lawsuit


def add_hearing(
    lawsuit: Lawsuit, *, version, held_on, kind: str, note: str | None, actor
) -> Hearing:
    """A hearing date, held or to come; never before the suit was filed, never after the
    judgment is recorded."""
    _editable_lawsuit(lawsuit, version, actor)
    _require_stage(
        lawsuit,
        BEFORE_JUDGMENT,
        _l("A judgment is recorded: hearings come before it."),
    )
    held_on = _require_date(held_on, "held_on")
    if held_on < lawsuit.filed_on:
        raise LegalError(
            _l(
                "A hearing cannot be before the suit was filed (%(date)s).",
                date=lawsuit.filed_on.isoformat(),
            ),
            field="held_on",
        )
    if kind not in HEARING_KINDS:
        raise LegalError(_l("Choose the kind of hearing."), field="kind")
    hearing = Hearing(
        lawsuit_id=lawsuit.id, held_on=held_on, kind=kind, note=_text(note), created_by_id=actor.id
    )
    db.session.add(hearing)
    _advance(lawsuit, "hearing")
    _touch(lawsuit, actor)
    flush_checked(lawsuit)
    return hearing


def cancel_hearing(hearing: Hearing, *, version, reason: str | None, actor) -> Hearing:
    """A hearing postponed or called off: kept, marked, with the reason."""
    lawsuit = hearing.lawsuit
    _editable_lawsuit(lawsuit, version, actor, typed=False)
    if hearing.cancelled:
        raise LegalError(_l("This hearing is cancelled already."))
    reason = _text(reason)
    if reason is None:
        raise LegalError(_l("Give the reason."), field="reason")
    hearing.cancelled = True
    hearing.cancel_reason = reason
    _touch(lawsuit, actor)
    flush_checked(lawsuit)
    return hearing


def record_judgment(
    lawsuit: Lawsuit,
    *,
    version,
    kind: str,
    judgment_on,
    awarded_principal,
    awarded_interest,
    awarded_costs,
    effective_on,
    performance_deadline,
    post_judgment_rate: Decimal | None = None,
    interest_runs_from: date | None = None,
    actor,
    today: date,
) -> Lawsuit:
    """The judgment or mediation agreement: amounts awarded, the date it takes effect and the
    performance deadline (履行期限). May be corrected until enforcement is applied for."""
    _editable_lawsuit(lawsuit, version, actor)
    _require_stage(
        lawsuit,
        (*BEFORE_JUDGMENT, "judgment"),
        _l("Enforcement has started: the judgment can no longer be changed here."),
    )
    if kind not in JUDGMENT_KINDS:
        raise LegalError(_l("Choose judgment or mediation."), field="kind")
    principal = _check_amount(awarded_principal, "awarded_principal", allow_zero=True)
    interest = _check_amount(awarded_interest, "awarded_interest", allow_zero=True)
    costs = _check_amount(awarded_costs, "awarded_costs", allow_zero=True)
    judgment_on = _require_date(judgment_on, "judgment_on")
    _not_future(judgment_on, today, "judgment_on")
    if judgment_on < lawsuit.filed_on:
        raise LegalError(
            _l(
                "The judgment cannot be before the suit was filed (%(date)s).",
                date=lawsuit.filed_on.isoformat(),
            ),
            field="judgment_on",
        )
    later = db.session.scalar(
        sa.select(sa.func.max(Hearing.held_on)).where(
            Hearing.lawsuit_id == lawsuit.id, Hearing.cancelled.is_(False)
        )
    )
    if later is not None and later > judgment_on:
        raise LegalError(
            _l(
                "A hearing is recorded on %(date)s, after this judgment: cancel it first.",
                date=later.isoformat(),
            ),
            field="judgment_on",
        )
    effective_on = _require_date(effective_on, "effective_on")
    if effective_on < judgment_on:
        raise LegalError(
            _l("A judgment takes effect on or after the day it is given."), field="effective_on"
        )
    performance_deadline = _require_date(performance_deadline, "performance_deadline")
    if performance_deadline < effective_on:
        raise LegalError(
            _l("The performance deadline cannot be before the judgment takes effect."),
            field="performance_deadline",
        )
    if post_judgment_rate is not None and not (0 <= post_judgment_rate <= 100):
        raise LegalError(_l("The rate must be between 0 and 100 %."), field="post_judgment_rate")
    if post_judgment_rate and interest_runs_from is None:
        # The awarded interest runs to the claim date; the judgment's rate runs on from there.
        interest_runs_from = lawsuit.referral.claim_as_of + timedelta(days=1)
    lawsuit.judgment_kind = kind
    lawsuit.judgment_on = judgment_on
    lawsuit.awarded_principal = principal
    lawsuit.awarded_interest = interest
    lawsuit.awarded_costs = costs
    lawsuit.judgment_effective_on = effective_on
    lawsuit.performance_deadline = performance_deadline
    lawsuit.post_judgment_rate = post_judgment_rate or None
    lawsuit.interest_runs_from = interest_runs_from if post_judgment_rate else None
    _advance(lawsuit, "judgment")
    _touch(lawsuit, actor)
    flush_checked(lawsuit)
    return lawsuit


# Application for enforcement must be made within two years of the last day of the
# performance period (Civil Procedure Law art. 250): shown as a deadline.
ENFORCEMENT_APPLICATION_YEARS = 2


def enforcement_deadline(performance_deadline: date | None) -> date | None:
    if performance_deadline is None:
        return None
    try:
        return performance_deadline.replace(
            year=performance_deadline.year + ENFORCEMENT_APPLICATION_YEARS
        )
    except ValueError:  # 29 February
        return performance_deadline.replace(
            year=performance_deadline.year + ENFORCEMENT_APPLICATION_YEARS, day=28
        )


def apply_enforcement(
    lawsuit: Lawsuit,
    *,
    version,
    applied_on,
    court: str | None,
    case_number: str | None,
    actor,
    today: date,
) -> Lawsuit:
    """Apply for enforcement (申请执行) once the performance deadline has passed unmet."""
    _editable_lawsuit(lawsuit, version, actor)
    _require_stage(
        lawsuit,
        ("judgment", "enforcement"),
        _l("Enforcement needs a judgment or mediation agreement first."),
    )
    applied_on = _require_date(applied_on, "applied_on")
    _not_future(applied_on, today, "applied_on")
    if applied_on <= lawsuit.performance_deadline:
        raise LegalError(
            _l(
                "The debtor has until %(date)s to perform: enforcement can be applied for from "
                "the next day.",
                date=lawsuit.performance_deadline.isoformat(),
            ),
            field="applied_on",
        )
    case_number = _text(case_number)
    if case_number is None:
        raise LegalError(_l("Enter the enforcement case number."), field="case_number")
    lawsuit.enforcement_on = applied_on
    lawsuit.enforcement_court = _text(court) or lawsuit.court
    lawsuit.enforcement_case_number = case_number
    _advance(lawsuit, "enforcement")
    _touch(lawsuit, actor)
    flush_checked(lawsuit)
    return lawsuit


def record_recovery(
    lawsuit: Lawsuit,
    *,
    version,
    receipt_no: str,
    amount,
    received_on,
    reference: str | None,
    actor,
    today: date,
) -> LawsuitRecovery:
    """Money recovered through enforcement: a ledger receipt of method ``enforcement`` (so
    allocation runs and the balance drops), linked to the suit."""
    _editable_lawsuit(lawsuit, version, actor)
    _require_stage(
        lawsuit, ("enforcement",), _l("Record recoveries once enforcement is applied for.")
    )
    amount = _check_amount(amount, "amount")
    received_on = _require_date(received_on, "received_on")
    _not_future(received_on, today, "received_on")
    if received_on < lawsuit.judgment_on:
        raise LegalError(
            _l(
                "Money recovered through enforcement cannot be dated before the judgment "
                "(%(date)s).",
                date=lawsuit.judgment_on.isoformat(),
            ),
            field="received_on",
        )
    receipt_no = _text(receipt_no)
    if receipt_no is None:
        raise LegalError(_l("Enter the receipt number."), field="receipt_no")
    due = judgment.position(lawsuit, received_on)
    if due is not None and amount > due.total_due:
        raise LegalError(
            _l(
                "More than the judgment debt still due on that day (%(amount)s).",
                amount=display_amount(due.total_due),
            ),
            field="amount",
        )
    reference = _text(reference) or f"{lawsuit.enforcement_court} {lawsuit.enforcement_case_number}"
    try:
        receipt = ledger_services.create_receipt(
            counterparty_id=lawsuit.counterparty_id,
            receipt_no=receipt_no,
            amount=amount,
            received_on=received_on,
            method="enforcement",
            reference=reference[:200],
            item_id=None,
        )
    except ledger_services.LedgerError as error:
        raise LegalError(error.message, field=error.field or "receipt_no") from error
    recovery = LawsuitRecovery(lawsuit_id=lawsuit.id, receipt_id=receipt.id, created_by_id=actor.id)
    db.session.add(recovery)
    _touch(lawsuit, actor)
    flush_checked(lawsuit)
    return recovery


def add_cost(
    lawsuit: Lawsuit, *, kind: str, amount, incurred_on, note: str | None, actor, today: date
) -> LawsuitCost:
    """A cost of the suit (also after it is closed: a lawyer's last invoice)."""
    _require_legal(actor)
    if kind not in COST_KINDS:
        raise LegalError(_l("Choose the kind of cost."), field="kind")
    amount = _check_amount(amount, "amount")
    incurred_on = _require_date(incurred_on, "incurred_on")
    _not_future(incurred_on, today, "incurred_on")
    cost = LawsuitCost(
        lawsuit_id=lawsuit.id,
        kind=kind,
        amount=amount,
        incurred_on=incurred_on,
        note=_text(note),
        created_by_id=actor.id,
    )
    db.session.add(cost)
    db.session.flush()
    return cost


NEEDS_JUDGMENT = ("paid_in_full", "partly_recovered", "no_assets", "lost")


def close_lawsuit(
    lawsuit: Lawsuit,
    *,
    version,
    outcome: str,
    closed_on,
    note: str | None,
    actor,
    today: date,
) -> Lawsuit:
    """Close the suit with its outcome; the case itself is closed by its owner."""
    _editable_lawsuit(lawsuit, version, actor)
    if outcome not in OUTCOMES:
        raise LegalError(_l("Choose the outcome."), field="outcome")
    if outcome in NEEDS_JUDGMENT and lawsuit.judgment_on is None:
        raise LegalError(_l("This outcome needs the judgment recorded first."), field="outcome")
    closed_on = _require_date(closed_on, "closed_on")
    _not_future(closed_on, today, "closed_on")
    if closed_on < lawsuit.filed_on:
        raise LegalError(
            _l(
                "A suit cannot close before it was filed (%(date)s).",
                date=lawsuit.filed_on.isoformat(),
            ),
            field="closed_on",
        )
    note = _text(note)
    if outcome != "paid_in_full" and note is None:
        raise LegalError(_l("Say how the suit ended."), field="note")
    lawsuit.outcome = outcome
    lawsuit.closed_on = closed_on
    lawsuit.closing_note = note
    lawsuit.stage = "closed"
    _touch(lawsuit, actor)
    flush_checked(lawsuit)
    return lawsuit
