"""Who answers for a debt, and since when: every change is a row, never an overwrite."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import User
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.models import Item
from recovery.parties.models import Counterparty


class Handover(db.Model):
    """A supervised hand-over (交接) of all of one person's accounts to another, in one step.

    Drafted with a checklist, approved by a supervisor (not the person leaving), then applied:
    applying writes one ResponsibilityChange per counterparty and item moved."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    to_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(12), default="draft")
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    counterparties_moved: Mapped[int] = mapped_column(default=0)
    items_moved: Mapped[int] = mapped_column(default=0)
    cases_moved: Mapped[int] = mapped_column(default=0)

    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    checklist: Mapped[list[HandoverCheck]] = relationship(
        back_populates="handover", order_by="HandoverCheck.position"
    )

    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'completed', 'cancelled')", name="status"),
        sa.CheckConstraint("from_user_id <> to_user_id", name="different_people"),
    )


class HandoverCheck(db.Model):
    """One line of a hand-over's checklist (documents, open promises, pending approvals…)."""

    __tablename__ = "handover_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(sa.ForeignKey("handovers.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(sa.String(200))
    done: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(sa.String(500))

    handover: Mapped[Handover] = relationship(back_populates="checklist")


class ResponsibilityChange(db.Model):
    """One change of the first-responsible person or the leader of a counterparty or an item.

    ``item_id`` empty: the change is for the counterparty as a whole. ``role`` says which
    seat changed: the first-responsible person (responsible) or the leader (leader)."""

    __tablename__ = "responsibility_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(sa.ForeignKey("counterparties.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(12), default="responsible")
    kind: Mapped[str] = mapped_column(sa.String(12), default="reassignment")
    from_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    to_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handover_id: Mapped[int | None] = mapped_column(sa.ForeignKey("handovers.id"), index=True)
    effective_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    counterparty: Mapped[Counterparty] = relationship()
    item: Mapped[Item | None] = relationship()
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    handover: Mapped[Handover | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("role IN ('responsible', 'leader')", name="role"),
        sa.CheckConstraint(
            "kind IN ('initial', 'reassignment', 'handover')",
            name="kind",
        ),
    )


def _install_listeners() -> None:
    # Imported here: the listener module needs the models above.
    from recovery.responsibility import listeners

    listeners.install()


_install_listeners()
