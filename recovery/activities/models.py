"""Activities with their evidence, promises to pay (承诺还款) and disputes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import User
from recovery.cases.models import RecoveryCase, Strategy
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.models import Adjustment, Item
from recovery.parties.models import Contact, Counterparty

ACTIVITY_KINDS = (
    "call",
    "visit",
    "letter",
    "email",
    "message",
    "meeting",
    "demand",
    "confirmation",
)
DISPUTE_REASONS = ("quality", "quantity", "price", "settlement_not_agreed", "other")


class Activity(db.Model):
    """One collection activity: who did what, with whom, when, and what came of it."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(14))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Only the debtor's own named contacts may be reached (DOMAIN §7).
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    # A call that reached someone counts against the daily limit; one that did not, does not.
    connected: Mapped[bool] = mapped_column(default=True)
    summary: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.String(500))
    next_step: Mapped[str | None] = mapped_column(sa.String(500))
    next_step_on: Mapped[date | None] = mapped_column(index=True)
    # Limitation (DOMAIN §3): a demand interrupts only with proof that it arrived.
    interrupts_limitation: Mapped[bool] = mapped_column(default=False)
    proof_of_arrival: Mapped[str | None] = mapped_column(sa.String(300))
    # Conduct guard: the rule broken and why the user went ahead anyway.
    conduct_warning: Mapped[str | None] = mapped_column(sa.String(300))
    conduct_override_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Visits wait for a supervisor's review: not_required | pending | approved | returned.
    review_status: Mapped[str] = mapped_column(sa.String(12), default="not_required", index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    counterparty: Mapped[Counterparty] = relationship()
    case: Mapped[RecoveryCase | None] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    contact: Mapped[Contact | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="activity", order_by="EvidenceFile.id"
    )

    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({', '.join(repr(k) for k in ACTIVITY_KINDS)})", name="kind"),
        sa.CheckConstraint(
            "review_status IN ('not_required', 'pending', 'approved', 'returned')",
            name="review_status",
        ),
        sa.Index("ix_activities_counterparty_time", "counterparty_id", "occurred_at"),
        # The interruptions of limitation by counterparty and time (a small part of the
        # activities): the limitation sign's "none since that day" and latest-of-each-kind.
        sa.Index(
            "ix_activities_interrupting",
            "counterparty_id",
            "occurred_at",
            sqlite_where=sa.text("interrupts_limitation IS 1"),
            postgresql_where=sa.text("interrupts_limitation IS TRUE"),
        ),
        # The next steps by counterparty: the worklist's "next step due" per account.
        sa.Index(
            "ix_activities_counterparty_next_step",
            "counterparty_id",
            "next_step_on",
            sqlite_where=sa.text("next_step_on IS NOT NULL"),
            postgresql_where=sa.text("next_step_on IS NOT NULL"),
        ),
    )


class EvidenceFile(db.Model):
    """An uploaded file kept as evidence, stored under a generated name with its SHA-256.

    It belongs to an activity, a case or a strategy; only those who may see that case (or
    counterparty) may download it."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    strategy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("strategies.id"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    description: Mapped[str | None] = mapped_column(sa.String(300))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    counterparty: Mapped[Counterparty] = relationship()
    activity: Mapped[Activity | None] = relationship(back_populates="files")
    case: Mapped[RecoveryCase | None] = relationship()
    strategy: Mapped[Strategy | None] = relationship()
    uploaded_by: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("size > 0", name="size_positive"),)


class Promise(db.Model):
    """A promise to pay (承诺还款): amount by a date. Kept or broken is computed from the
    receipts (never typed in): kept when the counterparty's receipts dated from
    ``promised_on`` to ``due_on`` cover the amount; broken when ``due_on`` has passed
    without that. A promise is the debtor's acknowledgement: it interrupts limitation."""

    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    promised_on: Mapped[date]
    due_on: Mapped[date] = mapped_column(index=True)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Withdrawn by mistake-correction only (audited); never deleted.
    cancelled: Mapped[bool] = mapped_column(default=False)
    # Why it was withdrawn (required when cancelling); who and when are in the audit trail.
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))

    counterparty: Mapped[Counterparty] = relationship()
    case: Mapped[RecoveryCase | None] = relationship()
    activity: Mapped[Activity | None] = relationship()
    recorded_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("due_on >= promised_on", name="due_after_promise"),
    )


class Dispute(db.Model):
    """An item, or part of it, in dispute. Accepted → a credit note (through the ledger's
    approval); rejected → collection continues."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), index=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(sa.String(24))
    description: Mapped[str] = mapped_column(sa.String(1000))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    deadline: Mapped[date]
    raised_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default="open", index=True)
    resolution_note: Mapped[str | None] = mapped_column(sa.String(1000))
    resolved_on: Mapped[date | None]
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    adjustment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("adjustments.id"))
    opened_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
    counterparty: Mapped[Counterparty] = relationship()
    case: Mapped[RecoveryCase | None] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    adjustment: Mapped[Adjustment | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            f"reason IN ({', '.join(repr(r) for r in DISPUTE_REASONS)})", name="reason"
        ),
        sa.CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )
