"""``POST /api/v1/credit-check``: may this much new supply go to the counterparty now?

The decision is computed live by recovery.credit.services.credit_check (a handful of indexed
queries); this view only reads and answers (no write, so no idempotency key is needed).
"""

from __future__ import annotations

from flask_babel import gettext as _

from recovery.api import access, blueprint
from recovery.api.common import scope
from recovery.api.errors import ApiError
from recovery.api.schemas import CreditCheckInput, CreditCheckSchema
from recovery.core.money import from_fen
from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SALES, SUPERVISOR
from recovery.credit import queries as credit_queries
from recovery.credit import services as credit_services

bp = blueprint("api_credit", "Credit check before supply")

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
# Reasons whose value and limit are amounts (the others: days, or a count).
MONEY_RULES = frozenset(
    {"overdue_amount", "exposure_limit", "group_limit", "order_limit", "order_group_limit"}
)


def _figure(rule: str, value) -> str:
    if rule in MONEY_RULES:
        return f"{from_fen(value)}"
    return str(value)


def decision_json(code: str, amount, day, decision) -> dict:
    room = decision.exception
    return {
        "counterparty_code": code,
        "amount": amount,
        "as_of": day,
        "decision": decision.decision,
        "reasons": [
            {
                "rule": r.rule,
                "value": _figure(r.rule, r.value),
                "limit": _figure(r.rule, r.limit),
                "group": r.group,
            }
            for r in decision.reasons
        ],
        "exposure": from_fen(decision.exposure),
        "limit": from_fen(decision.limit),
        "exception": None
        if room is None
        else {
            "id": room.id,
            "cap": from_fen(room.cap),
            "used": from_fen(room.used),
            "remaining": from_fen(room.remaining),
            "valid_until": room.valid_until,
        },
    }


@bp.route("/credit-check", methods=["POST"])
@access(*READERS)
@bp.arguments(CreditCheckInput)
@bp.response(200, CreditCheckSchema)
def credit_check(data):
    """Allow or hold new supply of ``amount`` to the counterparty, with the rules that hold it,
    its exposure and limit, and the exception that allows it despite a hold."""
    code = data["counterparty_code"].strip()
    try:
        counterparty = credit_services.find_counterparty(code)
        if not credit_queries.is_visible(counterparty.id, scope()):
            raise credit_services.UnknownCounterparty(
                _("No counterparty has the code %(code)s.", code=code)
            )
        day = data.get("as_of") or credit_services.company_today()
        decision = credit_services.credit_check(counterparty, data["amount"], day)
    except credit_services.UnknownCounterparty as error:
        raise ApiError(
            404,
            str(error.message),
            code="unknown_counterparty",
            details={"fields": {"counterparty_code": [str(error.message)]}},
        ) from None
    except credit_services.CreditError as error:
        raise ApiError(
            422, details={"fields": {error.field or "amount": [str(error.message)]}}
        ) from None
    return decision_json(counterparty.code, data["amount"], day, decision)
