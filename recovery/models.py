"""Every model, imported in one place so that the metadata knows all tables."""

from recovery.audit.models import AuditLog
from recovery.auth.models import Department, LoginAttempt, User, UserRole
from recovery.jobs.models import Job
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contact, Contract, Counterparty, Project
from recovery.settings.models import Setting

__all__ = [
    "Adjustment",
    "Application",
    "AuditLog",
    "Contact",
    "Contract",
    "Counterparty",
    "Department",
    "Item",
    "Job",
    "LoginAttempt",
    "Project",
    "Receipt",
    "Setting",
    "User",
    "UserRole",
]
