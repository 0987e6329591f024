"""Reads for credit control, in SQL: the figures the hold rules need per counterparty
(aggregates on indexed columns), the holds and exceptions lists, a counterparty's panel.

The figures read the stored open amount of the open items through the partial index
``ix_items_open_counterparty`` (counterparty_id, due_on, open_amount, …): one index range per
counterparty, or one pass over the open items for everybody (``figures_for(as_of)``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.activities.models import Promise
from recovery.activities.promises import current, judged_promises
from recovery.auth.models import Department
from recovery.core import bulk
from recovery.core.money import from_fen
from recovery.core.pagination import PER_PAGE, Page
from recovery.credit import rules
from recovery.credit.models import CreditException, CreditGroup, CreditGroupMember, CreditStatus
from recovery.extensions import db
from recovery.ledger.models import Item
from recovery.legal.models import Lawsuit
from recovery.parties.models import Counterparty

items_t = Item.__table__
parties_t = Counterparty.__table__
promises_t = Promise.__table__
lawsuits_t = Lawsuit.__table__
groups_t = CreditGroup.__table__
members_t = CreditGroupMember.__table__
status_t = CreditStatus.__table__
exceptions_t = CreditException.__table__

CHUNK = 500
# A literal 0, so that "open_amount <> 0" matches the partial indexes' predicate.
ZERO = sa.literal_column("0")


def fen(column):
    return sa.type_coerce(column, sa.BigInteger)


def _sum(expression):
    # BIGINT: PostgreSQL's sum(bigint) is numeric.
    return sa.cast(sa.func.coalesce(sa.func.sum(expression), 0), sa.BigInteger)


def _chunks(ids):
    if ids is None:
        yield None
        return
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _where_cp(query, column, chunk):
    return query if chunk is None else query.where(bulk.one_of(column, chunk))


def _item_sums(as_of: date, chunk):
    c = items_t.c
    open_fen = fen(c.open_amount)
    recognized = c.recognized_on <= as_of
    overdue = sa.and_(recognized, c.due_on < as_of)
    not_due = sa.and_(recognized, c.due_on >= as_of)
    query = (
        sa.select(
            c.counterparty_id,
            _sum(sa.case((recognized, open_fen), else_=0)).label("exposure"),
            _sum(sa.case((overdue, open_fen), else_=0)).label("overdue"),
            sa.type_coerce(sa.func.min(sa.case((overdue, c.due_on))), sa.Date).label("oldest"),
            sa.type_coerce(sa.func.min(sa.case((not_due, c.due_on))), sa.Date).label("next_due"),
            sa.type_coerce(
                sa.func.min(sa.case((c.recognized_on > as_of, c.recognized_on))), sa.Date
            ).label("next_rec"),
        )
        .where(c.open_amount != ZERO)
        .group_by(c.counterparty_id)
    )
    return _where_cp(query, c.counterparty_id, chunk)


def _groups_of(chunk):
    """{counterparty_id: (group_id, code, limit fen)} of current members of active groups."""
    query = (
        sa.select(
            members_t.c.counterparty_id,
            groups_t.c.id,
            groups_t.c.code,
            fen(groups_t.c.credit_limit),
        )
        .join(groups_t, groups_t.c.id == members_t.c.group_id)
        .where(members_t.c.left_at.is_(None), groups_t.c.active.is_(True))
    )
    query = _where_cp(query, members_t.c.counterparty_id, chunk)
    return {
        r[0]: (r[1], r[2], None if r[3] is None else int(r[3])) for r in db.session.execute(query)
    }


def group_exposures(as_of: date, group_ids) -> dict[int, int]:
    """{group_id: fen} the current members' total exposure as of the date."""
    group_ids = sorted(set(group_ids))
    if not group_ids:
        return {}
    c = items_t.c
    query = (
        sa.select(
            members_t.c.group_id,
            _sum(sa.case((c.recognized_on <= as_of, fen(c.open_amount)), else_=0)),
        )
        .select_from(members_t)
        .join(items_t, c.counterparty_id == members_t.c.counterparty_id)
        .where(
            members_t.c.left_at.is_(None),
            c.open_amount != ZERO,
            bulk.one_of(members_t.c.group_id, group_ids),
        )
        .group_by(members_t.c.group_id)
    )
    found = {gid: int(total) for gid, total in db.session.execute(query)}
    return {gid: found.get(gid, 0) for gid in group_ids}


def _lawsuits(chunk):
    query = (
        sa.select(lawsuits_t.c.counterparty_id, sa.func.count())
        .where(lawsuits_t.c.stage != "closed")
        .group_by(lawsuits_t.c.counterparty_id)
    )
    return dict(db.session.execute(_where_cp(query, lawsuits_t.c.counterparty_id, chunk)).all())


def _unkept_promises(as_of: date, window_days: int, chunk):
    """Promises made by the date, due from (date − window) on, not made good by the date
    (activities.promises.judged_promises): rows with counterparty_id, due_on and status
    ('broken' or 'open')."""
    query = current(judged_promises(as_of, only_not_made_good=True), as_of).where(
        promises_t.c.due_on >= as_of - timedelta(days=window_days)
    )
    return db.session.execute(_where_cp(query, promises_t.c.counterparty_id, chunk)).all()


def _count_promise(f: rules.Figures, status: str, due_on: date) -> None:
    """A promise not made good: broken (the hold rule counts it) or still open (its due date
    is when the status may change)."""
    if status == "broken":
        f.broken_promises += 1
        if f.last_broken_due is None or due_on > f.last_broken_due:
            f.last_broken_due = due_on
    elif f.next_promise_due is None or due_on < f.next_promise_due:
        f.next_promise_due = due_on


def _limits(chunk):
    query = sa.select(parties_t.c.id, fen(parties_t.c.credit_limit))
    if chunk is None:
        query = query.where(parties_t.c.credit_limit.is_not(None))
    query = _where_cp(query, parties_t.c.id, chunk)
    return {cp: None if limit is None else int(limit) for cp, limit in db.session.execute(query)}


def figures_for(
    as_of: date, policy: rules.Policy, counterparty_ids=None
) -> dict[int, rules.Figures]:
    """{counterparty_id: Figures} as of the date: for the given counterparties (every one of
    them, with zero figures when nothing is open), or — ``None`` — for every counterparty that
    has anything the rules look at (open items, a limit, a group, a lawsuit, a promise)."""
    out: dict[int, rules.Figures] = {}
    if counterparty_ids is not None:
        for cp in counterparty_ids:
            out[cp] = rules.Figures()

    def get(cp):
        figures = out.get(cp)
        if figures is None:
            figures = out[cp] = rules.Figures()
        return figures

    groups: dict[int, tuple] = {}
    for chunk in _chunks(counterparty_ids):
        for row in db.session.execute(_item_sums(as_of, chunk)):
            f = get(row.counterparty_id)
            f.exposure, f.overdue = int(row.exposure), int(row.overdue)
            f.oldest_due, f.next_due, f.next_recognition = row.oldest, row.next_due, row.next_rec
        for cp, limit in _limits(chunk).items():
            get(cp).limit = limit
        groups.update(_groups_of(chunk))
        if policy.lawsuit_on:
            for cp, count in _lawsuits(chunk).items():
                get(cp).open_lawsuits = int(count)
        if policy.broken_promise_on:
            for row in _unkept_promises(as_of, policy.broken_promise_days, chunk):
                _count_promise(get(row.counterparty_id), row.status, row.due_on)
    exposures = group_exposures(as_of, {g[0] for g in groups.values()})
    for cp, (gid, code, limit) in groups.items():
        f = get(cp)
        f.group_id, f.group_code, f.group_limit = gid, code, limit
        f.group_exposure = exposures.get(gid, 0)
    return out


def group_member_ids(counterparty_ids) -> set[int]:
    """The counterparties and every current member of the groups they belong to."""
    ids = set(counterparty_ids)
    if not ids:
        return ids
    group_ids = set()
    for chunk in _chunks(ids):
        group_ids |= {g[0] for g in _groups_of(chunk).values()}
    if group_ids:
        ids |= set(
            db.session.scalars(
                sa.select(members_t.c.counterparty_id).where(
                    members_t.c.left_at.is_(None),
                    bulk.one_of(members_t.c.group_id, sorted(group_ids)),
                )
            )
        )
    return ids


# ---------------------------------------------------------------------------------------------
# Exceptions


def exception_rooms(counterparty_ids, as_of: date) -> dict[int, list[rules.ExceptionRoom]]:
    """{counterparty_id: [ExceptionRoom]} of approved exceptions valid on the date, each with
    what supply recognised since its approval day has used of its cap."""
    e = exceptions_t.c
    c = items_t.c
    used = (
        sa.select(_sum(fen(c.amount)))
        .where(c.counterparty_id == e.counterparty_id, c.recognized_on >= e.approved_on)
        .scalar_subquery()
    )
    query = sa.select(
        e.id, e.counterparty_id, fen(e.amount_cap), e.valid_until, used.label("used")
    ).where(e.status == "approved", e.valid_until >= as_of)
    if counterparty_ids is not None:
        query = query.where(bulk.one_of(e.counterparty_id, sorted(set(counterparty_ids))))
    out: dict[int, list[rules.ExceptionRoom]] = defaultdict(list)
    for row in db.session.execute(query):
        out[row.counterparty_id].append(
            rules.ExceptionRoom(row.id, int(row[2]), int(row.used or 0), row.valid_until)
        )
    return out


# ---------------------------------------------------------------------------------------------
# Lists


@dataclass
class HoldRow:
    counterparty_id: int
    code: str
    name: str
    department: str | None
    reasons: list[rules.Reason]
    exposure: Decimal
    overdue: Decimal
    since: object
    evaluated_at: object
    exception: rules.ExceptionRoom | None
    pending_requests: int


def visible_counterparties(user_id: int):
    """A SELECT of the ids of a sales user's accounts (the ledger's rule): the counterparties
    they are responsible for and those of any item they are responsible for."""
    return sa.union(
        sa.select(parties_t.c.id).where(parties_t.c.responsible_id == user_id),
        sa.select(items_t.c.counterparty_id).where(items_t.c.responsible_id == user_id),
    )


def holds_query(
    *,
    department_ids=None,
    rule: str | None = None,
    visible_to: int | None = None,
    counterparty_ids=None,
):
    s = status_t.c
    query = (
        sa.select(
            s.counterparty_id,
            parties_t.c.code,
            parties_t.c.name,
            Department.__table__.c.name.label("department"),
            s.reasons,
            s.exposure,
            s.overdue,
            s.since,
            s.evaluated_at,
        )
        .join(parties_t, parties_t.c.id == s.counterparty_id)
        .outerjoin(Department.__table__, Department.__table__.c.id == parties_t.c.department_id)
        .where(s.on_hold.is_(True))
    )
    if department_ids is not None:
        query = query.where(parties_t.c.department_id.in_(department_ids))
    if rule:
        query = query.where(s.rules.like(f"%,{rule},%"))
    if visible_to is not None:
        query = query.where(s.counterparty_id.in_(visible_counterparties(visible_to)))
    if counterparty_ids is not None:
        query = query.where(s.counterparty_id.in_(counterparty_ids))
    return query


def in_dashboard_scope(scope):
    """For the dashboard (recovery.dashboard.queries.Scope): None for the whole company, else a
    SELECT of the counterparties with open items owned by the scope's departments — the
    dashboard's rule ("a department sees the held counterparties it has open items of")."""
    if scope.whole_company:
        return None
    return sa.select(items_t.c.counterparty_id).where(
        items_t.c.open_amount != ZERO, scope.on(items_t.c.department_id)
    )


def dashboard_hold_totals(scope) -> tuple[int, Decimal, Decimal]:
    """(count, overdue, exposure) of the counterparties on hold in a dashboard scope: the
    figures of dashboard.queries.Holds, from the stored statuses (call
    services.refresh_stale() first)."""
    count, exposure, overdue = hold_totals(counterparty_ids=in_dashboard_scope(scope))
    return count, overdue, exposure


def dashboard_hold_page(as_of: date, scope, page: int = 1) -> Page:
    """The holds of a dashboard scope, a page of HoldRow (with the reasons)."""
    return holds_page(as_of, page, counterparty_ids=in_dashboard_scope(scope))


def holds_page(as_of: date, page: int = 1, **filters) -> Page:
    query = holds_query(**filters).subquery("holds")
    number = max(1, page or 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query)) or 0
    rows = db.session.execute(
        sa.select(query)
        .order_by(query.c.since.desc(), query.c.code)
        .limit(PER_PAGE)
        .offset((number - 1) * PER_PAGE)
    ).all()
    ids = [r.counterparty_id for r in rows]
    rooms = exception_rooms(ids, as_of) if ids else {}
    pending = {}
    if ids:
        pending = dict(
            db.session.execute(
                sa.select(exceptions_t.c.counterparty_id, sa.func.count())
                .where(
                    exceptions_t.c.status == "requested", exceptions_t.c.counterparty_id.in_(ids)
                )
                .group_by(exceptions_t.c.counterparty_id)
            ).all()
        )
    items = [
        HoldRow(
            r.counterparty_id,
            r.code,
            r.name,
            r.department,
            [rules.Reason.from_json(x) for x in (r.reasons or [])],
            r.exposure,
            r.overdue,
            r.since,
            r.evaluated_at,
            max(rooms.get(r.counterparty_id, []), key=lambda e: e.remaining, default=None),
            int(pending.get(r.counterparty_id, 0)),
        )
        for r in rows
    ]
    return Page(items=items, number=number, per_page=PER_PAGE, total=total)


def hold_totals(**filters) -> tuple[int, Decimal, Decimal]:
    """(count, exposure, overdue) of the counterparties on hold (the dashboard's figures)."""
    query = holds_query(**filters).subquery("holds")
    row = db.session.execute(
        sa.select(sa.func.count(), _sum(fen(query.c.exposure)), _sum(fen(query.c.overdue)))
    ).one()
    return int(row[0] or 0), from_fen(int(row[1] or 0)), from_fen(int(row[2] or 0))


def exceptions_query(
    *, status: str | None = None, visible_to: int | None = None, counterparty_id: int | None = None
):
    query = sa.select(CreditException).order_by(CreditException.id.desc())
    if status:
        query = query.where(CreditException.status == status)
    if counterparty_id is not None:
        query = query.where(CreditException.counterparty_id == counterparty_id)
    if visible_to is not None:
        query = query.where(CreditException.counterparty_id.in_(visible_counterparties(visible_to)))
    return query


def is_visible(counterparty_id: int, visible_to: int | None) -> bool:
    if visible_to is None:
        return True
    return (
        db.session.scalar(
            sa.select(sa.literal(1)).where(
                sa.literal(counterparty_id).in_(visible_counterparties(visible_to))
            )
        )
        is not None
    )


# ---------------------------------------------------------------------------------------------
# One counterparty, fast: the same figures as figures_for, from statements built once (no
# expression building or cache-key work per call) — the credit check's path.


def _one_statements():
    c = items_t.c
    cp, as_of = sa.bindparam("cp", type_=sa.Integer), sa.bindparam("as_of", type_=sa.Date)
    open_fen = fen(c.open_amount)
    recognized = c.recognized_on <= as_of
    overdue = sa.and_(recognized, c.due_on < as_of)
    not_due = sa.and_(recognized, c.due_on >= as_of)
    items = sa.select(
        _sum(sa.case((recognized, open_fen), else_=0)).label("exposure"),
        _sum(sa.case((overdue, open_fen), else_=0)).label("overdue"),
        sa.type_coerce(sa.func.min(sa.case((overdue, c.due_on))), sa.Date).label("oldest"),
        sa.type_coerce(sa.func.min(sa.case((not_due, c.due_on))), sa.Date).label("next_due"),
        sa.type_coerce(
            sa.func.min(sa.case((c.recognized_on > as_of, c.recognized_on))), sa.Date
        ).label("next_rec"),
    ).where(c.counterparty_id == cp, c.open_amount != ZERO)
    lawsuits = (
        sa.select(sa.func.count())
        .where(lawsuits_t.c.counterparty_id == cp, lawsuits_t.c.stage != "closed")
        .scalar_subquery()
    )
    party = (
        sa.select(
            fen(parties_t.c.credit_limit).label("limit"),
            groups_t.c.id.label("group_id"),
            groups_t.c.code.label("group_code"),
            fen(groups_t.c.credit_limit).label("group_limit"),
            lawsuits.label("lawsuits"),
        )
        .select_from(parties_t)
        .outerjoin(
            members_t,
            sa.and_(members_t.c.counterparty_id == parties_t.c.id, members_t.c.left_at.is_(None)),
        )
        .outerjoin(
            groups_t, sa.and_(groups_t.c.id == members_t.c.group_id, groups_t.c.active.is_(True))
        )
        .where(parties_t.c.id == cp)
    )
    promises = current(judged_promises(as_of, only_not_made_good=True), as_of).where(
        promises_t.c.counterparty_id == cp,
        promises_t.c.due_on >= sa.bindparam("window_start", type_=sa.Date),
    )
    e = exceptions_t.c
    used = (
        sa.select(_sum(fen(c.amount)))
        .where(c.counterparty_id == e.counterparty_id, c.recognized_on >= e.approved_on)
        .scalar_subquery()
    )
    rooms = sa.select(
        e.id, fen(e.amount_cap).label("cap"), e.valid_until, used.label("used")
    ).where(e.counterparty_id == cp, e.status == "approved", e.valid_until >= as_of)
    group_exposure = (
        sa.select(_sum(sa.case((c.recognized_on <= as_of, fen(c.open_amount)), else_=0)))
        .select_from(members_t)
        .join(items_t, c.counterparty_id == members_t.c.counterparty_id)
        .where(
            members_t.c.left_at.is_(None),
            c.open_amount != ZERO,
            members_t.c.group_id == sa.bindparam("group_id", type_=sa.Integer),
        )
    )
    return items, party, promises, rooms, group_exposure


_ONE = None


def figures_one(
    counterparty_id: int, as_of: date, policy: rules.Policy
) -> tuple[rules.Figures, list[rules.ExceptionRoom]]:
    """(Figures, exception rooms) of one counterparty: figures_for(as_of, policy, [id]) and
    exception_rooms([id], as_of) in four or five prepared-once statements."""
    global _ONE
    if _ONE is None:
        _ONE = _one_statements()
    items, party, promises, rooms, group_exposure = _ONE
    params = {"cp": counterparty_id, "as_of": as_of}
    f = rules.Figures()
    row = db.session.execute(items, params).one_or_none()
    if row is not None and row.exposure is not None:
        f.exposure, f.overdue = int(row.exposure), int(row.overdue)
        f.oldest_due, f.next_due, f.next_recognition = row.oldest, row.next_due, row.next_rec
    row = db.session.execute(party, params).one_or_none()
    if row is not None:
        f.limit = None if row.limit is None else int(row.limit)
        if policy.lawsuit_on:
            f.open_lawsuits = int(row.lawsuits or 0)
        if row.group_id is not None:
            f.group_id, f.group_code = row.group_id, row.group_code
            f.group_limit = None if row.group_limit is None else int(row.group_limit)
            f.group_exposure = int(
                db.session.execute(group_exposure, {**params, "group_id": row.group_id}).scalar()
                or 0
            )
    if policy.broken_promise_on:
        window = {**params, "window_start": as_of - timedelta(days=policy.broken_promise_days)}
        for row in db.session.execute(promises, window):
            _count_promise(f, row.status, row.due_on)
    found = [
        rules.ExceptionRoom(r.id, int(r.cap), int(r.used or 0), r.valid_until)
        for r in db.session.execute(rooms, params)
    ]
    return f, found
