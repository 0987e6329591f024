"""What the worklist and the routine reports call things on screen (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

RULE_LABELS = {
    "assignment": _l("Assignment"),
    "first_action": _l("First action"),
    "visit": _l("Field visit"),
}
RULE_HELP = {
    "assignment": _l("A case is assigned by the end of the next %(n)s working day(s)."),
    "first_action": _l("The first action follows the assignment within %(n)s working hour(s)."),
    "visit": _l("A field visit within %(n)s working day(s), or an extension request."),
}

REPORT_LABELS = {
    "collector": _l("Collector"),
    "person": _l("Person"),
    "department": _l("Department"),
    "cases_worked": _l("Cases worked"),
    "contacts": _l("Contacts"),
    "promises_made": _l("Promises made"),
    "promised_amount": _l("Amount promised"),
    "kept": _l("Kept"),
    "broken": _l("Broken"),
    "recovered": _l("Recovered"),
    "breaches": _l("Service-level breaches"),
    "cases": _l("Cases"),
    "cases_closed": _l("Closed"),
    "target": _l("Target"),
    "percent": _l("% of target"),
    "total": _l("Total"),
}


def report_labels() -> dict:
    from recovery.activities.rules import KIND_LABELS

    return {**REPORT_LABELS, "kinds": KIND_LABELS}
