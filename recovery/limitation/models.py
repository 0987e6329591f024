"""Limitation events recorded by hand, and the warnings sent about expiring limitation."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import User
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.models import Item

# Interruptions (Civil Code art. 195) that the ledger and the activities do not hold: a demand
# proven to have reached the debtor outside the system, an acknowledgement in a document, a
# suit or arbitration filed outside the legal module, or another step with the same effect
# (payment order, declaring the claim in bankruptcy, ...). A suspension (art. 194) has a start
# (``dated_on``) and, once the obstacle is gone, an end (``ended_on``).
EVENT_KINDS = ("demand", "acknowledgement", "suit", "equivalent", "suspension")
INTERRUPTION_KINDS = ("demand", "acknowledgement", "suit", "equivalent")


class LimitationEvent(db.Model):
    """An interruption or a suspension of one item's limitation, with its evidence."""

    __tablename__ = "limitation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    dated_on: Mapped[date]
    ended_on: Mapped[date | None]
    # What proves it: the document, who signed for it, where the file is.
    note: Mapped[str] = mapped_column(sa.String(1000))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Withdrawn when recorded by mistake (never deleted); the reason is kept.
    withdrawn: Mapped[bool] = mapped_column(default=False)
    withdraw_reason: Mapped[str | None] = mapped_column(sa.String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic locking: ending a suspension or withdrawing from a stale page is refused.
    version: Mapped[int] = mapped_column(default=1)

    item: Mapped[Item] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({', '.join(repr(k) for k in EVENT_KINDS)})", name="kind"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= dated_on", name="ends_after_start"),
        sa.CheckConstraint("ended_on IS NULL OR kind = 'suspension'", name="end_of_suspension"),
    )


class LimitationWarning(db.Model):
    """One warning e-mail sent to one person about one item at one threshold, for one expiry
    date: the daily run sends what is not here yet, so nothing is sent twice. A new expiry
    (after an interruption) is a new period whose warnings are due again."""

    __tablename__ = "limitation_warnings"
    __audit__ = False  # a log of mail sent, not a business record

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"))
    threshold_days: Mapped[int]
    expires_on: Mapped[date]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    as_of: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("item_id", "threshold_days", "expires_on", "user_id"),)


class LimitationSign(db.Model):
    """One counterparty's worklist sign (recovery/limitation/kept.py): the earliest end of
    limitation among its open items within the longest warning, as found on ``evaluated_on``
    under the rule basis ``basis`` (the window and the official calendar's version).

    Every write that can move a period (items, payments, activities, promises, recorded
    events, suits, installments) bumps ``version`` and clears ``evaluated_on`` in its own
    transaction; a reader that finds the row cleared, of another day or another basis,
    computes the sign and writes it back only if ``version`` is still the one it read.
    Derived from audited records, so not audited itself."""

    __tablename__ = "limitation_signs"
    __audit__ = False

    counterparty_id: Mapped[int] = mapped_column(
        sa.ForeignKey("counterparties.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    evaluated_on: Mapped[date | None]
    basis: Mapped[str | None] = mapped_column(sa.String(40))
    earliest_expiry: Mapped[date | None]
    evaluated_at: Mapped[datetime | None]


def _install_listeners() -> None:
    # Imported here: the listeners need the model above (as recovery.credit does).
    from recovery.limitation import kept

    kept.install()


_install_listeners()
