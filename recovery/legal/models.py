"""Referrals to legal (移交法务) and lawsuits (诉讼) with their hearings, costs and recoveries.

A referral carries a recovery case to legal with a claim (principal + overdue interest as of
``claim_as_of``, one ``ReferralItem`` per item) and an evidence package; legal accepts,
returns or declines it (each step a ``ReferralDecision`` row). An accepted referral may be
filed as one ``Lawsuit``, which moves through the stages in order.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.activities.models import EvidenceFile
from recovery.auth.models import User
from recovery.cases.models import RecoveryCase
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.models import Item, Receipt
from recovery.parties.models import Counterparty

REFERRAL_STATUSES = ("draft", "submitted", "returned", "accepted", "declined")
DECISIONS = ("submitted", "returned", "accepted", "declined")
CLAIM_TYPES = ("sale_of_goods", "construction", "other")
EVIDENCE_KINDS = (
    "contract",
    "delivery",
    "invoice",
    "settlement",
    "visa",
    "statement",
    "balance_confirmation",
    "demand",
    "correspondence",
    "guarantee",
    "other",
)
# In order; a suit moves forward only (preservation and enforcement may be skipped).
STAGES = ("filed", "preservation", "hearing", "judgment", "enforcement", "closed")
JUDGMENT_KINDS = ("judgment", "mediation")
HEARING_KINDS = ("hearing", "evidence_exchange", "mediation")
COST_KINDS = ("court_fee", "preservation_fee", "lawyer_fee", "enforcement_fee", "other")
OUTCOMES = (
    "paid_in_full",
    "partly_recovered",
    "settled",
    "no_assets",
    "lost",
    "withdrawn",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Referral(db.Model):
    """A case referred to legal: the claim, the evidence package and legal's decision."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    claim_type: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(10), default="draft", index=True)
    # The claim: principal outstanding and overdue interest as of this date (frozen on submit).
    claim_as_of: Mapped[date]
    principal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    interest: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    note: Mapped[str | None] = mapped_column(sa.Text)
    # Evidence kinds legal asked for when it returned the referral (comma-separated).
    requested_kinds: Mapped[str | None] = mapped_column(sa.String(300))
    # The referral summary PDF of the last submission (stored as evidence of the case).
    summary_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_files.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.String(1000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[RecoveryCase] = relationship()
    counterparty: Mapped[Counterparty] = relationship()
    summary_file: Mapped[EvidenceFile | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    items: Mapped[list[ReferralItem]] = relationship(
        back_populates="referral", order_by="ReferralItem.id"
    )
    documents: Mapped[list[ReferralDocument]] = relationship(
        back_populates="referral", order_by="ReferralDocument.id"
    )
    decisions: Mapped[list[ReferralDecision]] = relationship(
        back_populates="referral", order_by="ReferralDecision.id"
    )

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint(_in("status", REFERRAL_STATUSES), name="status"),
        sa.CheckConstraint(_in("claim_type", CLAIM_TYPES), name="claim_type"),
        # One referral in play per case; after a decline a new one may be prepared.
        sa.Index(
            "uq_referrals_one_live",
            "case_id",
            unique=True,
            sqlite_where=sa.text("status <> 'declined'"),
            postgresql_where=sa.text("status <> 'declined'"),
        ),
    )


class ReferralItem(db.Model):
    """An item of the claim: its principal and interest as of the referral's claim date.

    ``claimed`` false: taken out of the claim before the referral was accepted (rows are
    kept, never deleted). Readers of "the items of a suit" join on claimed = true
    (``recovery.legal.queries.suit_items``)."""

    __tablename__ = "referral_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), index=True)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    claimed: Mapped[bool] = mapped_column(default=True)

    referral: Mapped[Referral] = relationship(back_populates="items")
    item: Mapped[Item] = relationship()

    __table_args__ = (sa.UniqueConstraint("referral_id", "item_id"),)


class ReferralDocument(db.Model):
    """An evidence file in the referral's package, with the kind of evidence it is.
    Withdrawn (not deleted) when taken out before the referral is sent."""

    __tablename__ = "referral_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    evidence_file_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_files.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    note: Mapped[str | None] = mapped_column(sa.String(300))
    added_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn: Mapped[bool] = mapped_column(default=False)

    referral: Mapped[Referral] = relationship(back_populates="documents")
    evidence_file: Mapped[EvidenceFile] = relationship()
    added_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("kind", EVIDENCE_KINDS), name="kind"),
        sa.UniqueConstraint("referral_id", "evidence_file_id"),
    )


class ReferralDecision(db.Model):
    """One step of a referral: submitted, returned (with what is missing), accepted or
    declined (with the reasons). Append-only: the referral's history."""

    __tablename__ = "referral_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    decision: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    missing: Mapped[str | None] = mapped_column(sa.String(300))
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    referral: Mapped[Referral] = relationship(back_populates="decisions")
    decided_by: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint(_in("decision", DECISIONS), name="decision"),)


class Lawsuit(db.Model):
    """The suit filed on an accepted referral, from filing (立案) to closing."""

    __tablename__ = "lawsuits"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), unique=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(12), default="filed", index=True)
    # Filing (立案)
    court: Mapped[str] = mapped_column(sa.String(200))
    case_number: Mapped[str] = mapped_column(sa.String(100))
    filed_on: Mapped[date] = mapped_column(index=True)
    claimed_principal: Mapped[Decimal] = mapped_column(Money)
    claimed_interest: Mapped[Decimal] = mapped_column(Money)
    # Property preservation (财产保全)
    preservation_on: Mapped[date | None]
    preservation_ruling: Mapped[str | None] = mapped_column(sa.String(100))
    preserved_assets: Mapped[str | None] = mapped_column(sa.String(500))
    preserved_amount: Mapped[Decimal | None] = mapped_column(Money)
    # Judgment or mediation (判决/调解)
    judgment_kind: Mapped[str | None] = mapped_column(sa.String(10))
    judgment_on: Mapped[date | None]
    awarded_principal: Mapped[Decimal | None] = mapped_column(Money)
    awarded_interest: Mapped[Decimal | None] = mapped_column(Money)
    awarded_costs: Mapped[Decimal | None] = mapped_column(Money)
    judgment_effective_on: Mapped[date | None]
    performance_deadline: Mapped[date | None]
    # Ordinary interest the judgment lets run on the unpaid principal until paid (annual %),
    # and from which day (the awarded interest covers the days before).
    post_judgment_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 4))
    interest_runs_from: Mapped[date | None]
    # Enforcement (执行)
    enforcement_on: Mapped[date | None]
    enforcement_court: Mapped[str | None] = mapped_column(sa.String(200))
    enforcement_case_number: Mapped[str | None] = mapped_column(sa.String(100))
    # Closing
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    closed_on: Mapped[date | None]
    closing_note: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    referral: Mapped[Referral] = relationship()
    case: Mapped[RecoveryCase] = relationship()
    counterparty: Mapped[Counterparty] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    hearings: Mapped[list[Hearing]] = relationship(
        back_populates="lawsuit", order_by=lambda: (Hearing.held_on, Hearing.id)
    )
    costs: Mapped[list[LawsuitCost]] = relationship(
        back_populates="lawsuit", order_by=lambda: (LawsuitCost.incurred_on, LawsuitCost.id)
    )
    recoveries: Mapped[list[LawsuitRecovery]] = relationship(
        back_populates="lawsuit", order_by="LawsuitRecovery.id"
    )

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint(_in("stage", STAGES), name="stage"),
        sa.CheckConstraint(
            f"judgment_kind IS NULL OR {_in('judgment_kind', JUDGMENT_KINDS)}",
            name="judgment_kind",
        ),
        sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
        sa.CheckConstraint("stage <> 'closed' OR outcome IS NOT NULL", name="closed_outcome"),
    )


class Hearing(db.Model):
    """A hearing date (开庭), held or to come; a postponed one is cancelled, not deleted."""

    __tablename__ = "lawsuit_hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    lawsuit_id: Mapped[int] = mapped_column(sa.ForeignKey("lawsuits.id"), index=True)
    held_on: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="hearing")
    note: Mapped[str | None] = mapped_column(sa.String(500))
    cancelled: Mapped[bool] = mapped_column(default=False)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lawsuit: Mapped[Lawsuit] = relationship(back_populates="hearings")
    created_by: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint(_in("kind", HEARING_KINDS), name="kind"),)


class LawsuitCost(db.Model):
    """A cost of the suit: court fee, preservation fee, lawyer's fee, enforcement fee."""

    __tablename__ = "lawsuit_costs"

    id: Mapped[int] = mapped_column(primary_key=True)
    lawsuit_id: Mapped[int] = mapped_column(sa.ForeignKey("lawsuits.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    incurred_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.String(300))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lawsuit: Mapped[Lawsuit] = relationship(back_populates="costs")
    created_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("kind", COST_KINDS), name="kind"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )


class LawsuitRecovery(db.Model):
    """Money recovered through enforcement: a ledger receipt of method ``enforcement``."""

    __tablename__ = "lawsuit_recoveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    lawsuit_id: Mapped[int] = mapped_column(sa.ForeignKey("lawsuits.id"), index=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("receipts.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lawsuit: Mapped[Lawsuit] = relationship(back_populates="recoveries")
    receipt: Mapped[Receipt] = relationship()
    created_by: Mapped[User] = relationship()
