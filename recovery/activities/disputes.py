"""Disputed amounts, in SQL.

A dispute is open as of a date D when it was raised on or before D and was still open then
(not resolved, or resolved after D). The aging view shows "of which disputed" per row: the
open disputes of each item, never more than what is still outstanding on it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.activities.models import Dispute
from recovery.core.money import Money, from_fen
from recovery.extensions import db
from recovery.ledger import queries
from recovery.ledger.queries import fen

disputes_t = Dispute.__table__

DIMENSION_COLUMNS = {
    "counterparty": "counterparty_id",
    "project": "project_id",
    "department": "department_id",
    "responsible": "responsible_id",
}


def open_as_of(as_of: date):
    """The condition: a dispute raised by ``as_of`` and not yet resolved on that date."""
    return sa.and_(
        disputes_t.c.raised_on <= as_of,
        sa.or_(
            disputes_t.c.status == "open",
            disputes_t.c.resolved_on.is_(None),
            disputes_t.c.resolved_on > as_of,
        ),
    )


def _disputed_fen(as_of: date, counterparty_ids=None):
    query = sa.select(
        disputes_t.c.item_id,
        disputes_t.c.counterparty_id,
        sa.func.sum(fen(disputes_t.c.amount)).label("disputed_fen"),
    ).where(open_as_of(as_of))
    if counterparty_ids is not None:
        query = query.where(disputes_t.c.counterparty_id.in_(counterparty_ids))
    return query.group_by(disputes_t.c.item_id, disputes_t.c.counterparty_id)


def disputed_amounts(as_of: date, *, counterparty_ids=None):
    """A SELECT of item_id, counterparty_id, disputed (Decimal): the sum of the disputes open
    as of ``as_of`` per item. Sum it per counterparty by wrapping it in a subquery."""
    inner = _disputed_fen(as_of, counterparty_ids).subquery("disputed")
    return sa.select(
        inner.c.item_id,
        inner.c.counterparty_id,
        sa.type_coerce(inner.c.disputed_fen, Money).label("disputed"),
    )


def disputed_by(
    as_of: date, by: str = "counterparty", item_filter=None
) -> dict[int | None, Decimal]:
    """{aging row key id: disputed} for the aging view grouped ``by`` a dimension, within
    ``item_filter`` (a sales user's scope). Per item, at most its outstanding as of the date."""
    column = DIMENSION_COLUMNS[by]
    balances = queries.outstanding_items(as_of, item_filter)
    disputed = _disputed_fen(as_of).subquery("disputed")
    capped = sa.case(
        (disputed.c.disputed_fen > balances.c.outstanding_fen, balances.c.outstanding_fen),
        else_=disputed.c.disputed_fen,
    )
    rows = db.session.execute(
        sa.select(balances.c[column], sa.func.sum(capped))
        .join(disputed, disputed.c.item_id == balances.c.id)
        .where(balances.c.outstanding_fen > 0)
        .group_by(balances.c[column])
    )
    return {key: from_fen(int(total)) for key, total in rows if total}


def item_disputed(item_id: int, as_of: date, *, excluding: int | None = None) -> Decimal:
    """The sum of an item's disputes open as of a date (optionally leaving one out)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(fen(disputes_t.c.amount)), 0)).where(
        disputes_t.c.item_id == item_id, open_as_of(as_of)
    )
    if excluding is not None:
        query = query.where(disputes_t.c.id != excluding)
    return from_fen(int(db.session.scalar(query)))
