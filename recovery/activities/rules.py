"""The rules an activity follows, pure (no app, no database): which kinds interrupt limitation
and when (DOMAIN §3), and which kinds the contact-hours rule applies to (DOMAIN §7).

Written down in docs/recovery-work.md, "Activities, promises and disputes".
"""

from __future__ import annotations

from datetime import time

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

KIND_LABELS = {
    "call": _l("Call"),
    "visit": _l("Visit"),
    "letter": _l("Letter"),
    "email": _l("E-mail"),
    "message": _l("Message (SMS, WeChat)"),
    "meeting": _l("Meeting"),
    "demand": _l("Demand served (催告)"),
    "confirmation": _l("Balance confirmation (对账/询证函)"),
}

# A demand reaches the debtor only when it arrives: these interrupt limitation only with a
# proof of arrival (signed receipt, courier delivery record, read receipt, returned
# confirmation signed by the debtor — a signed balance confirmation is an acknowledgement).
DELIVERED_KINDS = ("demand", "letter", "email", "message", "confirmation")
# Spoken contact: interrupts only when the debtor acknowledged the debt.
ACKNOWLEDGING_KINDS = ("call", "visit", "meeting")
# Real-time contact disturbs the debtor: the contact-hours rule applies. Documents (letters,
# e-mails, demands and confirmations sent) are read when the debtor chooses, so they are exempt.
REAL_TIME_KINDS = ("call", "visit", "meeting", "message")
# Kinds that always reach a person: the contact reached must be named.
CONTACT_REQUIRED_KINDS = ("call", "message", "email")

DISPUTE_REASON_LABELS = {
    "quality": _l("Quality"),
    "quantity": _l("Quantity"),
    "price": _l("Price"),
    "settlement_not_agreed": _l("Settlement not agreed"),
    "other": _l("Other"),
}

DISPUTE_STATUS_LABELS = {
    "open": _l("Open"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
}
# A word with two meanings gets a translation context (one msgid has one translation): an open
# promise is one not yet kept nor broken (待兑现), not a case waiting to be worked (待处理); an
# approved visit record passed its review (审核通过).
PROMISE_STATUS_LABELS = {
    "open": lazy_pgettext("promise", "Open"),
    "kept": _l("Kept"),
    "broken": _l("Broken"),
}

REVIEW_STATUS_LABELS = {
    "not_required": _l("No review needed"),
    "pending": _l("Waiting for review"),
    "approved": lazy_pgettext("review", "Approved"),
    "returned": _l("Returned"),
}


def interrupts_limitation(
    kind: str, *, proof_of_arrival: str | None, debtor_acknowledged: bool, with_promise: bool
) -> bool:
    """Whether an activity interrupts limitation (computed, never ticked by the user).

    A promise to pay is the debtor's acknowledgement, whatever the kind. A demand, letter,
    e-mail, message or balance confirmation interrupts only with a proof of arrival (for a
    confirmation: that it came back signed). A call, visit or meeting interrupts only when the
    debtor acknowledged the debt."""
    if with_promise:
        return True
    if kind in DELIVERED_KINDS:
        return bool((proof_of_arrival or "").strip())
    if kind in ACKNOWLEDGING_KINDS:
        return bool(debtor_acknowledged)
    return False


def interruption_ground(kind: str, interrupts: bool, with_promise: bool) -> str | None:
    """Why a stored activity interrupts limitation: promise | arrived | acknowledged."""
    if not interrupts:
        return None
    if with_promise:
        return "promise"
    return "arrived" if kind in DELIVERED_KINDS else "acknowledged"


INTERRUPTION_GROUNDS = {
    "promise": _l("a promise to pay was given"),
    "arrived": _l("the demand arrived (proof recorded)"),
    "acknowledged": _l("the debtor acknowledged the debt"),
}


def within_contact_hours(moment: time, start: time, until: time) -> bool:
    """Whether a local time of day lies in the allowed window [start, until).

    With the defaults 08:00–22:00 a contact at 22:00 is already outside. A window that
    crosses midnight (start after until) is read as start..24:00 plus 00:00..until."""
    if start <= until:
        return start <= moment < until
    return moment >= start or moment < until
