"""What the codes of the cases domain read as on screen (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CASE_STATUS_LABELS = {
    "open": _l("Open"),
    "in_progress": _l("In progress"),
    "referred": _l("Referred to legal"),
    "closed": _l("Closed"),
}
OUTCOME_LABELS = {
    "recovered": _l("Recovered"),
    "written_off": _l("Written off"),
    "settled_in_kind": _l("Settled in kind"),
}
CAUSE_LABELS = {
    "cash_shortage": _l("Cash shortage"),
    "quality_dispute": _l("Quality dispute"),
    "settlement_not_agreed": _l("Settlement not agreed"),
    "wilful_default": _l("Wilful default"),
    "other": _l("Other"),
}
ORIGIN_LABELS = {
    "manual": _l("Opened by hand"),
    "proposed": _l("From the automatic proposals"),
    "imported": _l("Imported"),
}
STRATEGY_KIND_LABELS = {
    "cash_collection": _l("Cash collection"),
    "secured": _l("Secured arrangement"),
    "in_kind": _l("Settlement in kind"),
    "litigation": _l("Litigation"),
    "debt_transfer": _l("Debt transfer"),
    "netting": _l("Intra-group netting"),
}
STRATEGY_STATUS_LABELS = {
    "draft": _l("Draft"),
    "pending": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
STEP_LABELS = {
    "finance_review": _l("Finance review"),
    "legal_review": _l("Legal review"),
    "leader_approval": _l("Leader approval"),
}
DECISION_LABELS = {
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "sent_back": _l("Sent back"),
}
COLLATERAL_KIND_LABELS = {
    "mortgage": _l("Mortgage"),
    "pledge": _l("Pledge"),
    "guarantee": _l("Guarantee"),
}
EXTENSION_STATUS_LABELS = {
    "pending": _l("Awaiting decision"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


def case_labels() -> dict:
    return {
        "case_labels": {
            "statuses": CASE_STATUS_LABELS,
            "outcomes": OUTCOME_LABELS,
            "causes": CAUSE_LABELS,
            "origins": ORIGIN_LABELS,
            "kinds": STRATEGY_KIND_LABELS,
            "strategy_statuses": STRATEGY_STATUS_LABELS,
            "steps": STEP_LABELS,
            "decisions": DECISION_LABELS,
            "collateral": COLLATERAL_KIND_LABELS,
            "extensions": EXTENSION_STATUS_LABELS,
        }
    }
