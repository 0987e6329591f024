"""Letters to debtors (demand letters, balance confirmations, statements of account) and the
batch runs that generate and e-mail them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.activities.models import Activity, EvidenceFile
from recovery.auth.models import Department, User
from recovery.cases.models import RecoveryCase
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.jobs.models import Job
from recovery.parties.models import Contact, Counterparty

LETTER_KINDS = ("demand", "confirmation", "statement")
DEMAND_LEVELS = ("reminder", "formal", "final")
DELIVERY_METHODS = ("signed_receipt", "courier", "registered_mail", "email", "fax", "other")
SEND_STATUSES = ("sent", "failed", "no_email")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class LetterBatch(db.Model):
    """One batch run: the filter it was run with; its lines say what came of each debtor."""

    __tablename__ = "letter_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    letter_date: Mapped[date]
    # The filter: overdue more than N days, the counterparty's department (and below), level.
    overdue_more_than: Mapped[int | None]
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    level: Mapped[str | None] = mapped_column(sa.String(10))
    send_email: Mapped[bool] = mapped_column(default=False)
    # The job that generated it (a "resend failed" runs as a job of its own).
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    department: Mapped[Department | None] = relationship()
    job: Mapped[Job | None] = relationship()
    created_by: Mapped[User] = relationship()
    lines: Mapped[list[BatchLine]] = relationship(back_populates="batch", order_by="BatchLine.id")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", LETTER_KINDS), name="kind"),
        sa.CheckConstraint(f"level IS NULL OR {_in('level', DEMAND_LEVELS)}", name="level"),
    )


class Letter(db.Model):
    """A generated letter: its figures as printed, the stored PDF (an EvidenceFile with its
    SHA-256), the case it belongs to and, once recorded, how it was delivered (which makes it
    an activity that interrupts limitation)."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recovery_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    # Demand letters only: reminder → formal demand (with interest) → final demand.
    level: Mapped[str | None] = mapped_column(sa.String(10))
    letter_date: Mapped[date]
    deadline: Mapped[date | None]
    # The oldest overdue item's days past due on the letter date (0: nothing overdue).
    days_overdue: Mapped[int] = mapped_column(default=0)
    item_count: Mapped[int] = mapped_column(default=0)
    # Demand: the overdue principal; confirmation and statement: the outstanding balance.
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    # What the letter states as the total (a reminder claims no interest).
    total: Mapped[Decimal] = mapped_column(Money)
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_files.id"), unique=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("letter_batches.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Proof of delivery (for a confirmation: the signed reply came back).
    delivered_at: Mapped[datetime | None]
    delivery_method: Mapped[str | None] = mapped_column(sa.String(20))
    delivery_proof: Mapped[str | None] = mapped_column(sa.String(300))
    delivery_activity_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("activities.id"), index=True
    )
    delivery_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic locking: two people recording the delivery at once.
    version: Mapped[int] = mapped_column(default=1)

    counterparty: Mapped[Counterparty] = relationship()
    case: Mapped[RecoveryCase | None] = relationship()
    file: Mapped[EvidenceFile] = relationship()
    batch: Mapped[LetterBatch | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    delivery_activity: Mapped[Activity | None] = relationship()
    delivery_recorded_by: Mapped[User | None] = relationship(foreign_keys=[delivery_recorded_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(_in("kind", LETTER_KINDS), name="kind"),
        sa.CheckConstraint(
            f"(kind = 'demand' AND {_in('level', DEMAND_LEVELS)}) "
            "OR (kind <> 'demand' AND level IS NULL)",
            name="level",
        ),
        sa.CheckConstraint(
            f"delivery_method IS NULL OR {_in('delivery_method', DELIVERY_METHODS)}",
            name="delivery_method",
        ),
        sa.Index("ix_letters_counterparty_date", "counterparty_id", "letter_date"),
    )


class BatchLine(db.Model):
    """What a batch did for one debtor: the letter (or why none), and the e-mail: sent,
    failed (with the server's reason; "resend failed" retries only these) or no_email (the
    debtor has no active contact with an e-mail address: skipped and reported)."""

    __tablename__ = "letter_batch_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("letter_batches.id"), index=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    letter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("letters.id"), index=True)
    # Why no letter was generated (the refusal, as shown), when none was.
    refusal: Mapped[str | None] = mapped_column(sa.String(500))
    # None while no e-mail was asked for (or there is no letter to send).
    send_status: Mapped[str | None] = mapped_column(sa.String(10), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[datetime | None]
    # The 'email' activity recorded when the server accepted the message.
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id"))

    batch: Mapped[LetterBatch] = relationship(back_populates="lines")
    counterparty: Mapped[Counterparty] = relationship()
    letter: Mapped[Letter | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    activity: Mapped[Activity | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            f"send_status IS NULL OR {_in('send_status', SEND_STATUSES)}", name="send_status"
        ),
        sa.UniqueConstraint("batch_id", "counterparty_id", name="uq_letter_batch_lines_debtor"),
    )
