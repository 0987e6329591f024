"""Recovery cases, strategies with their approval chains, collateral and extension requests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import User
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.models import Receipt
from recovery.parties.models import Counterparty

CASE_STATUSES = ("open", "in_progress", "referred", "closed")
CASE_OUTCOMES = ("recovered", "written_off", "settled_in_kind")
CAUSES = ("cash_shortage", "quality_dispute", "settlement_not_agreed", "wilful_default", "other")
STRATEGY_KINDS = (
    "cash_collection",
    "secured",
    "in_kind",
    "litigation",
    "debt_transfer",
    "netting",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class RecoveryCase(db.Model):
    """A recovery case (清欠案件) for one counterparty; at most one open at a time."""

    __tablename__ = "recovery_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    # manual: opened by hand; proposed: accepted from the automatic proposals; imported.
    origin: Mapped[str] = mapped_column(sa.String(10), default="manual")
    cause: Mapped[str] = mapped_column(sa.String(24), default="other")
    cause_note: Mapped[str | None] = mapped_column(sa.String(500))
    # Why a case was opened for a counterparty with nothing overdue (required then).
    opening_reason: Mapped[str | None] = mapped_column(sa.String(500))
    target_amount: Mapped[Decimal | None] = mapped_column(Money)
    target_date: Mapped[date | None]
    plan: Mapped[str | None] = mapped_column(sa.Text)
    opened_on: Mapped[date]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The collector working the case, and the service-level clocks (DOMAIN §6).
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime | None]
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    first_action_at: Mapped[datetime | None]
    # Phone collection handed the case to a field visit at this moment (visit clock starts).
    visit_requested_at: Mapped[datetime | None]
    # Referred to legal for litigation (第二十条): when, by whom, and the note sent with it.
    referred_at: Mapped[datetime | None]
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    referral_note: Mapped[str | None] = mapped_column(sa.String(500))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closing_note: Mapped[str | None] = mapped_column(sa.String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic locking: a save carrying an old version is refused ("changed by X at T").
    version: Mapped[int] = mapped_column(default=1)

    counterparty: Mapped[Counterparty] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])
    referred_by: Mapped[User | None] = relationship(foreign_keys=[referred_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    strategies: Mapped[list[Strategy]] = relationship(back_populates="case", order_by="Strategy.id")

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', CASE_OUTCOMES)}", name="outcome"),
        sa.CheckConstraint(_in("cause", CAUSES), name="cause"),
        sa.CheckConstraint("origin IN ('manual', 'proposed', 'imported')", name="origin"),
        sa.CheckConstraint("status <> 'closed' OR outcome IS NOT NULL", name="closed_outcome"),
        # At most one case per counterparty that is not closed.
        sa.Index(
            "uq_recovery_cases_one_open",
            "counterparty_id",
            unique=True,
            sqlite_where=sa.text("status <> 'closed'"),
            postgresql_where=sa.text("status <> 'closed'"),
        ),
    )


class Strategy(db.Model):
    """The strategy chosen for a case (第十六条), with what its kind needs (DOMAIN §4 table).

    Status: draft → pending (in the approval chain, at ``step``) → approved → completed;
    or rejected; or sent back to draft. Kinds without approvals (cash collection,
    litigation — which goes to legal by referral) are approved when recorded."""

    __tablename__ = "strategies"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    # What the system proposed from the counterparty's situation, and the rule it cited.
    proposed_kind: Mapped[str | None] = mapped_column(sa.String(20))
    proposal_reason: Mapped[str | None] = mapped_column(sa.String(500))
    rationale: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(12), default="draft", index=True)
    step: Mapped[str | None] = mapped_column(sa.String(20))
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Secured arrangement: the investigation record (调查记录).
    investigation: Mapped[str | None] = mapped_column(sa.Text)
    # Settlement in kind: appraisal, preservation, title transfer registration.
    appraised_value: Mapped[Decimal | None] = mapped_column(Money)
    appraiser: Mapped[str | None] = mapped_column(sa.String(200))
    appraised_on: Mapped[date | None]
    preservation: Mapped[str | None] = mapped_column(sa.String(500))
    title_registration_no: Mapped[str | None] = mapped_column(sa.String(100))
    title_registered_on: Mapped[date | None]
    accepted_value: Mapped[Decimal | None] = mapped_column(Money)
    # Debt transfer (债权转让): to whom and for how much.
    transferee: Mapped[str | None] = mapped_column(sa.String(200))
    transfer_price: Mapped[Decimal | None] = mapped_column(Money)
    # Intra-group netting (内部抵消): the group member whose payable is set off, and the amount.
    netting_party: Mapped[str | None] = mapped_column(sa.String(200))
    netting_amount: Mapped[Decimal | None] = mapped_column(Money)
    # The receipt posted through the ledger on completion (in_kind / offset).
    receipt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipts.id"))
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[RecoveryCase] = relationship(back_populates="strategies")
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    receipt: Mapped[Receipt | None] = relationship()
    decisions: Mapped[list[ApprovalDecision]] = relationship(
        back_populates="strategy", order_by="ApprovalDecision.id"
    )
    collateral: Mapped[list[Collateral]] = relationship(
        back_populates="strategy", order_by="Collateral.id"
    )

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint(_in("kind", STRATEGY_KINDS), name="kind"),
        sa.CheckConstraint(
            "status IN ('draft', 'pending', 'approved', 'rejected', 'completed', 'cancelled')",
            name="status",
        ),
    )


class ApprovalDecision(db.Model):
    """One decision on one step of a strategy's approval chain: approve, reject (with a
    reason) or send back (with a reason). Append-only: the chain's history."""

    __tablename__ = "approval_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(sa.ForeignKey("strategies.id"), index=True)
    step: Mapped[str] = mapped_column(sa.String(20))
    decision: Mapped[str] = mapped_column(sa.String(12))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    strategy: Mapped[Strategy] = relationship(back_populates="decisions")
    decided_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "decision IN ('submitted', 'approved', 'rejected', 'sent_back')", name="decision"
        ),
    )


class Collateral(db.Model):
    """Security taken under a secured arrangement: mortgage, pledge or guarantee."""

    __tablename__ = "collateral"

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(sa.ForeignKey("strategies.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    asset: Mapped[str] = mapped_column(sa.String(300))
    value: Mapped[Decimal] = mapped_column(Money)
    registration_no: Mapped[str | None] = mapped_column(sa.String(100))
    registered_on: Mapped[date | None]
    registry_office: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)

    strategy: Mapped[Strategy] = relationship(back_populates="collateral")

    __table_args__ = (
        sa.CheckConstraint("kind IN ('mortgage', 'pledge', 'guarantee')", name="kind"),
        sa.CheckConstraint("value > 0", name="value_positive"),
    )


class ExtensionRequest(db.Model):
    """A request for more time for a field visit (DOMAIN §6): reason and next plan, decided
    by a supervisor."""

    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(sa.String(500))
    next_plan: Mapped[str] = mapped_column(sa.String(500))
    until_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))

    case: Mapped[RecoveryCase] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )
