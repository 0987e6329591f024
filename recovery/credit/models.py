"""Credit control (停止供货, 第二十五、二十六条): groups sharing a limit, the stored hold status
of every counterparty, and exceptions a leader approves (docs/credit.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import User
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.parties.models import Counterparty


class CreditGroup(db.Model):
    """Related counterparties (a parent company and its subsidiaries) sharing one limit."""

    __tablename__ = "credit_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The limit on the members' total exposure; None: no group limit.
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[CreditGroupMember]] = relationship(
        back_populates="group", order_by="CreditGroupMember.id"
    )


class CreditGroupMember(db.Model):
    """A counterparty's membership of a group. Leaving a group ends the row (``left_at``);
    nothing is deleted. A counterparty is in at most one group at a time."""

    __tablename__ = "credit_group_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_groups.id"), index=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    is_parent: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    group: Mapped[CreditGroup] = relationship(back_populates="members")
    counterparty: Mapped[Counterparty] = relationship()

    __table_args__ = (
        sa.Index(
            "uq_credit_group_members_one_group",
            "counterparty_id",
            unique=True,
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        ),
    )


class CreditStatus(db.Model):
    """The current hold status of one counterparty, kept in step by every change
    (recovery/credit/listeners.py): the holds page and the counterparty panel read only this.

    Derived from audited documents and settings, so not audited itself."""

    __tablename__ = "credit_status"
    __audit__ = False

    counterparty_id: Mapped[int] = mapped_column(
        sa.ForeignKey("counterparties.id"), primary_key=True
    )
    on_hold: Mapped[bool] = mapped_column(default=False, index=True)
    # The rules that tripped, as ",code,code," (filterable with LIKE on both databases).
    rules: Mapped[str] = mapped_column(sa.String(200), default="")
    # [{"rule": code, "value": ..., "limit": ..., ...}] — figures shown with each reason.
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    exposure: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    overdue: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    days_overdue: Mapped[int] = mapped_column(default=0)
    # On hold since (None while not on hold).
    since: Mapped[datetime | None]
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    evaluated_on: Mapped[date]
    # The first day the status may change by the calendar alone (an item passing the overdue
    # threshold, a broken promise leaving the window): re-evaluated from then on.
    stale_on: Mapped[date | None] = mapped_column(index=True)

    counterparty: Mapped[Counterparty] = relationship()


EXCEPTION_STATUSES = ("requested", "approved", "refused", "revoked")


class CreditException(db.Model):
    """Supply allowed despite a hold: requested with a reason, an amount cap and an expiry;
    approved or refused by a leader (never the requester); revoked, never deleted."""

    __tablename__ = "credit_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    amount_cap: Mapped[Decimal] = mapped_column(Money)
    valid_until: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(1000))
    status: Mapped[str] = mapped_column(sa.String(10), default="requested", index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    # The company date of the approval: supply recognised from then on uses the cap.
    approved_on: Mapped[date | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(1000))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(1000))

    counterparty: Mapped[Counterparty] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    __table_args__ = (
        sa.CheckConstraint("amount_cap > 0", name="amount_cap_positive"),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'refused', 'revoked')", name="status"
        ),
    )


def _install_listeners() -> None:
    # Imported here: the listeners need the models above (as recovery.responsibility does).
    from recovery.credit import listeners

    listeners.install()


_install_listeners()
