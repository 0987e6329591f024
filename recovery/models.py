"""Every model, imported in one place so that the metadata knows all tables."""

from recovery.audit.models import AuditLog
from recovery.auth.models import Department, LoginAttempt, User, UserRole
from recovery.settings.models import Setting

__all__ = ["AuditLog", "Department", "LoginAttempt", "Setting", "User", "UserRole"]
