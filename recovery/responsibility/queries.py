"""Reads of the responsibility screens, in SQL: history, hand-overs, debts needing a leader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from recovery.auth.models import User
from recovery.cases.models import RecoveryCase, Strategy
from recovery.core.money import from_fen, to_fen
from recovery.core.pagination import Page, paginate
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.parties.models import Counterparty
from recovery.responsibility.models import Handover, ResponsibilityChange
from recovery.settings.services import get_setting

_LOADED = (
    selectinload(ResponsibilityChange.from_user),
    selectinload(ResponsibilityChange.to_user),
    selectinload(ResponsibilityChange.approved_by),
    selectinload(ResponsibilityChange.item),
)
_NEWEST_FIRST = (ResponsibilityChange.effective_at.desc(), ResponsibilityChange.id.desc())


def counterparty_changes(counterparty_id: int) -> list[ResponsibilityChange]:
    """Changes of the counterparty's own seats (first-responsible person and leader)."""
    return list(
        db.session.scalars(
            sa.select(ResponsibilityChange)
            .where(
                ResponsibilityChange.counterparty_id == counterparty_id,
                ResponsibilityChange.item_id.is_(None),
            )
            .options(*_LOADED)
            .order_by(*_NEWEST_FIRST)
        )
    )


def item_changes_page(counterparty_id: int, page: int) -> Page:
    """Changes of the first-responsible person of the counterparty's items, newest first."""
    query = (
        sa.select(ResponsibilityChange)
        .where(
            ResponsibilityChange.counterparty_id == counterparty_id,
            ResponsibilityChange.item_id.is_not(None),
        )
        .options(*_LOADED)
        .order_by(*_NEWEST_FIRST)
    )
    return paginate(query, page)


def item_changes(item_id: int) -> list[ResponsibilityChange]:
    return list(
        db.session.scalars(
            sa.select(ResponsibilityChange)
            .where(ResponsibilityChange.item_id == item_id)
            .options(*_LOADED)
            .order_by(*_NEWEST_FIRST)
        )
    )


def first_holder(changes: list[ResponsibilityChange], role: str, current_id: int | None):
    """Who held the seat when the record was created: the ``from`` of the earliest change of
    that seat, or the current holder when it never changed (creation is not a change)."""
    seat = [c for c in changes if c.role == role]
    if seat:
        return seat[-1].from_user
    return db.session.get(User, current_id) if current_id else None


def responsible_at(counterparty_id, before, current=None):
    """SQL: the counterparty's first-responsible person just before the moment ``before``
    (both SQL expressions, e.g. correlated columns of an outer query; moments naive UTC).

    The ``to`` of the latest counterparty-level change effective before then; before the
    first change, that change's ``from`` (creation is not a change); with no change at all,
    ``current`` (default: the counterparty's responsible_id now). Changes of items' own
    persons and of leaders do not count."""

    def seat():
        changes = ResponsibilityChange.__table__.alias()
        condition = sa.and_(
            changes.c.counterparty_id == counterparty_id,
            changes.c.item_id.is_(None),
            changes.c.role == "responsible",
        )
        return changes, condition

    latest, latest_seat = seat()
    latest_to = (
        sa.select(latest.c.to_user_id)
        .where(latest_seat, latest.c.effective_at < before)
        .order_by(latest.c.effective_at.desc(), latest.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    earlier, earlier_seat = seat()
    changed_before = sa.exists().where(earlier_seat, earlier.c.effective_at < before)
    first, first_seat = seat()
    first_from = (
        sa.select(first.c.from_user_id)
        .where(first_seat)
        .order_by(first.c.effective_at, first.c.id)
        .limit(1)
        .scalar_subquery()
    )
    ever, ever_seat = seat()
    ever_changed = sa.exists().where(ever_seat)
    if current is None:
        cp = Counterparty.__table__.alias()
        current = sa.select(cp.c.responsible_id).where(cp.c.id == counterparty_id).scalar_subquery()
    # A change may hand the seat to nobody: branch on existence, not on a NULL holder.
    return sa.case(
        (changed_before, latest_to),
        (ever_changed, first_from),
        else_=current,
    )


def handovers_page(page: int) -> Page:
    query = (
        sa.select(Handover)
        .options(
            selectinload(Handover.from_user),
            selectinload(Handover.to_user),
            selectinload(Handover.approved_by),
        )
        .order_by(Handover.created_at.desc(), Handover.id.desc())
    )
    return paginate(query, page)


def handover_changes_page(handover_id: int, page: int) -> Page:
    """The counterparties a completed hand-over moved (its item rows are counted, not listed)."""
    query = (
        sa.select(ResponsibilityChange)
        .where(
            ResponsibilityChange.handover_id == handover_id,
            ResponsibilityChange.item_id.is_(None),
        )
        .options(selectinload(ResponsibilityChange.counterparty))
        .order_by(ResponsibilityChange.id)
    )
    return paginate(query, page)


# ---------------------------------------------------------------------------------------------
# Debts that need a leader (第十条)


@dataclass(frozen=True)
class LeaderNeed:
    counterparty_id: int
    code: str
    name: str
    responsible: str | None
    outstanding: Decimal
    oldest_due_on: date | None
    days_overdue: int | None
    large: bool
    long_aged: bool
    difficult: bool


def difficult_counterparties():
    """A SELECT of counterparty ids whose open case is referred to legal or has chosen
    litigation (a litigation strategy not rejected or cancelled)."""
    litigation = (
        sa.select(Strategy.id)
        .where(
            Strategy.case_id == RecoveryCase.id,
            Strategy.kind == "litigation",
            Strategy.status.not_in(("rejected", "cancelled")),
        )
        .exists()
    )
    return sa.select(RecoveryCase.counterparty_id).where(
        RecoveryCase.status != "closed",
        sa.or_(RecoveryCase.status == "referred", litigation),
    )


def leader_thresholds() -> tuple[Decimal, int]:
    return get_setting("cases.leader_amount"), int(get_setting("cases.leader_days"))


def needing_leader(as_of: date, page: int, per_page: int = 50) -> Page:
    """Counterparties without a leader whose debt is large (outstanding as of ``as_of`` ≥
    cases.leader_amount), long-aged (oldest overdue item ≥ cases.leader_days past due) or
    difficult; the largest first."""
    amount, days = leader_thresholds()
    balances = ledger_queries.outstanding_items(as_of)
    is_open = balances.c.outstanding_fen > 0
    overdue_due = sa.case((sa.and_(is_open, balances.c.due_on < as_of), balances.c.due_on))
    per_counterparty = (
        sa.select(
            balances.c.counterparty_id,
            sa.func.sum(sa.case((is_open, balances.c.outstanding_fen), else_=0)).label("fen"),
            sa.func.min(overdue_due).label("oldest_due_on"),
        )
        .group_by(balances.c.counterparty_id)
        .subquery("per_counterparty")
    )
    cp = Counterparty.__table__
    users = User.__table__
    difficult = cp.c.id.in_(difficult_counterparties())
    large = per_counterparty.c.fen >= to_fen(amount)
    long_aged = per_counterparty.c.oldest_due_on <= as_of - timedelta(days=days)
    fen = sa.func.coalesce(per_counterparty.c.fen, 0)
    query = (
        sa.select(
            cp.c.id,
            cp.c.code,
            cp.c.name,
            users.c.display_name.label("responsible"),
            fen.label("fen"),
            per_counterparty.c.oldest_due_on,
            sa.case((large, True), else_=False).label("large"),
            sa.case((long_aged, True), else_=False).label("long_aged"),
            sa.case((difficult, True), else_=False).label("difficult"),
        )
        .select_from(cp)
        .outerjoin(per_counterparty, per_counterparty.c.counterparty_id == cp.c.id)
        .outerjoin(users, users.c.id == cp.c.responsible_id)
        .where(cp.c.leader_id.is_(None), sa.or_(large, long_aged, difficult))
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    number = max(1, page or 1)
    rows = db.session.execute(
        query.order_by(fen.desc(), cp.c.code).limit(per_page).offset((number - 1) * per_page)
    ).all()
    needs = [
        LeaderNeed(
            counterparty_id=r.id,
            code=r.code,
            name=r.name,
            responsible=r.responsible,
            outstanding=from_fen(r.fen),
            oldest_due_on=r.oldest_due_on,
            days_overdue=(as_of - r.oldest_due_on).days if r.oldest_due_on else None,
            large=bool(r.large),
            long_aged=bool(r.long_aged),
            difficult=bool(r.difficult),
        )
        for r in rows
    ]
    return Page(items=needs, number=number, per_page=per_page, total=total or 0)
