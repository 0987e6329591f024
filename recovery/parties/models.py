"""Counterparties, contacts, projects and contracts (DOMAIN §2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import Department, User
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db


class Counterparty(db.Model):
    """A debtor or customer (债务人/客户)."""

    __tablename__ = "counterparties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="customer")
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    financial_status: Mapped[str] = mapped_column(sa.String(10), default="good")
    business_status: Mapped[str] = mapped_column(sa.String(10), default="normal")
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The leader who also answers for large, long-aged or difficult debts (第十条).
    leader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Retention (篇三): a counterparty is closed and archived, never deleted in normal use;
    # `flask retention purge` removes it five years after its agreement ended (docs/retention.md).
    closed_on: Mapped[date | None]
    archived_at: Mapped[datetime | None] = mapped_column(index=True)
    archived_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    archive_reason: Mapped[str | None] = mapped_column(sa.String(500))

    department: Mapped[Department | None] = relationship()
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="counterparty", order_by="Contact.id"
    )

    __table_args__ = (
        sa.CheckConstraint("kind IN ('dealer', 'customer', 'employer', 'other')", name="kind"),
        sa.CheckConstraint("financial_status IN ('good', 'poor')", name="financial_status"),
        sa.CheckConstraint("business_status IN ('normal', 'poor')", name="business_status"),
    )


class Contact(db.Model):
    """A person the debtor named as a contact (only they may be contacted about the debt)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    is_primary: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    counterparty: Mapped[Counterparty] = relationship(back_populates="contacts")


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    employer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    prospects: Mapped[str] = mapped_column(sa.String(10), default="good")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    employer: Mapped[Counterparty | None] = relationship()
    department: Mapped[Department | None] = relationship()

    __table_args__ = (sa.CheckConstraint("prospects IN ('good', 'poor')", name="prospects"),)


class Contract(db.Model):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    signed_on: Mapped[date | None]
    amount: Mapped[Decimal | None] = mapped_column(Money)
    # The agreed overdue rate, in percent: per year (basis "annual") or per day ("daily").
    overdue_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 4))
    rate_basis: Mapped[str] = mapped_column(sa.String(10), default="annual")
    reviewed: Mapped[bool] = mapped_column(default=True)
    signer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # 同一债务分期履行: its items are installments of one debt, so limitation runs for all of
    # them from the due date of the last installment (Civil Code art. 189).
    installments: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    counterparty: Mapped[Counterparty] = relationship()
    project: Mapped[Project | None] = relationship()
    signer: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("rate_basis IN ('annual', 'daily')", name="rate_basis"),)


class RetentionPurge(db.Model):
    """One run of `flask retention purge` that removed something: when, by whom, as of which
    day, and what (the counterparties and the rows of each table; the rows' own deletions
    are in the audit trail too)."""

    __tablename__ = "retention_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date]
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_by: Mapped[str] = mapped_column(sa.String(100))
    counterparties: Mapped[int] = mapped_column(default=0)
    rows: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str] = mapped_column(sa.Text)  # JSON: codes removed, rows per table
