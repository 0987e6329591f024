"""Every model, imported in one place so that the metadata knows all tables."""

from recovery.activities.models import Activity, Dispute, EvidenceFile, Promise
from recovery.audit.models import AuditLog
from recovery.auth.models import Department, LoginAttempt, User, UserRole
from recovery.cases.models import (
    ApprovalDecision,
    Collateral,
    ExtensionRequest,
    RecoveryCase,
    Strategy,
)
from recovery.jobs.models import Job
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contact, Contract, Counterparty, Project
from recovery.responsibility.models import Handover, HandoverCheck, ResponsibilityChange
from recovery.settings.models import Setting

__all__ = [
    "Activity",
    "Adjustment",
    "Application",
    "ApprovalDecision",
    "AuditLog",
    "Collateral",
    "Contact",
    "Contract",
    "Counterparty",
    "Department",
    "Dispute",
    "EvidenceFile",
    "ExtensionRequest",
    "Handover",
    "HandoverCheck",
    "Item",
    "Job",
    "LoginAttempt",
    "Project",
    "Promise",
    "Receipt",
    "RecoveryCase",
    "ResponsibilityChange",
    "Setting",
    "Strategy",
    "User",
    "UserRole",
]
