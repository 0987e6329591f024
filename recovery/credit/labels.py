"""What the codes of credit control read as on screen (translated), and each reason's text
with its figures ("Overdue 95 days > 90", "Exposure 1,200,000.00 > limit 1,000,000.00")."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from recovery.core.money import display_amount, from_fen
from recovery.credit.rules import Reason

RULE_LABELS = {
    "overdue_days": _l("Overdue too long"),
    "overdue_amount": _l("Overdue amount"),
    "exposure_limit": _l("Exposure above the credit limit"),
    "group_limit": _l("Group exposure above the group limit"),
    "lawsuit": _l("Lawsuit open"),
    "broken_promise": _l("Broken promise to pay"),
    "order_limit": _l("The order exceeds the credit limit"),
    "order_group_limit": _l("The order exceeds the group limit"),
}

EXCEPTION_STATE_LABELS = {
    "requested": _l("Awaiting a leader's decision"),
    "approved": _l("Approved"),
    "expired": _l("Expired"),
    # A leader said no (已拒绝): not the letters of a batch that were not generated (未生成).
    "refused": lazy_pgettext("decision", "Refused"),
    "revoked": _l("Revoked"),
}


def _money(fen: int) -> str:
    return display_amount(from_fen(fen))


def reason_text(reason: Reason) -> str:
    """One reason with its figures, in the user's language."""
    r = reason
    if r.rule == "overdue_days":
        return _("Overdue %(days)s days > %(limit)s", days=r.value, limit=r.limit)
    if r.rule == "overdue_amount":
        return _("Overdue %(amount)s > %(limit)s", amount=_money(r.value), limit=_money(r.limit))
    if r.rule == "exposure_limit":
        return _(
            "Exposure %(amount)s > limit %(limit)s", amount=_money(r.value), limit=_money(r.limit)
        )
    if r.rule == "group_limit":
        return _(
            "Group %(group)s exposure %(amount)s > group limit %(limit)s",
            group=r.group or "",
            amount=_money(r.value),
            limit=_money(r.limit),
        )
    if r.rule == "lawsuit":
        return _("Lawsuits open: %(n)s", n=r.value)
    if r.rule == "broken_promise":
        return _(
            "Promises to pay broken in the last %(days)s days and not made good: %(n)s",
            days=r.limit,
            n=r.value,
        )
    if r.rule == "order_limit":
        return _(
            "Exposure after the order %(amount)s > limit %(limit)s",
            amount=_money(r.value),
            limit=_money(r.limit),
        )
    if r.rule == "order_group_limit":
        return _(
            "Group %(group)s exposure after the order %(amount)s > group limit %(limit)s",
            group=r.group or "",
            amount=_money(r.value),
            limit=_money(r.limit),
        )
    return r.rule
