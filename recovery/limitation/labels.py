"""Words for the limitation screens (translated when shown)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# What the last interruption was (the report's last_interruption_kind values).
INTERRUPTION_LABELS = {
    "payment": _l("partial payment"),
    "demand": _l("demand that reached the debtor"),
    "acknowledgement": _l("debtor's acknowledgement"),
    "promise": _l("promise to pay"),
    "suit": _l("suit or arbitration filed"),
    "equivalent": _l("step with the effect of a suit"),
}

# What can be recorded by hand on an item.
EVENT_LABELS = {
    "demand": _l("Demand that reached the debtor (proof kept outside the system)"),
    "acknowledgement": _l("Acknowledgement of the debt by the debtor (e.g. a signed document)"),
    "suit": _l("Suit or arbitration filed outside the legal module"),
    "equivalent": _l(
        "Step with the effect of a suit (payment order, claim declared in bankruptcy, ...)"
    ),
    "suspension": _l("Suspension: an obstacle to suing (force majeure, ...)"),
}

# Which period an item's date belongs to (rules.LIMITATION ...).
PERIOD_LABELS = {
    "limitation": _l("limitation (three years)"),
    "enforcement": _l("time to apply for enforcement (two years)"),
    "suit_pending": _l("suit pending: no period runs"),
    "enforcing": _l("enforcement applied for: no period runs"),
}
