"""A unit of long work: its state, progress and result, so a page can follow it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recovery.core.timeutil import utcnow
from recovery.extensions import db


class Job(db.Model):
    __tablename__ = "jobs"
    __audit__ = False  # bookkeeping of work; the documents it writes are audited themselves

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(sa.String(10), default="queued", index=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    params: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    result: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # A retry is a new Job naming the failed attempt it repeats (the failed one is kept).
    retry_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )
