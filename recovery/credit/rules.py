"""The credit-hold rules and the supply decision, as pure functions (no Flask, no database).

Amounts are integer fen. ``Figures`` are what the SQL of queries.py aggregates for one
counterparty as of a date; ``hold_reasons`` says which rules trip; ``decide`` answers an
order of an amount (docs/credit.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

RULES = (
    "overdue_days",
    "overdue_amount",
    "exposure_limit",
    "group_limit",
    "lawsuit",
    "broken_promise",
)
# Reasons an order adds to a counterparty that is otherwise not on hold.
ORDER_RULES = ("order_limit", "order_group_limit")
# The rules whose value and limit are amounts (fen); the others count days or things.
MONEY_RULES = frozenset(
    {"overdue_amount", "exposure_limit", "group_limit", "order_limit", "order_group_limit"}
)


def yuan_text(fen: int | None) -> str | None:
    """Fen as an exact yuan string with two decimals ("1200000.00"), for JSON."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


@dataclass(frozen=True)
class Policy:
    """The hold rules from the settings; each can be switched off."""

    overdue_days_on: bool = True
    overdue_days: int = 90
    overdue_amount_on: bool = True
    overdue_amount: int = 0  # fen
    exposure_on: bool = True
    lawsuit_on: bool = True
    broken_promise_on: bool = True
    broken_promise_days: int = 90


@dataclass
class Figures:
    """One counterparty as of a date (amounts in fen)."""

    exposure: int = 0  # outstanding of the items recognised by the date
    overdue: int = 0  # outstanding of those past their due date
    oldest_due: date | None = None  # the earliest due date of an overdue open item
    next_due: date | None = None  # the earliest due date of an open item not yet overdue
    next_recognition: date | None = None  # the earliest recognition date after the date
    limit: int | None = None
    group_id: int | None = None
    group_code: str | None = None
    group_exposure: int = 0
    group_limit: int | None = None
    open_lawsuits: int = 0
    # Promises broken (and not made good since) whose due date is in the window
    broken_promises: int = 0
    last_broken_due: date | None = None
    next_promise_due: date | None = None  # the earliest due date of a promise still open


@dataclass(frozen=True)
class Reason:
    """One tripped rule with its figures (amounts in fen)."""

    rule: str
    value: int = 0
    limit: int = 0
    group: str | None = None

    def to_json(self) -> dict:
        data = {"rule": self.rule, "value": self.value, "limit": self.limit}
        if self.group is not None:
            data["group"] = self.group
        return data

    @classmethod
    def from_json(cls, data: dict) -> Reason:
        return cls(
            data["rule"], int(data.get("value", 0)), int(data.get("limit", 0)), data.get("group")
        )


def days_overdue(figures: Figures, as_of: date) -> int:
    if figures.oldest_due is None or figures.oldest_due >= as_of:
        return 0
    return (as_of - figures.oldest_due).days


def hold_reasons(figures: Figures, policy: Policy, as_of: date) -> list[Reason]:
    """The rules that put the counterparty on hold as of the date, in RULES order."""
    reasons = []
    days = days_overdue(figures, as_of)
    if policy.overdue_days_on and days > policy.overdue_days:
        reasons.append(Reason("overdue_days", days, policy.overdue_days))
    if policy.overdue_amount_on and figures.overdue > policy.overdue_amount:
        reasons.append(Reason("overdue_amount", figures.overdue, policy.overdue_amount))
    if policy.exposure_on:
        if figures.limit is not None and figures.exposure > figures.limit:
            reasons.append(Reason("exposure_limit", figures.exposure, figures.limit))
        if figures.group_limit is not None and figures.group_exposure > figures.group_limit:
            reasons.append(
                Reason(
                    "group_limit", figures.group_exposure, figures.group_limit, figures.group_code
                )
            )
    if policy.lawsuit_on and figures.open_lawsuits:
        reasons.append(Reason("lawsuit", figures.open_lawsuits, 0))
    if policy.broken_promise_on and figures.broken_promises:
        reasons.append(
            Reason("broken_promise", figures.broken_promises, policy.broken_promise_days)
        )
    return reasons


def stale_on(figures: Figures, policy: Policy, as_of: date) -> date | None:
    """The first day after ``as_of`` on which the calendar alone may change the reasons (an
    item falls due or passes the overdue threshold, a later item is recognised, a promise
    breaks or leaves the window); None when nothing changes until a document does."""
    days: list[date] = []

    def after(day: date | None, n: int) -> None:
        # A date near the end of the calendar (9999-12-31) has no day after: nothing to wait for.
        if day is not None and (date.max - day).days >= n:
            days.append(day + timedelta(days=n))

    if figures.next_due is not None:
        after(max(figures.next_due, as_of), 1)
    if policy.overdue_days_on:
        after(figures.oldest_due, policy.overdue_days + 1)
    if figures.next_recognition is not None:
        days.append(figures.next_recognition)
    if policy.broken_promise_on:
        after(figures.last_broken_due, policy.broken_promise_days + 1)
        after(figures.next_promise_due, 1)
    later = [d for d in days if d > as_of]
    return min(later) if later else None


@dataclass(frozen=True)
class ExceptionRoom:
    """An approved, unexpired exception: its cap and what supply since approval used."""

    id: int
    cap: int
    used: int
    valid_until: date

    @property
    def remaining(self) -> int:
        return max(0, self.cap - self.used)


@dataclass
class Decision:
    decision: str  # "allow" | "hold"
    reasons: list[Reason] = field(default_factory=list)
    exposure: int = 0
    limit: int | None = None
    exception: ExceptionRoom | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_json(self) -> dict:
        """The decision as the API answers it: amounts as exact yuan strings."""

        def reason(r: Reason) -> dict:
            money = r.rule in MONEY_RULES
            data = {
                "rule": r.rule,
                "value": yuan_text(r.value) if money else r.value,
                "limit": yuan_text(r.limit) if money else r.limit,
            }
            if r.group is not None:
                data["group"] = r.group
            return data

        exception = None
        if self.exception is not None:
            exception = {
                "id": self.exception.id,
                "cap": yuan_text(self.exception.cap),
                "remaining": yuan_text(self.exception.remaining),
                "valid_until": self.exception.valid_until.isoformat(),
            }
        return {
            "decision": self.decision,
            "reasons": [reason(r) for r in self.reasons],
            "exposure": yuan_text(self.exposure),
            "limit": yuan_text(self.limit),
            "exception": exception,
        }


def decide(
    figures: Figures,
    policy: Policy,
    as_of: date,
    amount: int = 0,
    exceptions: list[ExceptionRoom] | tuple = (),
) -> Decision:
    """May an order of ``amount`` fen be supplied as of the date?

    Hold when any rule trips, or when the order would take the exposure above the
    counterparty's limit or its group's (only while the exposure rule is on). Then an
    approved exception, valid on the date, whose remaining cap covers the amount, allows it
    (the exception with the most room is named); otherwise hold."""
    reasons = hold_reasons(figures, policy, as_of)
    tripped = {r.rule for r in reasons}
    if policy.exposure_on and amount > 0:
        after = figures.exposure + amount
        if figures.limit is not None and after > figures.limit and "exposure_limit" not in tripped:
            reasons.append(Reason("order_limit", after, figures.limit))
        group_after = figures.group_exposure + amount
        if (
            figures.group_limit is not None
            and group_after > figures.group_limit
            and "group_limit" not in tripped
        ):
            reasons.append(
                Reason("order_group_limit", group_after, figures.group_limit, figures.group_code)
            )
    valid = [e for e in exceptions if e.valid_until >= as_of]
    best = max(valid, key=lambda e: (e.remaining, e.id), default=None)
    if not reasons:
        return Decision("allow", [], figures.exposure, figures.limit, None)
    if best is not None and best.remaining >= amount and best.remaining > 0:
        return Decision("allow", reasons, figures.exposure, figures.limit, best)
    return Decision("hold", reasons, figures.exposure, figures.limit, best)
