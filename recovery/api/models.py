"""Personal API tokens and the idempotency keys of API writes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.auth.models import User
from recovery.core.timeutil import utcnow
from recovery.extensions import db

TOKEN_SCOPES = ("read", "write")


class ApiToken(db.Model):
    """A personal API token: only the SHA-256 of its secret is kept, with a short visible
    prefix to recognise it. It acts as its user (their roles, looked up on every request),
    limited to its scope: "read" (GET) or "write" (read and write)."""

    __tablename__ = "api_tokens"
    __audit_redact__ = ("token_hash",)
    __audit_ignore__ = ("last_used_at",)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[str] = mapped_column(sa.String(10), default="read")
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("scope IN ('read', 'write')", name="scope"),)

    def state(self, now: datetime | None = None) -> str:
        """active | revoked | expired"""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"


class IdempotencyKey(db.Model):
    """The first answer to an API write sent with an ``Idempotency-Key`` header, stored in the
    same transaction as the write: a replay gets it back and writes nothing."""

    __tablename__ = "api_idempotency_keys"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int]
    response_body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
