"""What the letters' codes read as (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "demand": _l("Demand letter"),
    "confirmation": _l("Balance confirmation"),
    "statement": _l("Statement of account"),
}

LEVEL_LABELS = {
    "reminder": _l("Payment reminder"),
    "formal": _l("Formal demand (with interest)"),
    "final": _l("Final demand before legal action"),
}

DELIVERY_METHOD_LABELS = {
    "signed_receipt": _l("Signed receipt (hand delivery)"),
    "courier": _l("Courier, delivery record"),
    "registered_mail": _l("Registered mail, delivery record"),
    "email": _l("E-mail, read or delivery receipt"),
    "fax": _l("Fax, transmission report"),
    "other": _l("Other proof"),
}

SEND_STATUS_LABELS = {
    "sent": _l("E-mailed"),
    "failed": _l("E-mail failed"),
    "no_email": _l("No e-mail contact: skipped"),
}

# The activity a delivered letter becomes (DOMAIN §3: a demand that arrived interrupts
# limitation; a balance confirmation does when it came back signed).
ACTIVITY_KIND = {"demand": "demand", "confirmation": "confirmation", "statement": "letter"}


def labels() -> dict:
    return {
        "letter_labels": {
            "kinds": KIND_LABELS,
            "levels": LEVEL_LABELS,
            "methods": DELIVERY_METHOD_LABELS,
            "send": SEND_STATUS_LABELS,
        }
    }
