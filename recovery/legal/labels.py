"""What the codes of the legal domain read as on screen and in the referral summary."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CLAIM_TYPE_LABELS = {
    "sale_of_goods": _l("Sale of goods (买卖合同)"),
    "construction": _l("Construction project payment (建设工程价款)"),
    "other": _l("Other claim"),
}
EVIDENCE_KIND_LABELS = {
    "contract": _l("Contract"),
    "delivery": _l("Delivery notes / receipts of goods"),
    "invoice": _l("Invoices"),
    "settlement": _l("Settlement or progress confirmation"),
    "visa": _l("Site visas, variations and claims"),
    "statement": _l("Statement of account"),
    "balance_confirmation": _l("Balance confirmation"),
    "demand": _l("Demand served (with proof of arrival)"),
    "correspondence": _l("Correspondence"),
    "guarantee": _l("Guarantee or security documents"),
    "other": _l("Other evidence"),
}
REFERRAL_STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Waiting for legal"),
    "returned": _l("Returned for more evidence"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
}
DECISION_LABELS = {
    "submitted": _l("Sent to legal"),
    "returned": _l("Returned for more evidence"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
}
STAGE_LABELS = {
    "filed": _l("Filed"),
    "preservation": _l("Property preservation"),
    "hearing": _l("Hearing"),
    "judgment": _l("Judgment or mediation"),
    "enforcement": _l("Enforcement"),
    "closed": _l("Closed"),
}
JUDGMENT_KIND_LABELS = {"judgment": _l("Judgment"), "mediation": _l("Mediation agreement")}
HEARING_KIND_LABELS = {
    "hearing": _l("Hearing"),
    "evidence_exchange": _l("Evidence exchange"),
    "mediation": _l("Mediation session"),
}
COST_KIND_LABELS = {
    "court_fee": _l("Court fee"),
    "preservation_fee": _l("Preservation fee"),
    "lawyer_fee": _l("Lawyer's fee"),
    "enforcement_fee": _l("Enforcement fee"),
    "other": _l("Other cost"),
}
OUTCOME_LABELS = {
    "paid_in_full": _l("Paid in full"),
    "partly_recovered": _l("Partly recovered"),
    "settled": _l("Settled"),
    "no_assets": _l("Enforcement ended: no assets found"),
    "lost": _l("Lost"),
    "withdrawn": _l("Withdrawn"),
}
RATE_SOURCE_LABELS = {
    "item": _l("item rate"),
    "contract": _l("contract rate"),
    "default": _l("default rate"),
}


def legal_labels() -> dict:
    return {
        "legal_labels": {
            "claim_types": CLAIM_TYPE_LABELS,
            "evidence_kinds": EVIDENCE_KIND_LABELS,
            "statuses": REFERRAL_STATUS_LABELS,
            "decisions": DECISION_LABELS,
            "stages": STAGE_LABELS,
            "judgment_kinds": JUDGMENT_KIND_LABELS,
            "hearing_kinds": HEARING_KIND_LABELS,
            "cost_kinds": COST_KIND_LABELS,
            "outcomes": OUTCOME_LABELS,
            "rate_sources": RATE_SOURCE_LABELS,
        }
    }
