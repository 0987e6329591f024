"""Month-end snapshots of the ledger for the dashboard, and the indexes its live figures need.

A snapshot row holds, for one month-end and one owning department (NULL: none), the figures
of docs/kpis.md that are slow to compute live at a million items: receivables and overdue as
of the month-end, and the month's flows (sales recognised, money applied, approved credits —
by the item's department; money received — by the counterparty's department, as receipts
belong to counterparties). The ledger's own writes keep the rows in step
(recovery/dashboard/snapshots.py); tests/dashboard/test_snapshots.py proves snapshot = live.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recovery.core.money import Money
from recovery.extensions import db
from recovery.ledger.models import Application, Item, Receipt


class MonthSnapshot(db.Model):
    """One month-end, one department: balances as of the month-end and the month's flows."""

    __tablename__ = "kpi_month_snapshots"
    # Derived from the audited documents (like the applications), so not audited itself.
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    month_end: Mapped[date] = mapped_column(index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    receivables: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    overdue: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    sales: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    applied: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    credited: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    received: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    __table_args__ = (sa.UniqueConstraint("month_end", "department_id"),)


class KeptView(db.Model):
    """One computed view of the dashboard, kept for every worker and server
    (recovery/dashboard/cache.py): the figures, pickled and signed, and when they were
    computed. A cache, not a record: rows are replaced and dropped, and not audited."""

    __tablename__ = "dashboard_kept_views"
    __audit__ = False

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # cache.key_name
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    computed_at: Mapped[datetime]  # naive UTC: when the computation started
    # Set while one worker recomputes the view in the background (its claim).
    refreshing_since: Mapped[datetime | None]


# Indexes on the ledger's tables for the dashboard's live figures (declared here, next to the
# reads that need them; migration 0008 creates them):
# - the open items (about a third of the benchmark's million): balances as of today read only
#   these, in the index (PostgreSQL index-only scan), by department or by counterparty;
# - items by recognition date, receipts by date received, applications by date applied: the
#   flows of a period (sales, recoveries) as range scans instead of reading whole tables.
_items = Item.__table__
sa.Index(
    "ix_items_open",
    _items.c.department_id,
    _items.c.due_on,
    _items.c.recognized_on,
    _items.c.counterparty_id,
    _items.c.amount,
    _items.c.open_amount,
    _items.c.last_movement_on,
    _items.c.id,
    sqlite_where=sa.text("open_amount <> 0"),
    postgresql_where=sa.text("open_amount <> 0"),
)
# The same open items in counterparty order: the top overdue counterparties and the credit
# holds group them by counterparty as they are read (no hashing of a third of the ledger).
sa.Index(
    "ix_items_open_counterparty",
    _items.c.counterparty_id,
    _items.c.due_on,
    _items.c.open_amount,
    _items.c.last_movement_on,
    _items.c.recognized_on,
    _items.c.department_id,
    _items.c.amount,
    _items.c.id,
    sqlite_where=sa.text("open_amount <> 0"),
    postgresql_where=sa.text("open_amount <> 0"),
)
sa.Index(
    "ix_items_recognized",
    _items.c.recognized_on,
    _items.c.department_id,
    _items.c.amount,
)
# (The counterparty since migration 0011: a department's recoveries are its counterparties'
# receipts, read from the index too.)
sa.Index(
    "ix_receipts_received",
    Receipt.__table__.c.received_on,
    Receipt.__table__.c.counterparty_id,
    Receipt.__table__.c.amount,
)
sa.Index(
    "ix_applications_applied",
    Application.__table__.c.applied_on,
    Application.__table__.c.item_id,
    Application.__table__.c.amount,
)
# The items that moved (migration 0011), by the day of their last movement: a past date's
# balances read the items that moved after it (open amount now + what reduced it since), and
# the items paid off in a period are those whose last movement is in it with nothing open —
# both range scans read only this index (PostgreSQL index-only scan), not the items' rows.
sa.Index(
    "ix_items_moved",
    _items.c.last_movement_on,
    _items.c.open_amount,
    _items.c.department_id,
    _items.c.due_on,
    _items.c.recognized_on,
    _items.c.counterparty_id,
    _items.c.amount,
    _items.c.id,
    sqlite_where=sa.text("last_movement_on IS NOT NULL"),
    postgresql_where=sa.text("last_movement_on IS NOT NULL"),
)
