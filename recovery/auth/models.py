"""Users, their roles, departments and the record of login attempts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.core.timeutil import utcnow
from recovery.extensions import db

DEPARTMENT_KINDS = {
    "company": _l("Company"),
    "department": _l("Department"),
    "subsidiary": _l("Subsidiary"),
}


class Department(db.Model):
    """A node of the organisation tree: company → departments and subsidiaries."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="department")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(
        back_populates="parent", order_by="Department.name"
    )

    __table_args__ = (
        sa.CheckConstraint("kind IN ('company', 'department', 'subsidiary')", name="kind"),
    )

    @property
    def kind_label(self):
        return DEPARTMENT_KINDS.get(self.kind, self.kind)

    def ancestors(self) -> list[Department]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    @property
    def path(self) -> str:
        return " / ".join(d.name for d in reversed([self, *self.ancestors()]))

    def __repr__(self) -> str:
        return f"<Department {self.name}>"


class UserRole(db.Model):
    """One role held by one user (a user may hold several)."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(20), primary_key=True)

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('finance', 'sales', 'supervisor', 'legal', 'executive', 'admin')",
            name="role",
        ),
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # The hash is recorded as changed, never its value; login bookkeeping is in login_attempts.
    __audit_redact__ = ("password_hash",)
    __audit_ignore__ = ("last_login_at",)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(sa.String(10))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Bumped when a password changes or the user is disabled: every existing session ends.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    department: Mapped[Department | None] = relationship()
    roles: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", order_by=UserRole.role, lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot log in
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def role_set(self) -> set[str]:
        return {r.role for r in self.roles}

    @property
    def role_names(self) -> list[str]:
        return sorted(self.role_set)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set & set(roles))

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class LoginAttempt(db.Model):
    """Every login attempt, successful or not (a security log, itself append-only)."""

    __tablename__ = "login_attempts"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(20))

    user: Mapped[User | None] = relationship()


LOGIN_OUTCOMES = {
    "success": _l("Signed in"),
    "bad_password": _l("Wrong username or password"),
    "locked": _l("Refused: locked"),
    "disabled": _l("Refused: disabled"),
}
