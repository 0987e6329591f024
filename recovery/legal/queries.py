"""Reads of the legal domain, in SQL: legal's page, the suits by stage, the items of filed
suits (limitation reads them), and the referral decisions a case owner is told about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.cases.models import RecoveryCase
from recovery.core.money import from_fen
from recovery.core.sqltime import as_date
from recovery.extensions import db
from recovery.ledger.models import Item, Receipt
from recovery.legal.models import (
    STAGES,
    Hearing,
    Lawsuit,
    LawsuitRecovery,
    Referral,
    ReferralDecision,
    ReferralItem,
)
from recovery.parties.models import Counterparty

# How long an accepted or declined referral stays on its owner's worklist.
NOTICE_DAYS = 14


def fen(column):
    return sa.type_coerce(column, sa.BigInteger)


def suit_items():
    """SELECT (item_id, filed_on, lawsuit_id) of every item claimed in a filed suit: filing
    interrupts limitation for those items (DOMAIN §3)."""
    return (
        sa.select(
            ReferralItem.item_id.label("item_id"),
            Lawsuit.filed_on.label("filed_on"),
            Lawsuit.id.label("lawsuit_id"),
        )
        .join(Lawsuit, Lawsuit.referral_id == ReferralItem.referral_id)
        .where(ReferralItem.claimed.is_(True))
    )


def _first_hearing():
    return (
        sa.select(sa.func.min(Hearing.held_on))
        .where(Hearing.lawsuit_id == Lawsuit.id, Hearing.cancelled.is_(False))
        .correlate(Lawsuit)
        .scalar_subquery()
    )


def _recovered_fen(as_of: date | None = None):
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(fen(Receipt.amount)), 0))
        .join(LawsuitRecovery, LawsuitRecovery.receipt_id == Receipt.id)
        .where(LawsuitRecovery.lawsuit_id == Lawsuit.id)
    )
    if as_of is not None:
        query = query.where(Receipt.received_on <= as_of)
    return query.correlate(Lawsuit).scalar_subquery()


def stage_on(as_of: date):
    """The stage a suit had reached on ``as_of``, from the dates of its events (a hearing
    counts from the day it is held)."""
    return sa.case(
        (Lawsuit.closed_on <= as_of, "closed"),
        (Lawsuit.enforcement_on <= as_of, "enforcement"),
        (Lawsuit.judgment_on <= as_of, "judgment"),
        (_first_hearing() <= as_of, "hearing"),
        (Lawsuit.preservation_on <= as_of, "preservation"),
        else_="filed",
    )


@dataclass
class StageRow:
    stage: str
    count: int
    amount: Decimal


def lawsuits_by_stage(as_of: date, department_id: int | None = None) -> list[StageRow]:
    """Suits filed on or before ``as_of`` by the stage reached that day: how many, and the
    amount at stake — the award (principal + interest + costs) once a judgment is given by
    then, else the claim (principal + interest), less what enforcement recovered by then;
    nothing for a suit closed by then.
    ``department_id``: suits against counterparties of that department. Every stage is
    listed, in order, zeros included."""
    judged = Lawsuit.judgment_on <= as_of
    gross = sa.case(
        (
            judged,
            sa.func.coalesce(fen(Lawsuit.awarded_principal), 0)
            + sa.func.coalesce(fen(Lawsuit.awarded_interest), 0)
            + sa.func.coalesce(fen(Lawsuit.awarded_costs), 0),
        ),
        else_=fen(Lawsuit.claimed_principal) + fen(Lawsuit.claimed_interest),
    )
    stake = sa.case((Lawsuit.closed_on <= as_of, 0), else_=gross - _recovered_fen(as_of))
    inner = sa.select(stage_on(as_of).label("stage"), stake.label("stake")).where(
        Lawsuit.filed_on <= as_of
    )
    if department_id is not None:
        inner = inner.join(Counterparty, Counterparty.id == Lawsuit.counterparty_id).where(
            Counterparty.department_id == department_id
        )
    inner = inner.subquery("suits")
    rows = {
        stage: (int(count), int(total or 0))
        for stage, count, total in db.session.execute(
            sa.select(inner.c.stage, sa.func.count(), sa.func.sum(inner.c.stake)).group_by(
                inner.c.stage
            )
        )
    }
    return [
        StageRow(stage, rows.get(stage, (0, 0))[0], from_fen(rows.get(stage, (0, 0))[1]))
        for stage in STAGES
    ]


# ---------------------------------------------------------------------------------------------
# Who sees what


def visible_condition(user_id: int | None, counterparty_column, case_column):
    """A sales user (``user_id``) sees the referrals and suits of the counterparties they are
    responsible for (or hold items of) and of the cases assigned to them; None: everything."""
    if user_id is None:
        return sa.true()
    own = sa.select(Counterparty.id).where(Counterparty.responsible_id == user_id)
    own_items = sa.select(Item.counterparty_id).where(Item.responsible_id == user_id)
    assigned = sa.select(RecoveryCase.id).where(RecoveryCase.assignee_id == user_id)
    return sa.or_(
        counterparty_column.in_(own),
        counterparty_column.in_(own_items),
        case_column.in_(assigned),
    )


# ---------------------------------------------------------------------------------------------
# Legal's page


def referrals_in(statuses: tuple[str, ...], user_id: int | None, *, without_suit=False):
    query = (
        sa.select(Referral)
        .where(
            Referral.status.in_(statuses),
            visible_condition(user_id, Referral.counterparty_id, Referral.case_id),
        )
        .order_by(sa.func.coalesce(Referral.submitted_at, Referral.created_at), Referral.id)
    )
    if without_suit:
        query = query.where(Referral.id.not_in(sa.select(Lawsuit.referral_id)))
    return db.session.scalars(query).all()


@dataclass
class SuitRow:
    lawsuit: Lawsuit
    next_hearing: date | None
    recovered: Decimal


def suit_rows(user_id: int | None, today: date, *, closed: bool = False, limit: int = 200):
    """Suits not closed (or closed, most recent first), with the next hearing from today on
    and what enforcement recovered so far."""
    next_hearing = (
        sa.select(sa.func.min(Hearing.held_on))
        .where(
            Hearing.lawsuit_id == Lawsuit.id,
            Hearing.cancelled.is_(False),
            Hearing.held_on >= today,
        )
        .correlate(Lawsuit)
        .scalar_subquery()
    )
    stage_order = sa.case({stage: index for index, stage in enumerate(STAGES)}, value=Lawsuit.stage)
    query = sa.select(Lawsuit, next_hearing.label("next_hearing"), _recovered_fen().label("rec"))
    query = query.where(visible_condition(user_id, Lawsuit.counterparty_id, Lawsuit.case_id))
    if closed:
        query = query.where(Lawsuit.stage == "closed").order_by(
            Lawsuit.closed_on.desc(), Lawsuit.id.desc()
        )
    else:
        query = query.where(Lawsuit.stage != "closed").order_by(
            stage_order, Lawsuit.filed_on, Lawsuit.id
        )
    return [
        SuitRow(row[0], as_date(row.next_hearing), from_fen(int(row.rec or 0)))
        for row in db.session.execute(query.limit(limit))
    ]


def lawsuit_for_referral(referral_id: int) -> Lawsuit | None:
    return db.session.scalar(sa.select(Lawsuit).where(Lawsuit.referral_id == referral_id))


def for_case(case_id: int) -> tuple[Referral | None, Lawsuit | None]:
    """The case's latest referral and its suit (for the case page)."""
    referral = db.session.scalar(
        sa.select(Referral).where(Referral.case_id == case_id).order_by(Referral.id.desc()).limit(1)
    )
    if referral is None:
        return None, None
    return referral, lawsuit_for_referral(referral.id)


# ---------------------------------------------------------------------------------------------
# The case owner's worklist


@dataclass
class Notice:
    referral: Referral
    decision: ReferralDecision | None


def notices_for(user, now: datetime) -> list[Notice]:
    """Referrals the user prepared, sent or whose case they work that legal returned (until
    sent again) or accepted or declined in the last NOTICE_DAYS days."""
    since = now - timedelta(days=NOTICE_DAYS)
    owned = sa.or_(
        Referral.created_by_id == user.id,
        Referral.submitted_by_id == user.id,
        Referral.case_id.in_(sa.select(RecoveryCase.id).where(RecoveryCase.assignee_id == user.id)),
    )
    latest = (
        sa.select(sa.func.max(ReferralDecision.id))
        .where(ReferralDecision.referral_id == Referral.id)
        .correlate(Referral)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Referral, ReferralDecision)
        .outerjoin(ReferralDecision, ReferralDecision.id == latest)
        .where(
            owned,
            sa.or_(
                Referral.status == "returned",
                sa.and_(
                    Referral.status.in_(("accepted", "declined")), Referral.decided_at >= since
                ),
            ),
        )
        .order_by(Referral.decided_at.desc(), Referral.id.desc())
    ).all()
    return [Notice(referral, decision) for referral, decision in rows]
