"""Reads of the cases domain, in SQL, on top of the ledger's own queries.

Outstanding and overdue come from recovery.ledger.queries.outstanding_items (and so follow
the ledger's rules); nothing here restates how an item's outstanding amount is found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from recovery.auth.models import User
from recovery.cases.models import RecoveryCase, Strategy
from recovery.core.money import from_fen, to_fen
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger.models import Receipt
from recovery.ledger.screen_queries import visible_counterparty_ids
from recovery.parties.models import Counterparty

fen = ledger_queries.fen
receipts_t = Receipt.__table__

# Strategy statuses still in play (the case cannot close while one is pending).
LIVE_STRATEGY_STATUSES = ("draft", "pending", "approved")


# ---------------------------------------------------------------------------------------------
# A counterparty's position


@dataclass
class Position:
    """What a counterparty owes as of a date: outstanding, overdue, its oldest overdue item."""

    outstanding: Decimal
    overdue: Decimal
    oldest_due_on: date | None
    days_overdue: int
    unapplied_credit: Decimal


def _overdue_condition(b, as_of: date):
    # DOMAIN §3: overdue as of D when D > due date and outstanding > 0.
    return sa.and_(b.c.due_on < as_of, b.c.outstanding_fen > 0)


def counterparty_position(counterparty_id: int, as_of: date) -> Position:
    b = ledger_queries.outstanding_items(
        as_of, ledger_queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    overdue = _overdue_condition(b, as_of)
    row = db.session.execute(
        sa.select(
            sa.func.sum(b.c.outstanding_fen),
            sa.func.sum(sa.case((overdue, b.c.outstanding_fen), else_=0)),
            sa.func.min(sa.case((overdue, b.c.due_on))),
        )
    ).one()
    oldest = row[2]
    if isinstance(oldest, str):  # SQLite returns a CASE of dates as text
        oldest = date.fromisoformat(oldest)
    credit = ledger_queries.unapplied_credit(as_of, counterparty_id).get(counterparty_id, 0)
    return Position(
        outstanding=from_fen(int(row[0] or 0)),
        overdue=from_fen(int(row[1] or 0)),
        oldest_due_on=oldest,
        days_overdue=(as_of - oldest).days if oldest else 0,
        unapplied_credit=from_fen(credit),
    )


def balances_by_counterparty(ids: list[int], as_of: date) -> dict[int, tuple[Decimal, Decimal]]:
    """{counterparty id: (outstanding, overdue)} for a page of counterparties."""
    if not ids:
        return {}
    b = ledger_queries.outstanding_items(as_of)
    overdue = _overdue_condition(b, as_of)
    query = (
        sa.select(
            b.c.counterparty_id,
            sa.func.sum(b.c.outstanding_fen),
            sa.func.sum(sa.case((overdue, b.c.outstanding_fen), else_=0)),
        )
        .where(b.c.counterparty_id.in_(ids))
        .group_by(b.c.counterparty_id)
    )
    return {
        row[0]: (from_fen(int(row[1] or 0)), from_fen(int(row[2] or 0)))
        for row in db.session.execute(query)
    }


# ---------------------------------------------------------------------------------------------
# Progress against the target (清欠目标)


def recovered_since_opening(case_ids: list[int], as_of: date) -> dict[int, Decimal]:
    """{case id: receipts of its counterparty dated from the case's opening to as_of}."""
    if not case_ids:
        return {}
    cases_t = RecoveryCase.__table__
    query = (
        sa.select(cases_t.c.id, sa.func.sum(fen(receipts_t.c.amount)))
        .join(
            receipts_t,
            sa.and_(
                receipts_t.c.counterparty_id == cases_t.c.counterparty_id,
                receipts_t.c.received_on >= cases_t.c.opened_on,
                receipts_t.c.received_on <= as_of,
            ),
        )
        .where(cases_t.c.id.in_(case_ids))
        .group_by(cases_t.c.id)
    )
    return {row[0]: from_fen(int(row[1] or 0)) for row in db.session.execute(query)}


def percent_of(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """part / whole in percent, one decimal, half up (None without a positive target)."""
    if not whole or whole <= 0:
        return None
    return (Decimal(to_fen(part)) * 100 / Decimal(to_fen(whole))).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def case_progress(case: RecoveryCase, as_of: date) -> dict:
    """Receipts of the counterparty dated opened_on..as_of against the case's target, and
    what the counterparty still owes as of the date."""
    recovered = recovered_since_opening([case.id], as_of).get(case.id, from_fen(0))
    position = counterparty_position(case.counterparty_id, as_of)
    target = case.target_amount
    percent = percent_of(recovered, target)
    return {
        "as_of": as_of,
        "recovered": recovered,
        "target": target,
        "target_date": case.target_date,
        "percent": percent,
        # For a <progress> bar: never more than full.
        "bar": min(percent, Decimal(100)) if percent is not None else None,
        "remaining": max(target - recovered, from_fen(0)) if target is not None else None,
        "outstanding": position.outstanding,
        "overdue": position.overdue,
        "days_overdue": position.days_overdue,
        "late": bool(
            case.target_date and as_of > case.target_date and target and recovered < target
        ),
    }


# ---------------------------------------------------------------------------------------------
# Automatic proposals


@dataclass
class ProposalRow:
    counterparty_id: int
    code: str
    name: str
    responsible: str | None
    overdue: Decimal
    oldest_due_on: date
    days_overdue: int
    by_amount: bool
    by_age: bool


def proposals_query(
    as_of: date,
    min_overdue: Decimal,
    min_days: int,
    visible_to: int | None = None,
    counterparty_id: int | None = None,
):
    """Counterparties whose overdue amount is at least ``min_overdue`` or whose oldest overdue
    item is at least ``min_days`` past due as of the date, and which have no open case."""
    b = ledger_queries.outstanding_items(as_of)
    cases_t = RecoveryCase.__table__
    overdue_fen = sa.func.sum(b.c.outstanding_fen)
    oldest = sa.func.min(b.c.due_on)
    latest_old_due = as_of - timedelta(days=min_days)
    sums = (
        sa.select(
            b.c.counterparty_id.label("counterparty_id"),
            overdue_fen.label("overdue_fen"),
            oldest.label("oldest_due_on"),
        )
        .where(_overdue_condition(b, as_of))
        .where(
            b.c.counterparty_id.not_in(
                sa.select(cases_t.c.counterparty_id).where(cases_t.c.status != "closed")
            )
        )
        .group_by(b.c.counterparty_id)
        .having(sa.or_(overdue_fen >= to_fen(min_overdue), oldest <= latest_old_due))
    )
    if visible_to is not None:
        sums = sums.where(b.c.counterparty_id.in_(visible_counterparty_ids(visible_to)))
    if counterparty_id is not None:
        sums = sums.where(b.c.counterparty_id == counterparty_id)
    sums = sums.subquery("overdue_sums")
    cp, users = Counterparty.__table__, User.__table__
    return (
        sa.select(
            sums.c.counterparty_id,
            cp.c.code,
            cp.c.name,
            users.c.display_name.label("responsible"),
            sums.c.overdue_fen,
            sums.c.oldest_due_on,
        )
        .join(cp, cp.c.id == sums.c.counterparty_id)
        .outerjoin(users, users.c.id == cp.c.responsible_id)
        .order_by(sums.c.overdue_fen.desc(), cp.c.code)
    )


def proposal_rows(query, as_of: date, min_overdue: Decimal, min_days: int) -> list[ProposalRow]:
    rows = []
    for row in db.session.execute(query):
        oldest = row.oldest_due_on
        if isinstance(oldest, str):
            oldest = date.fromisoformat(oldest)
        overdue = from_fen(int(row.overdue_fen))
        days = (as_of - oldest).days
        rows.append(
            ProposalRow(
                counterparty_id=row.counterparty_id,
                code=row.code,
                name=row.name,
                responsible=row.responsible,
                overdue=overdue,
                oldest_due_on=oldest,
                days_overdue=days,
                by_amount=overdue >= min_overdue,
                by_age=days >= min_days,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# The case list


@dataclass
class CaseFilter:
    status: str | None = None  # a status, "active" (not closed, the default) or "all"
    assignee: str | None = None  # a user id, "none" or None
    strategy_kind: str | None = None
    counterparty_id: int | None = None
    visible_to: int | None = None

    @classmethod
    def from_args(cls, args) -> CaseFilter:
        from recovery.cases.models import CASE_STATUSES, STRATEGY_KINDS

        status = args.get("status") or "active"
        if status not in (*CASE_STATUSES, "active", "all"):
            status = "active"
        assignee = args.get("assignee") or None
        if assignee is not None and assignee != "none" and not assignee.isdigit():
            assignee = None
        kind = args.get("strategy") or None
        if kind not in STRATEGY_KINDS:
            kind = None
        counterparty = args.get("counterparty_id", "")
        return cls(
            status=status,
            assignee=assignee,
            strategy_kind=kind,
            counterparty_id=int(counterparty) if counterparty.isdigit() else None,
        )

    def to_args(self) -> dict[str, str]:
        args = {}
        if self.status and self.status != "active":
            args["status"] = self.status
        if self.assignee:
            args["assignee"] = self.assignee
        if self.strategy_kind:
            args["strategy"] = self.strategy_kind
        if self.counterparty_id:
            args["counterparty_id"] = str(self.counterparty_id)
        return args


def visible_case_condition(user_id: int):
    """A sales user works the cases of counterparties they may see, and cases assigned to them."""
    return sa.or_(
        RecoveryCase.counterparty_id.in_(visible_counterparty_ids(user_id)),
        RecoveryCase.assignee_id == user_id,
    )


def case_list_query(case_filter: CaseFilter):
    query = sa.select(RecoveryCase).join(
        Counterparty, Counterparty.id == RecoveryCase.counterparty_id
    )
    if case_filter.status == "active":
        query = query.where(RecoveryCase.status != "closed")
    elif case_filter.status and case_filter.status != "all":
        query = query.where(RecoveryCase.status == case_filter.status)
    if case_filter.assignee == "none":
        query = query.where(RecoveryCase.assignee_id.is_(None))
    elif case_filter.assignee:
        query = query.where(RecoveryCase.assignee_id == int(case_filter.assignee))
    if case_filter.strategy_kind:
        query = query.where(
            RecoveryCase.id.in_(
                sa.select(Strategy.case_id).where(
                    Strategy.kind == case_filter.strategy_kind,
                    Strategy.status.in_((*LIVE_STRATEGY_STATUSES, "completed")),
                )
            )
        )
    if case_filter.counterparty_id:
        query = query.where(RecoveryCase.counterparty_id == case_filter.counterparty_id)
    if case_filter.visible_to is not None:
        query = query.where(visible_case_condition(case_filter.visible_to))
    return query.order_by(RecoveryCase.opened_on.desc(), RecoveryCase.id.desc())


def strategy_kinds_by_case(case_ids: list[int]) -> dict[int, list[Strategy]]:
    """The strategies (not cancelled) of a page of cases, in one query."""
    if not case_ids:
        return {}
    result: dict[int, list[Strategy]] = {}
    for strategy in db.session.scalars(
        sa.select(Strategy)
        .where(Strategy.case_id.in_(case_ids), Strategy.status != "cancelled")
        .order_by(Strategy.id)
    ):
        result.setdefault(strategy.case_id, []).append(strategy)
    return result


def open_case_for(counterparty_id: int) -> RecoveryCase | None:
    return db.session.scalar(
        sa.select(RecoveryCase).where(
            RecoveryCase.counterparty_id == counterparty_id, RecoveryCase.status != "closed"
        )
    )
