"""What a judgment debtor owes as of a date: the award less what was recovered, plus the
interest that keeps running after the judgment.

Interest for delayed performance (迟延履行期间的债务利息, Civil Procedure Law art. 264 and the
Supreme People's Court's interpretation 法释〔2014〕8号) is two parts:

- the ordinary interest the judgment lets run on the unpaid principal (the rate it sets,
  ``post_judgment_rate``, annual, from ``interest_runs_from``), and
- the doubled part: a rate per day on the unpaid principal, for each day after the
  performance deadline up to and including the as-of date. The rate is the setting
  ``legal.delay_rate_per_day`` (default 0.0175 %, 日万分之一点七五, the interpretation's
  art. 1), read when the figure is computed: a change applies to every lawsuit's figures
  from then on, including the days before the change (the figures are not stored).

Both are simple interest on each day's unpaid principal (the ledger's rule,
recovery.ledger.rules.fen_days_overdue: a recovery dated r stops interest on what it pays
from day r on), rounded once to the fen, half up.

Recoveries are applied to the principal first, then to the awarded interest, then to the
costs: the order the ledger applies the same receipts in (they pay the debt's items), so the
unpaid principal here is the one the ledger shows. docs/legal.md says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.core.money import from_fen, to_fen
from recovery.extensions import db
from recovery.ledger import rules
from recovery.ledger.models import Receipt
from recovery.legal.models import Lawsuit, LawsuitRecovery
from recovery.reports.interest import interest_settings
from recovery.settings.services import get_setting

# The setting holding the percent per day on the unpaid principal after the performance
# deadline (法释〔2014〕8号 第一条: 日万分之一点七五, i.e. 0.0175).
DELAY_RATE_SETTING = "legal.delay_rate_per_day"


def delay_rate_per_day() -> Decimal:
    """The rate in force now (percent per day), from the settings."""
    return get_setting(DELAY_RATE_SETTING)


def delay_interest(
    principal: Decimal,
    recoveries: list[tuple[date, Decimal]],
    deadline: date,
    as_of: date,
    rate: Decimal,
) -> Decimal:
    """The doubled part: ``rate`` % a day on the unpaid principal, each day after the deadline
    up to and including ``as_of``. ``recoveries`` (date, amount) reduce the principal."""
    fen_days = rules.fen_days_overdue(
        to_fen(principal), [(day, to_fen(amount)) for day, amount in recoveries], deadline, as_of
    )
    return rules.interest_from_fen_days(fen_days, rate, "daily")


def ordinary_interest(
    principal: Decimal,
    recoveries: list[tuple[date, Decimal]],
    runs_from: date,
    as_of: date,
    rate: Decimal,
    day_count: int = 365,
) -> Decimal:
    """Interest at the judgment's annual ``rate`` on the unpaid principal from ``runs_from``
    up to and including ``as_of``."""
    fen_days = rules.fen_days_overdue(
        to_fen(principal),
        [(day, to_fen(amount)) for day, amount in recoveries],
        runs_from - timedelta(days=1),
        as_of,
    )
    return rules.interest_from_fen_days(fen_days, rate, "annual", day_count)


@dataclass
class Position:
    as_of: date
    awarded_principal: Decimal
    awarded_interest: Decimal
    awarded_costs: Decimal
    recovered: Decimal
    unpaid_principal: Decimal
    unpaid_interest: Decimal
    unpaid_costs: Decimal
    ordinary_interest: Decimal
    ordinary_days: int
    delay_days: int
    delay_interest: Decimal
    delay_rate: Decimal  # percent per day, the setting in force when computed

    @property
    def awarded_total(self) -> Decimal:
        return self.awarded_principal + self.awarded_interest + self.awarded_costs

    @property
    def delayed_performance_interest(self) -> Decimal:
        """Ordinary interest plus the doubled part: the interest for delayed performance."""
        return self.ordinary_interest + self.delay_interest

    @property
    def total_due(self) -> Decimal:
        return (
            self.unpaid_principal
            + self.unpaid_interest
            + self.unpaid_costs
            + self.delayed_performance_interest
        )


def recoveries_of(lawsuit_id: int, as_of: date) -> list[tuple[date, Decimal]]:
    """(date, amount) of the suit's recoveries received on or before the date, in order."""
    rows = db.session.execute(
        sa.select(Receipt.received_on, Receipt.amount)
        .join(LawsuitRecovery, LawsuitRecovery.receipt_id == Receipt.id)
        .where(LawsuitRecovery.lawsuit_id == lawsuit_id, Receipt.received_on <= as_of)
        .order_by(Receipt.received_on, Receipt.id)
    ).all()
    return [(row.received_on, row.amount) for row in rows]


def principal_reductions(
    principal: Decimal, recoveries: list[tuple[date, Decimal]]
) -> list[tuple[date, Decimal]]:
    """The part of each recovery that pays principal (principal first, until it is paid)."""
    left = principal
    reductions = []
    for day, amount in recoveries:
        part = min(amount, left)
        if part > 0:
            reductions.append((day, part))
            left -= part
    return reductions


def position(lawsuit: Lawsuit, as_of: date) -> Position | None:
    """The judgment debt as of the date; None before a judgment is recorded."""
    if lawsuit.judgment_on is None or lawsuit.awarded_principal is None:
        return None
    zero = from_fen(0)
    principal = lawsuit.awarded_principal
    interest = lawsuit.awarded_interest or zero
    costs = lawsuit.awarded_costs or zero
    recoveries = recoveries_of(lawsuit.id, as_of)
    recovered = sum((amount for _day, amount in recoveries), zero)
    to_principal = min(recovered, principal)
    to_interest = min(recovered - to_principal, interest)
    to_costs = min(recovered - to_principal - to_interest, costs)
    reductions = principal_reductions(principal, recoveries)

    ordinary, ordinary_days = zero, 0
    if lawsuit.post_judgment_rate and lawsuit.interest_runs_from:
        _rate, day_count = interest_settings()
        ordinary = ordinary_interest(
            principal,
            reductions,
            lawsuit.interest_runs_from,
            as_of,
            Decimal(lawsuit.post_judgment_rate),
            day_count,
        )
        ordinary_days = max((as_of - lawsuit.interest_runs_from).days + 1, 0)
    delay, delay_days, delay_rate = zero, 0, delay_rate_per_day()
    if lawsuit.performance_deadline is not None:
        delay = delay_interest(
            principal, reductions, lawsuit.performance_deadline, as_of, delay_rate
        )
        delay_days = max((as_of - lawsuit.performance_deadline).days, 0)
    return Position(
        as_of=as_of,
        awarded_principal=principal,
        awarded_interest=interest,
        awarded_costs=costs,
        recovered=recovered,
        unpaid_principal=principal - to_principal,
        unpaid_interest=interest - to_interest,
        unpaid_costs=costs - to_costs,
        ordinary_interest=ordinary,
        ordinary_days=ordinary_days,
        delay_days=delay_days,
        delay_interest=delay,
        delay_rate=delay_rate,
    )
