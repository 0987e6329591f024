"""Specific (individual) provisions per counterparty, and provision runs: the matrix as of a
date kept per counterparty and department, frozen when a period is closed (docs/provisions.md).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import Department, User
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.parties.models import Counterparty

SPECIFIC_METHODS = ("rate", "amount", "matrix")
SPECIFIC_STATUSES = ("proposed", "approved", "rejected", "withdrawn")
RUN_STATUSES = ("draft", "closed", "superseded")


class SpecificProvision(db.Model):
    """An individual assessment of one counterparty (单项计提) that overrides the matrix from
    ``effective_from`` on: a rate of its outstanding, a fixed amount (at most the outstanding),
    or "matrix" — back to the matrix. Proposed by finance, approved by somebody else."""

    __tablename__ = "specific_provisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    method: Mapped[str] = mapped_column(sa.String(10))
    rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 4))  # percent of outstanding
    amount: Mapped[Decimal | None] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(sa.String(500))
    effective_from: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default="proposed", index=True)
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic locking: two approvers deciding at once — the second is refused.
    version: Mapped[int] = mapped_column(default=1)

    counterparty: Mapped[Counterparty] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint("method IN ('rate', 'amount', 'matrix')", name="method"),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected', 'withdrawn')", name="status"
        ),
        sa.CheckConstraint(
            "method <> 'rate' OR (rate IS NOT NULL AND rate >= 0 AND rate <= 100)",
            name="rate_range",
        ),
        sa.CheckConstraint(
            "method <> 'amount' OR (amount IS NOT NULL AND amount > 0)", name="amount_positive"
        ),
    )


class ProvisionRun(db.Model):
    """The provision matrix as of a date, kept with its lines. A draft is replaced by a newer
    run of the same date (it becomes superseded); closing the period freezes it, and it is
    then the opening balance of the next period."""

    __tablename__ = "provision_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    rates: Mapped[str] = mapped_column(sa.String(100))  # the matrix rates used, "5,10,15,…"
    outstanding: Mapped[Decimal] = mapped_column(Money)
    matrix_provision: Mapped[Decimal] = mapped_column(Money)  # lines under the matrix
    specific_provision: Mapped[Decimal] = mapped_column(Money)  # lines individually assessed
    total_provision: Mapped[Decimal] = mapped_column(Money)
    line_count: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'closed', 'superseded')", name="status"),
        sa.CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL", name="closed_at"),
        # One closed run per date: a period is closed once.
        sa.Index(
            "uq_provision_runs_closed_as_of",
            "as_of",
            unique=True,
            sqlite_where=sa.text("status = 'closed'"),
            postgresql_where=sa.text("status = 'closed'"),
        ),
    )


class ProvisionRunLine(db.Model):
    """One counterparty within one owning department in a run. Derived from the ledger and
    written with the run (which is audited, with its totals), so it is not audited itself."""

    __tablename__ = "provision_run_lines"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("provision_runs.id"))
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    outstanding: Mapped[Decimal] = mapped_column(Money)
    y0_1: Mapped[Decimal] = mapped_column(Money)
    y1_2: Mapped[Decimal] = mapped_column(Money)
    y2_3: Mapped[Decimal] = mapped_column(Money)
    y3_4: Mapped[Decimal] = mapped_column(Money)
    y4_5: Mapped[Decimal] = mapped_column(Money)
    y5_plus: Mapped[Decimal] = mapped_column(Money)
    matrix_provision: Mapped[Decimal] = mapped_column(Money)
    specific_id: Mapped[int | None] = mapped_column(sa.ForeignKey("specific_provisions.id"))
    specific_provision: Mapped[Decimal | None] = mapped_column(Money)
    total_provision: Mapped[Decimal] = mapped_column(Money)

    counterparty: Mapped[Counterparty] = relationship()
    department: Mapped[Department | None] = relationship()

    __table_args__ = (
        sa.Index("ix_provision_run_lines_run", "run_id", "counterparty_id", "department_id"),
    )
