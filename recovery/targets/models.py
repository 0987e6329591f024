"""Recovery targets (清欠指标, 第十六条) and the reward/penalty lists (考核奖罚).

A target is one row per department or person and calendar period. It is changed in place —
every change is in the audit trail with its before and after values, and the reason given —
and never deleted. A reward list is frozen when proposed: its entries keep the figures and
the rule they were computed with, whatever happens in the ledger afterwards.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import Department, User
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.targets.periods import PERIOD_KINDS

LIST_STATUSES = ("proposed", "approved", "rejected")
RANK_BY = ("person", "department")


def percent(actual: Decimal, target: Decimal | None) -> Decimal | None:
    """actual ÷ target in percent, one decimal, half up; None when there is no target or it
    is zero (nothing to compare with)."""
    if not target:
        return None
    return (actual * 100 / target).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Target(db.Model):
    """What a department or a person is to achieve in a calendar period: an amount to
    recover and an amount by which overdue is to fall."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Exactly one of the two: a department's target or a person's.
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    period_kind: Mapped[str] = mapped_column(sa.String(8))
    period_start: Mapped[date]
    period_end: Mapped[date]
    recovery_amount: Mapped[Decimal] = mapped_column(Money)
    overdue_reduction_amount: Mapped[Decimal] = mapped_column(Money)
    # Why it was set or last changed (required for a period already over).
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic locking: a save carrying an old version is refused ("changed by X at T").
    version: Mapped[int] = mapped_column(default=1)

    department: Mapped[Department | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint(_in("period_kind", PERIOD_KINDS), name="period_kind"),
        sa.CheckConstraint(
            "(department_id IS NULL AND user_id IS NOT NULL) "
            "OR (department_id IS NOT NULL AND user_id IS NULL)",
            name="one_scope",
        ),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.CheckConstraint(
            "recovery_amount >= 0 AND overdue_reduction_amount >= 0", name="amounts_not_negative"
        ),
        # One target per department (or person) and period.
        sa.Index(
            "uq_targets_department_period",
            "department_id",
            "period_kind",
            "period_start",
            unique=True,
            sqlite_where=sa.text("department_id IS NOT NULL"),
            postgresql_where=sa.text("department_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_targets_user_period",
            "user_id",
            "period_kind",
            "period_start",
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        ),
        sa.Index("ix_targets_period", "period_start", "period_end"),
    )


class RewardList(db.Model):
    """A proposed list of rewards and penalties for a period (考核奖罚), with the rule it was
    computed with; approved or rejected by an executive other than the proposer."""

    __tablename__ = "reward_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    ranked_by: Mapped[str] = mapped_column(sa.String(12))  # person | department
    period_kind: Mapped[str] = mapped_column(sa.String(8))
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default="proposed", index=True)
    # The rule as it stood when proposed (settings rewards.*).
    bonus_unit: Mapped[Decimal] = mapped_column(Money)
    bonus_per_unit: Mapped[Decimal] = mapped_column(Money)
    threshold_percent: Mapped[Decimal] = mapped_column(sa.Numeric(9, 4))
    below_threshold_deduction: Mapped[Decimal] = mapped_column(Money)
    broken_promise_deduction: Mapped[Decimal] = mapped_column(Money)
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(default=1)

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    entries: Mapped[list[RewardEntry]] = relationship(
        back_populates="reward_list", order_by="RewardEntry.position"
    )

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        sa.CheckConstraint(_in("ranked_by", RANK_BY), name="ranked_by"),
        sa.CheckConstraint(_in("period_kind", PERIOD_KINDS), name="period_kind"),
        sa.CheckConstraint(_in("status", LIST_STATUSES), name="status"),
        sa.CheckConstraint(
            "status <> 'rejected' OR decision_note IS NOT NULL", name="rejection_note"
        ),
        # At most one list per period and kind of ranking that is not rejected.
        sa.Index(
            "uq_reward_lists_standing",
            "ranked_by",
            "period_start",
            "period_end",
            unique=True,
            sqlite_where=sa.text("status <> 'rejected'"),
            postgresql_where=sa.text("status <> 'rejected'"),
        ),
    )


class RewardEntry(db.Model):
    """One line of a reward list: the figures at proposal time and what the rule made of
    them. Names are copied so the list reads the same after a person or department is
    renamed."""

    __tablename__ = "reward_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("reward_lists.id"), index=True)
    position: Mapped[int]
    rank: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    department_name: Mapped[str | None] = mapped_column(sa.String(200))
    recovered: Mapped[Decimal] = mapped_column(Money)
    # None: no target set for the period.
    recovery_target: Mapped[Decimal | None] = mapped_column(Money)
    overdue_reduction: Mapped[Decimal] = mapped_column(Money)
    overdue_target: Mapped[Decimal | None] = mapped_column(Money)
    broken_promises: Mapped[int]
    breaches: Mapped[int]
    bonus_units: Mapped[int]
    bonus: Mapped[Decimal] = mapped_column(Money)
    threshold_deduction: Mapped[Decimal] = mapped_column(Money)
    promise_deduction: Mapped[Decimal] = mapped_column(Money)
    net: Mapped[Decimal] = mapped_column(Money)

    reward_list: Mapped[RewardList] = relationship(back_populates="entries")

    # Percentages are derived from the stored (exact) amounts, never stored themselves.
    @property
    def completion_percent(self) -> Decimal | None:
        return percent(self.recovered, self.recovery_target)

    @property
    def overdue_completion_percent(self) -> Decimal | None:
        return percent(self.overdue_reduction, self.overdue_target)

    __table_args__ = (
        sa.CheckConstraint(
            "bonus >= 0 AND threshold_deduction >= 0 AND promise_deduction >= 0",
            name="amounts_not_negative",
        ),
    )
