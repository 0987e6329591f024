"""Receivable items, receipts, credit notes / write-offs, and the stored allocation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import Department, User
from recovery.core.money import Money
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.parties.models import Contract, Counterparty, Project


class Item(db.Model):
    """One amount owed (应收款项).

    On PostgreSQL the table is vacuumed after every 500 updated rows (migration 0021), so
    that the index-only scans of open items stay index-only under steady receipts."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_no: Mapped[str] = mapped_column(sa.String(64), unique=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"))
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    item_type: Mapped[str] = mapped_column(sa.String(30))
    category: Mapped[str] = mapped_column(sa.String(30))
    amount: Mapped[Decimal] = mapped_column(Money)
    recognized_on: Mapped[date]
    due_on: Mapped[date] = mapped_column(index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Annual percent agreed for this item; else the contract's rate; else the default setting.
    overdue_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 4))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    # Derived by allocation (not edited): what is still open after every application and
    # approved adjustment, and the date of the last of them (for fast "as of today").
    open_amount: Mapped[Decimal] = mapped_column(Money)
    last_movement_on: Mapped[date | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    counterparty: Mapped[Counterparty] = relationship()
    project: Mapped[Project | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    department: Mapped[Department | None] = relationship()
    responsible: Mapped[User | None] = relationship()

    __table_args__ = (
        # Covering index: a counterparty's statement and the aging scan read only this.
        sa.Index(
            "ix_items_counterparty_dates",
            "counterparty_id",
            "recognized_on",
            "due_on",
            "amount",
        ),
        # The open items in due-date order (migration 0015): the overdue list's pages (due
        # date, then id) and the limitation count's range "due by the cut-off day" read only
        # this, not the whole partial index of open items or the table.
        sa.Index(
            "ix_items_open_due",
            "due_on",
            "id",
            "recognized_on",
            "last_movement_on",
            "counterparty_id",
            "department_id",
            "open_amount",
            sqlite_where=sa.text("open_amount <> 0"),
            postgresql_where=sa.text("open_amount <> 0"),
        ),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )


class Receipt(db.Model):
    """Money received (回款), optionally naming the item it pays."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(sa.String(64), unique=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date]
    method: Mapped[str] = mapped_column(sa.String(20), default="transfer")
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"), index=True)
    # Derived by allocation (not edited, not audited): the amount less its applications, so
    # the unapplied credit as of today is one read of ix_receipts_unapplied (migration 0016).
    unapplied_amount: Mapped[Decimal] = mapped_column(
        Money, default=Decimal("0"), server_default="0"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    counterparty: Mapped[Counterparty] = relationship()
    item: Mapped[Item | None] = relationship()

    __audit_ignore__ = ("unapplied_amount",)

    __table_args__ = (
        sa.Index("ix_receipts_counterparty_date", "counterparty_id", "received_on", "amount"),
        # The receipts with money not applied yet: a counterparty's (or everyone's) unapplied
        # credit as of today without reading the 800,000 receipts and their applications.
        sa.Index(
            "ix_receipts_unapplied",
            "counterparty_id",
            "received_on",
            "unapplied_amount",
            sqlite_where=sa.text("unapplied_amount <> 0"),
            postgresql_where=sa.text("unapplied_amount <> 0"),
        ),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(
            "method IN ('transfer', 'acceptance_bill', 'offset', 'in_kind', 'enforcement')",
            name="method",
        ),
    )


class Adjustment(db.Model):
    """A credit note or write-off (核销) against one item: a document of its own, approved."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    dated_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(10), default="proposed")
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        sa.CheckConstraint("kind IN ('credit_note', 'write_off')", name="kind"),
        sa.CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )


class Application(db.Model):
    """Part of a receipt applied to an item on a date. Derived by allocation from the
    documents (never edited by hand), so it is not audited: the documents are."""

    __tablename__ = "applications"
    __audit__ = False

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("receipts.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    applied_on: Mapped[date]

    __table_args__ = (sa.Index("ix_applications_item_date", "item_id", "applied_on", "amount"),)


class OverdueFigures(db.Model):
    """One counterparty's overdue figures as of ``evaluated_on``, kept in step by every ledger
    write (recovery/ledger/overdue.py): the worklist ranks by them without summing the open
    items of every account on each request.

    They hold unchanged from ``evaluated_on`` until ``valid_until`` (exclusive; None: until a
    document changes them): only a document or an item falling due can change which items
    are overdue, and the amount × days grows by the overdue amount each day. Derived from
    the audited documents, so not audited itself."""

    __tablename__ = "overdue_figures"
    __audit__ = False

    counterparty_id: Mapped[int] = mapped_column(
        sa.ForeignKey("counterparties.id"), primary_key=True
    )
    evaluated_on: Mapped[date]
    valid_until: Mapped[date | None] = mapped_column(index=True)
    # Integer fen: the outstanding of the overdue items, and Σ outstanding × days past due
    # as of evaluated_on.
    overdue_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fen_days: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    oldest_due_on: Mapped[date | None]
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpenItemSums(db.Model):
    """The open items' count, amount and open amount summed per department and per day — due
    date (basis "due") or recognition date (basis "age") —, so that the company-wide aging
    and the ledger's bucket totals read a few thousand rows instead of every open item
    (recovery/ledger/open_sums.py; docs/ledger.md, "Kept open-item sums").

    Kept by triggers on ``items`` (migration 0022), in the transaction of every change to an
    item, whatever writes it: each change adds rows (minus the item as it was, plus the item as
    it is), so concurrent writers only insert and never wait for each other; the rows of a
    (basis, department, day) add up to its sums. Compacting (``compacted``) replaces them by one
    row per key. Derived from the audited items, so not audited itself."""

    __tablename__ = "open_item_sums"
    __audit__ = False

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    basis: Mapped[str] = mapped_column(sa.String(3))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    day: Mapped[date]
    items: Mapped[int] = mapped_column(sa.Integer)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    open_fen: Mapped[int] = mapped_column(sa.BigInteger)
    # True for the rows compacting wrote (one per key), false for the triggers' changes.
    compacted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    __table_args__ = (
        # The days after a date (an item recognised later) and the days before it (overdue).
        sa.Index("ix_open_item_sums_basis_day", "basis", "day"),
        sa.CheckConstraint("basis IN ('due', 'age')", name="basis"),
    )
