"""The claimed amount of a referral: principal outstanding plus overdue interest per item, as
of a date, by the ledger's interest rule (DOMAIN §3; recovery.ledger.rules), with the periods
behind each item's interest so that the calculation can be shown line by line.

The rate of an item is, as in recovery.ledger.queries.interest_rows: the item's own rate,
else its contract's (annual or per day), else the default setting; the day count is the
setting. Interest is rounded once per item, to the fen, half up; the claim's interest is the
sum of the items' interest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.core.money import from_fen
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger import rules
from recovery.ledger.models import Adjustment, Application, Item
from recovery.parties.models import Contract
from recovery.reports.interest import format_rate, interest_settings


@dataclass(frozen=True)
class InterestPeriod:
    """Days from ``start`` to ``end`` (both included) on which ``balance`` bore interest."""

    start: date
    end: date
    balance: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass
class ClaimLine:
    item_id: int
    document_no: str
    contract_no: str | None
    due_on: date
    amount: Decimal
    principal: Decimal  # outstanding as of the claim date
    days_overdue: int
    rate: Decimal  # percent
    basis: str  # annual | daily
    rate_source: str  # item | contract | default
    day_count: int
    fen_days: int
    interest: Decimal
    periods: list[InterestPeriod] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest

    @property
    def yuan_days(self) -> Decimal:
        """Σ balance × days, in yuan-days (the interest's base)."""
        return from_fen(self.fen_days)

    @property
    def rate_text(self) -> str:
        """The rate as printed: 6.00 (percent; a year or a day per ``basis``)."""
        return format_rate(self.rate)


def interest_periods(
    amount: int, reductions: list[tuple[date, int]], due_on: date, as_of: date
) -> list[tuple[date, date, int]]:
    """(start, end, balance fen) of each run of days after the due date up to ``as_of`` with
    the same balance: the terms of rules.fen_days_overdue, one per period (balance > 0 only).
    Σ balance × days over them equals rules.fen_days_overdue."""
    start = due_on + timedelta(days=1)
    if as_of < start:
        return []
    balance = amount - sum(fen for day, fen in reductions if day <= start)
    periods = []
    cursor = start
    for point in sorted({day for day, _fen in reductions if start < day <= as_of}):
        if balance > 0:
            periods.append((cursor, point - timedelta(days=1), balance))
        balance -= sum(fen for day, fen in reductions if day == point)
        cursor = point
    if balance > 0:
        periods.append((cursor, as_of, balance))
    return periods


def overdue_item_ids(counterparty_id: int, as_of: date) -> list[int]:
    """The counterparty's items overdue as of the date (due before it, something outstanding),
    by due date then document number: what a referral can claim."""
    balances = ledger_queries.outstanding_items(
        as_of, ledger_queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    return list(
        db.session.scalars(
            sa.select(balances.c.id)
            .where(balances.c.due_on < as_of, balances.c.outstanding_fen > 0)
            .order_by(balances.c.due_on, balances.c.document_no)
        )
    )


def _reductions(item_ids: list[int], as_of: date) -> dict[int, list[tuple[date, int]]]:
    """Applications and approved credit notes / write-offs dated on or before the date."""
    apps, adjs = Application.__table__, Adjustment.__table__
    fen = ledger_queries.fen
    query = sa.union_all(
        sa.select(apps.c.item_id, apps.c.applied_on.label("day"), fen(apps.c.amount)).where(
            apps.c.item_id.in_(item_ids), apps.c.applied_on <= as_of
        ),
        sa.select(adjs.c.item_id, adjs.c.dated_on, fen(adjs.c.amount)).where(
            adjs.c.item_id.in_(item_ids), adjs.c.status == "approved", adjs.c.dated_on <= as_of
        ),
    )
    found: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for item_id, day, amount in db.session.execute(query):
        if isinstance(day, str):  # SQLite hands back dates of a UNION as text
            day = date.fromisoformat(day)
        found[item_id].append((day, int(amount)))
    return found


def claim_lines(counterparty_id: int, item_ids, as_of: date) -> list[ClaimLine]:
    """Principal and interest as of ``as_of`` of the counterparty's items among ``item_ids``
    (others are ignored), by due date then document number."""
    item_ids = list(item_ids)
    if not item_ids:
        return []
    default_rate, day_count = interest_settings()
    items, contracts = Item.__table__, Contract.__table__
    rows = db.session.execute(
        sa.select(
            items.c.id,
            items.c.document_no,
            ledger_queries.fen(items.c.amount).label("amount"),
            items.c.due_on,
            items.c.overdue_rate,
            contracts.c.number,
            contracts.c.overdue_rate.label("contract_rate"),
            contracts.c.rate_basis,
        )
        .outerjoin(contracts, contracts.c.id == items.c.contract_id)
        .where(items.c.id.in_(item_ids), items.c.counterparty_id == counterparty_id)
        .order_by(items.c.due_on, items.c.document_no)
    ).all()
    reductions = _reductions([row.id for row in rows], as_of)
    lines = []
    for row in rows:
        if row.overdue_rate is not None:
            rate, basis, source = Decimal(row.overdue_rate), "annual", "item"
        elif row.contract_rate is not None:
            rate, basis, source = Decimal(row.contract_rate), row.rate_basis, "contract"
        else:
            rate, basis, source = default_rate, "annual", "default"
        own = reductions.get(row.id, [])
        amount = int(row.amount)
        fen_days = rules.fen_days_overdue(amount, own, row.due_on, as_of)
        lines.append(
            ClaimLine(
                item_id=row.id,
                document_no=row.document_no,
                contract_no=row.number,
                due_on=row.due_on,
                amount=from_fen(amount),
                principal=from_fen(rules.outstanding(amount, own, as_of)),
                days_overdue=rules.days_past_due(row.due_on, as_of),
                rate=rate,
                basis=basis,
                rate_source=source,
                day_count=day_count,
                fen_days=fen_days,
                interest=rules.interest_from_fen_days(fen_days, rate, basis, day_count),
                periods=[
                    InterestPeriod(start, end, from_fen(balance))
                    for start, end, balance in interest_periods(amount, own, row.due_on, as_of)
                ],
            )
        )
    return lines


def totals(lines: list[ClaimLine]) -> tuple[Decimal, Decimal]:
    """(principal, interest) of a claim."""
    zero = from_fen(0)
    return (
        sum((line.principal for line in lines), zero),
        sum((line.interest for line in lines), zero),
    )


__all__ = [
    "ClaimLine",
    "InterestPeriod",
    "claim_lines",
    "interest_periods",
    "overdue_item_ids",
    "totals",
]
