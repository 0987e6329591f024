"""Every model, imported in one place so that the metadata knows all tables."""

from recovery.activities.models import Activity, Dispute, EvidenceFile, Promise
from recovery.api.models import ApiToken, IdempotencyKey  # noqa: F401
from recovery.audit.models import AuditLog
from recovery.auth.models import Department, LoginAttempt, User, UserRole
from recovery.cases.models import (
    ApprovalDecision,
    Collateral,
    ExtensionRequest,
    RecoveryCase,
    Strategy,
)
from recovery.credit.models import CreditException, CreditGroup, CreditGroupMember, CreditStatus  # noqa: F401,E501
from recovery.dashboard.models import MonthSnapshot
from recovery.jobs.models import Job
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.legal.models import (
    Hearing,
    Lawsuit,
    LawsuitCost,
    LawsuitRecovery,
    Referral,
    ReferralDecision,
    ReferralDocument,
    ReferralItem,
)
from recovery.letters.models import BatchLine, Letter, LetterBatch
from recovery.limitation.models import LimitationEvent, LimitationWarning
from recovery.parties.models import Contact, Contract, Counterparty, Project
from recovery.provisions.models import ProvisionRun, ProvisionRunLine, SpecificProvision
from recovery.responsibility.models import Handover, HandoverCheck, ResponsibilityChange
from recovery.settings.models import Setting
from recovery.targets.models import RewardEntry, RewardList, Target

__all__ = [
    "Activity",
    "Adjustment",
    "Application",
    "ApprovalDecision",
    "AuditLog",
    "BatchLine",
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
    "Hearing",
    "Item",
    "Job",
    "Lawsuit",
    "LawsuitCost",
    "LawsuitRecovery",
    "LimitationEvent",
    "LimitationWarning",
    "Letter",
    "LetterBatch",
    "LoginAttempt",
    "MonthSnapshot",
    "Project",
    "Promise",
    "ProvisionRun",
    "ProvisionRunLine",
    "Receipt",
    "RecoveryCase",
    "Referral",
    "ReferralDecision",
    "ReferralDocument",
    "ReferralItem",
    "RewardEntry",
    "RewardList",
    "ResponsibilityChange",
    "Setting",
    "SpecificProvision",
    "Strategy",
    "Target",
    "User",
    "UserRole",
]
