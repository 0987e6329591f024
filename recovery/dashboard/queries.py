"""The dashboard's reads, in SQL: balances as of a date, flows of a period, and the lists
behind every figure (the drill-downs, whose totals are the figures).

The rule for an outstanding amount is the ledger's (DOMAIN §3, recovery/ledger/queries.py):
amount − applications − approved credits dated on or before the date. ``open_balances``
reads it the fast way for a dashboard: only the items with something open — the stored open
amount of the items that have not moved since the date (the partial index ix_items_open),
and the sums of the few that moved later. tests/dashboard/test_queries.py holds it to the
ledger's own totals.

Amounts are summed as integer fen and become Decimal yuan at the end.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from recovery.activities.disputes import open_as_of
from recovery.activities.models import Dispute
from recovery.auth.models import Department
from recovery.core.money import from_fen
from recovery.core.pagination import PER_PAGE, Page
from recovery.core.sqltime import days_between, not_indexed
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger import rules as ledger_rules
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Counterparty

items_t = Item.__table__
apps_t = Application.__table__
adj_t = Adjustment.__table__
receipts_t = Receipt.__table__
parties_t = Counterparty.__table__
disputes_t = Dispute.__table__

fen = ledger_queries.fen
# A literal 0 (not a bound parameter), so that "open_amount <> 0" matches the predicate of the
# partial index ix_items_open on PostgreSQL whatever plan it caches.
ZERO = sa.literal_column("0")


class month_of(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """A date column's month as text YYYY-MM, on SQLite and PostgreSQL."""

    type = sa.String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of)
def _month_of_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_of_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


def money(value) -> Decimal:
    return from_fen(int(value or 0))


# ---------------------------------------------------------------------------------------------
# Scope: the whole company or one department / subsidiary with everything under it


@dataclass(frozen=True)
class Scope:
    department_id: int | None = None
    # The department and its descendants in the tree; None for the whole company.
    department_ids: tuple[int, ...] | None = None
    # Only the items owned by no department (a bar of the aging chart drills down to them).
    no_department: bool = False

    @property
    def whole_company(self) -> bool:
        return self.department_ids is None and not self.no_department

    def on(self, column):
        """The condition on a department_id column (always true for the whole company)."""
        if self.no_department:
            return column.is_(None)
        if self.department_ids is None:
            return sa.true()
        return column.in_(self.department_ids)

    def to_args(self) -> dict[str, str]:
        """Query-string arguments that give this scope back (scope_from_args)."""
        if self.no_department:
            return {"department_id": "none"}
        if self.department_id is None:
            return {}
        args = {"department_id": str(self.department_id)}
        if self.department_ids == (self.department_id,):
            args["exact"] = "1"
        return args


COMPANY = Scope()


def department_children() -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for dept_id, parent_id in db.session.execute(sa.select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    return children


def scope_for(department_id: int | None, *, exact: bool = False) -> Scope:
    """The scope of a department: it and every department or subsidiary below it (``exact``:
    only its own items)."""
    if department_id is None:
        return COMPANY
    if exact:
        return Scope(department_id, (department_id,))
    children = department_children()
    found, queue = [department_id], [department_id]
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in found:
                found.append(child)
                queue.append(child)
    return Scope(department_id, tuple(sorted(found)))


def scope_from_args(args) -> tuple[Scope, bool]:
    """The scope named by query-string arguments, and False when they named no department
    that exists (then: the whole company)."""
    text = (args.get("department_id") or "").strip()
    if not text:
        return COMPANY, True
    if text == "none":
        return Scope(no_department=True), True
    if not text.isdigit() or db.session.get(Department, int(text)) is None:
        return COMPANY, False
    return scope_for(int(text), exact=args.get("exact") == "1"), True


# What the reads of one page have read already (one_reading): several panels ask for the
# same month-ends and the same live flows (snapshots.py: the month to date's recoveries for
# the period, the trend's last point, the month, quarter and year against target), and each
# balance as of a past date the same questions about what moved after it.
_reading: ContextVar[dict | None] = ContextVar("dashboard_reading", default=None)


@contextmanager
def one_reading():
    """Within it, the reads remember what they read (for the reads of one page, with
    nothing written meanwhile); outside, every read asks the database."""
    token = _reading.set({})
    try:
        yield
    finally:
        _reading.reset(token)


def remembered(key, read):
    memo = _reading.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def without_jit() -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction. The page's queries
    each take well under a second, and a query whose estimated cost crosses jit_above_cost
    (correlated subqueries estimated per candidate row do) was compiled for longer than it
    ran: the limitation count spent 2.7 s of its 3 s compiling 123 functions at the
    benchmark's million items. (jit = off in the server's configuration does the same for
    every page.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))


# ---------------------------------------------------------------------------------------------
# Balances as of a date


# Up to this many applications dated after a date, a past balance is read from the stored
# open amounts plus what came later without further ado (the usual case: a recent date).
LATER_APPLICATIONS_CAP = 250_000


def _fewer_applications_after(as_of: date) -> bool:
    """Whether fewer applications are dated after the date than by it: then a past balance
    reads those after it (the open amount plus what came later), else those by it (the
    amount less what came by then) — the same figures (tests/dashboard/test_queries.py runs
    both), from fewer rows. Counted in ix_applications_applied: first up to the cap (nothing
    for today, a month's applications a month back), both sides only beyond it."""
    return remembered(("fewer after", as_of), lambda: _count_applications_after(as_of))


def _count_applications_after(as_of: date) -> bool:
    c = apps_t.c
    later = sa.select(c.applied_on).where(c.applied_on > as_of).limit(LATER_APPLICATIONS_CAP)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(later.subquery("later")))
    if count < LATER_APPLICATIONS_CAP:
        return True
    after, total = db.session.execute(
        sa.select(sa.func.sum(sa.case((c.applied_on > as_of, 1), else_=0)), sa.func.count())
    ).one()
    return 2 * int(after or 0) <= int(total)


def _moved_after(as_of: date) -> bool:
    """Whether any item moved after the date (for today, none: one look at the end of the
    index on the last movement date)."""
    c = items_t.c
    query = sa.select(c.id).where(c.last_movement_on > as_of).limit(1)
    return remembered(("moved after", as_of), lambda: db.session.scalar(query) is not None)


def open_balances(as_of: date, scope: Scope = COMPANY, only_items=None, only_counterparties=None):
    """The open items as of the date, as a subquery (``open_balances_query``)."""
    return open_balances_query(as_of, scope, only_items, only_counterparties).subquery("balances")


def open_balances_query(
    as_of: date, scope: Scope = COMPANY, only_items=None, only_counterparties=None
):
    """Items in scope recognised by ``as_of`` with a non-zero outstanding then (a SELECT of
    id, counterparty_id, department_id, due_on, recognized_on, amount_fen, outstanding_fen).

    Items that have not moved after the date: their stored open amount (read from the
    partial index of open items). Items that moved later (ix_items_moved): their stored open
    amount plus what reduced it after the date — the applications and approved credits
    dated later (the stored open amount is the amount less every application and approved
    credit, so this is the amount less those dated by then). For today the second part is
    empty; a month back it reads the month's applications, not every application of the
    items that moved. Far back, where most applications are later, the amount less the
    reductions dated by the date (the same figure, fewer rows). ``only_items``,
    ``only_counterparties``: a SELECT of item (counterparty) ids to restrict to (e.g. the
    disputed items).
    """
    c = items_t.c
    chosen = sa.and_(
        sa.true() if only_items is None else c.id.in_(only_items),
        sa.true() if only_counterparties is None else c.counterparty_id.in_(only_counterparties),
    )
    stored = sa.select(
        c.id,
        c.counterparty_id,
        c.department_id,
        c.due_on,
        c.recognized_on,
        fen(c.amount).label("amount_fen"),
        fen(c.open_amount).label("outstanding_fen"),
    ).where(
        fen(c.open_amount) != ZERO,
        # Read the whole partial index: nearly every open item was recognised by the date.
        not_indexed(c.recognized_on) <= as_of,
        # Not through an index on the last movement (SQLite would read the whole ledger by
        # ix_items_moved and ix_items_last_movement_on rather than the open items).
        sa.or_(not_indexed(c.last_movement_on).is_(None), not_indexed(c.last_movement_on) <= as_of),
        scope.on(c.department_id),
        chosen,
    )
    if not _moved_after(as_of):
        return stored
    # The items that moved after the date (their last movement is their latest application
    # or approved credit; ix_items_moved), each with its outstanding then, summed per item as
    # BIGINT (PostgreSQL's sum of bigint is numeric).
    moved_later = sa.and_(c.last_movement_on > as_of, scope.on(c.department_id), chosen)
    if _fewer_applications_after(as_of):
        # Their open amount now plus what reduced them after the date: reads only the
        # applications and credits dated after it (none for today, a month's a month back).
        after, sign = (apps_t.c.applied_on > as_of, adj_t.c.dated_on > as_of), 1
        start = fen(c.open_amount)
    else:
        # Far back: their amount less what reduced them by the date (fewer applications).
        after, sign = (apps_t.c.applied_on <= as_of, adj_t.c.dated_on <= as_of), -1
        start = fen(c.amount)
    paid = (
        sa.select(
            apps_t.c.item_id,
            sa.cast(sa.func.sum(fen(apps_t.c.amount)), sa.BigInteger).label("fen"),
        )
        .where(after[0])
        # Grouped by +item_id on SQLite, which would otherwise read every application in
        # item order (ix_applications_item_date) to skip sorting the few it needs.
        .group_by(not_indexed(apps_t.c.item_id))
        .subquery("paid")
    )
    credited = (
        sa.select(
            adj_t.c.item_id,
            sa.cast(sa.func.sum(fen(adj_t.c.amount)), sa.BigInteger).label("fen"),
        )
        .where(adj_t.c.status == "approved", after[1])
        .group_by(adj_t.c.item_id)
        .subquery("credited")
    )
    reductions = sa.func.coalesce(paid.c.fen, 0) + sa.func.coalesce(credited.c.fen, 0)
    outstanding = start + reductions if sign > 0 else start - reductions
    moved = (
        sa.select(
            c.id,
            c.counterparty_id,
            c.department_id,
            c.due_on,
            c.recognized_on,
            fen(c.amount).label("amount_fen"),
            outstanding.label("outstanding_fen"),
        )
        .select_from(items_t)
        .outerjoin(paid, paid.c.item_id == c.id)
        .outerjoin(credited, credited.c.item_id == c.id)
        .where(
            # Few for a recent date (the range of ix_items_moved), while "recognised by the
            # date" holds for nearly all.
            moved_later,
            not_indexed(c.recognized_on) <= as_of,
            outstanding != ZERO,
        )
    )
    return sa.union_all(stored, moved)


@dataclass
class Balances:
    """Receivables as of a date, split both ways (DOMAIN §3)."""

    count: int
    receivables: Decimal
    overdue: Decimal
    due: dict[str, Decimal]
    age: dict[str, Decimal]

    @property
    def current(self) -> Decimal:
        """Not yet due (the bucket "not due")."""
        return self.receivables - self.overdue


def _bucket_index(as_of: date, b):
    """Two CASE chains giving each row its due bucket and age bucket (their index in
    rules.DUE_BUCKETS / AGE_BUCKETS): cheaper per row than a CASE sum per bucket."""
    due_bounds = ledger_rules.due_bucket_bounds(as_of)
    due = sa.case(
        *(
            (b.c.due_on >= due_bounds[name][0], index)
            for index, name in enumerate(ledger_rules.DUE_BUCKETS[:-1])
        ),
        else_=len(ledger_rules.DUE_BUCKETS) - 1,
    )
    age_bounds = ledger_rules.age_bucket_bounds(as_of)
    age = sa.case(
        *(
            (b.c.recognized_on > age_bounds[name][0], index)
            for index, name in enumerate(ledger_rules.AGE_BUCKETS[:-1])
        ),
        else_=len(ledger_rules.AGE_BUCKETS) - 1,
    )
    return due, age


def balances_by_department(as_of: date, scope: Scope = COMPANY) -> dict[int | None, Balances]:
    """Balances per owning department (None: items without one), in one scan: the open
    items grouped by department, due bucket and age bucket, added up per department."""
    b = open_balances(as_of, scope)
    due, age = _bucket_index(as_of, b)
    rows = db.session.execute(
        sa.select(
            b.c.department_id, due, age, sa.func.count(), sa.func.sum(b.c.outstanding_fen)
        ).group_by(b.c.department_id, due, age)
    )
    sums: dict[int | None, dict] = {}
    for dept, due_index, age_index, count, total in rows:
        entry = sums.setdefault(dept, {"count": 0, "due": [0] * 8, "age": [0] * 6})
        entry["count"] += int(count)
        entry["due"][int(due_index)] += int(total or 0)
        entry["age"][int(age_index)] += int(total or 0)
    return {dept: _balances_of(entry) for dept, entry in sums.items()}


def total_balances(parts) -> Balances:
    """The sum of several departments' balances."""
    zero = Decimal("0.00")
    parts = list(parts)
    return Balances(
        count=sum(p.count for p in parts),
        receivables=sum((p.receivables for p in parts), zero),
        overdue=sum((p.overdue for p in parts), zero),
        due={b: sum((p.due[b] for p in parts), zero) for b in ledger_rules.DUE_BUCKETS},
        age={b: sum((p.age[b] for p in parts), zero) for b in ledger_rules.AGE_BUCKETS},
    )


def balances(as_of: date, scope: Scope = COMPANY) -> Balances:
    return total_balances(balances_by_department(as_of, scope).values())


def receivables_by_department(as_of: date, scope: Scope = COMPANY) -> dict[int | None, tuple]:
    """{department_id: (receivables fen, overdue fen)} as of a date."""
    b = open_balances(as_of, scope)
    amount = b.c.outstanding_fen
    query = sa.select(
        b.c.department_id,
        sa.func.sum(amount),
        sa.func.sum(sa.case((b.c.due_on < as_of, amount), else_=0)),
    ).group_by(b.c.department_id)
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in db.session.execute(query)}


# ---------------------------------------------------------------------------------------------
# Flows of a period


def sales_between(date_from: date, date_to: date, scope: Scope = COMPANY) -> Decimal:
    """Sales of the period: the amounts of the items recognised in it (gross of credits)."""
    c = items_t.c
    return money(
        db.session.scalar(
            sa.select(sa.func.sum(fen(c.amount))).where(
                c.recognized_on >= date_from, c.recognized_on <= date_to, scope.on(c.department_id)
            )
        )
    )


def sales_by_month(date_from: date, date_to: date, scope: Scope = COMPANY) -> dict[str, Decimal]:
    """{"YYYY-MM": sales} of the items recognised in the period, one SQL query."""
    c = items_t.c
    month = month_of(c.recognized_on)
    rows = db.session.execute(
        sa.select(month, sa.func.sum(fen(c.amount)))
        .where(c.recognized_on >= date_from, c.recognized_on <= date_to, scope.on(c.department_id))
        .group_by(month)
    )
    return {key: money(total) for key, total in rows}


def first_recognition(as_of: date, scope: Scope = COMPANY) -> date | None:
    """The earliest recognition date of an item in scope (None: no sales by ``as_of``)."""
    c = items_t.c
    return db.session.scalar(
        sa.select(sa.func.min(c.recognized_on)).where(
            c.recognized_on <= as_of, scope.on(c.department_id)
        )
    )


def _receipts_in(scope: Scope, query):
    """Receipts belong to a counterparty, not to a department: a department's are those of
    the counterparties it owns (with the departments below it), as for targets."""
    if scope.whole_company:
        return query
    owned = sa.select(parties_t.c.id).where(scope.on(parties_t.c.department_id))
    return query.where(receipts_t.c.counterparty_id.in_(owned))


def recovered_between(date_from: date, date_to: date, scope: Scope = COMPANY) -> Decimal:
    """Recovered (回款) in the period (docs/kpis.md): the receipts dated in it, applied or
    not (unapplied credit included); a department's: its counterparties' receipts."""
    c = receipts_t.c
    query = sa.select(sa.func.sum(fen(c.amount))).where(
        c.received_on >= date_from, c.received_on <= date_to
    )
    return money(db.session.scalar(_receipts_in(scope, query)))


def recovered_by_month(date_from: date, date_to: date, scope: Scope = COMPANY) -> dict:
    """{"YYYY-MM": recovered} over a period, one SQL query."""
    c = receipts_t.c
    month = month_of(c.received_on)
    query = sa.select(month, sa.func.sum(fen(c.amount))).where(
        c.received_on >= date_from, c.received_on <= date_to
    )
    rows = db.session.execute(_receipts_in(scope, query).group_by(month))
    return {key: money(total) for key, total in rows}


def applied_between(date_from: date, date_to: date, scope: Scope = COMPANY) -> Decimal:
    """Money applied in the period to the scope's items (whichever receipt it came from)."""
    return money(
        db.session.scalar(
            sa.select(sa.func.sum(fen(apps_t.c.amount)))
            .join(items_t, items_t.c.id == apps_t.c.item_id)
            .where(
                apps_t.c.applied_on >= date_from,
                apps_t.c.applied_on <= date_to,
                scope.on(items_t.c.department_id),
            )
        )
    )


def credited_between(date_from: date, date_to: date, scope: Scope = COMPANY) -> Decimal:
    """Approved credit notes and write-offs dated in the period on the scope's items."""
    return money(
        db.session.scalar(
            sa.select(sa.func.sum(fen(adj_t.c.amount)))
            .join(items_t, items_t.c.id == adj_t.c.item_id)
            .where(
                adj_t.c.status == "approved",
                adj_t.c.dated_on >= date_from,
                adj_t.c.dated_on <= date_to,
                scope.on(items_t.c.department_id),
            )
        )
    )


# ---------------------------------------------------------------------------------------------
# Items settled in a period: days to pay and days late


def _settled_condition(date_from: date, date_to: date, scope: Scope):
    """Items whose outstanding reached zero in the period, by payment: open amount 0 and the
    last movement (the day it reached zero: nothing moves an item after that) in the period,
    at least one application, and no approved write-off (a written-off debt was not paid).

    An item with no approved credit at all that is paid off was paid by applications, so
    only the few items with approved credits are looked at further (a small set to leave
    out, instead of a look-up per item paid off)."""
    c = items_t.c
    paid = sa.select(apps_t.c.id).where(apps_t.c.item_id == adj_t.c.item_id).exists()
    not_by_payment = sa.select(adj_t.c.item_id).where(
        adj_t.c.status == "approved", sa.or_(adj_t.c.kind == "write_off", ~paid)
    )
    return sa.and_(
        fen(c.open_amount) == ZERO,
        c.last_movement_on >= date_from,
        c.last_movement_on <= date_to,
        scope.on(c.department_id),
        c.id.not_in(not_by_payment),
    )


def _days_to_pay():
    return days_between(items_t.c.last_movement_on, items_t.c.recognized_on)


def _days_late():
    late = days_between(items_t.c.last_movement_on, items_t.c.due_on)
    return sa.case((late > 0, late), else_=0)


@dataclass
class Settled:
    count: int
    days_to_pay: int  # summed over the items
    days_late: int


def settled_between(date_from: date, date_to: date, scope: Scope = COMPANY) -> Settled:
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(_days_to_pay()), 0),
            sa.func.coalesce(sa.func.sum(_days_late()), 0),
        ).where(_settled_condition(date_from, date_to, scope))
    ).one()
    return Settled(int(row[0]), int(row[1]), int(row[2]))


# ---------------------------------------------------------------------------------------------
# Counterparties: the largest overdue, credit holds


@dataclass
class CounterpartyRow:
    id: int
    code: str
    name: str
    overdue: Decimal
    outstanding: Decimal
    items: int
    oldest_due: date | None
    credit_limit: Decimal | None = None

    @property
    def over_limit(self) -> bool:
        return self.credit_limit is not None and self.outstanding > self.credit_limit


def top_overdue(as_of: date, scope: Scope = COMPANY, limit: int = 20) -> list[CounterpartyRow]:
    """The counterparties with the most overdue in scope, largest first (ties: by code)."""
    b = open_balances(as_of, scope)
    overdue = sa.func.sum(sa.case((b.c.due_on < as_of, b.c.outstanding_fen), else_=0))
    inner = (
        sa.select(
            b.c.counterparty_id.label("cp"),
            overdue.label("overdue"),
            sa.func.sum(b.c.outstanding_fen).label("outstanding"),
            sa.func.sum(sa.case((b.c.due_on < as_of, 1), else_=0)).label("items"),
            sa.func.min(sa.case((b.c.due_on < as_of, b.c.due_on), else_=None)).label("oldest"),
        )
        .group_by(b.c.counterparty_id)
        .having(overdue > 0)
        .order_by(overdue.desc(), b.c.counterparty_id)
        .limit(limit)
        .subquery("top")
    )
    rows = db.session.execute(
        sa.select(inner, parties_t.c.code, parties_t.c.name, parties_t.c.credit_limit)
        .join(parties_t, parties_t.c.id == inner.c.cp)
        .order_by(inner.c.overdue.desc(), parties_t.c.code)
    )
    return [
        CounterpartyRow(
            r.cp,
            r.code,
            r.name,
            money(r.overdue),
            money(r.outstanding),
            int(r.items),
            r.oldest,
            r.credit_limit,
        )
        for r in rows
    ]


def _per_counterparty(as_of: date, scope: Scope = COMPANY, only_counterparties=None, balances=None):
    """Per counterparty with open items: exposure (outstanding), overdue, overdue items and
    the oldest overdue due date, as of the date (``balances``: the open items, when read
    already)."""
    b = balances
    if b is None:
        b = open_balances(as_of, scope, only_counterparties=only_counterparties)
    overdue = sa.case((b.c.due_on < as_of, b.c.outstanding_fen), else_=0)
    return (
        sa.select(
            b.c.counterparty_id.label("cp"),
            sa.func.sum(b.c.outstanding_fen).label("exposure"),
            sa.func.sum(overdue).label("overdue"),
            sa.func.sum(sa.case((b.c.due_on < as_of, 1), else_=0)).label("items"),
            sa.func.min(sa.case((b.c.due_on < as_of, b.c.due_on), else_=None)).label("oldest"),
        )
        .group_by(b.c.counterparty_id)
        .subquery("per_counterparty")
    )


def _held(per):
    """Credit hold (DOMAIN §4): overdue debt, or exposure above the credit limit."""
    return sa.or_(
        per.c.overdue > 0,
        sa.and_(
            parties_t.c.credit_limit.is_not(None), per.c.exposure > fen(parties_t.c.credit_limit)
        ),
    )


def top_overdue_and_holds(as_of: date, limit: int = 20) -> tuple[list[CounterpartyRow], Holds]:
    """The whole company's top overdue counterparties and credit holds from ONE scan of the
    open items: per counterparty once, the holds summed over all of them (window sums,
    taken before the LIMIT) and the largest overdue kept."""
    return _top_and_holds(db.session.execute(_top_and_holds_query(as_of, limit)).all())


def _top_and_holds_query(as_of: date, limit: int, balances=None):
    per = _per_counterparty(as_of, balances=balances)
    held = _held(per)
    order = (per.c.overdue.desc(), parties_t.c.code)
    return (
        sa.select(
            per,
            parties_t.c.code,
            parties_t.c.name,
            parties_t.c.credit_limit,
            sa.func.sum(sa.case((held, 1), else_=0)).over().label("held_count"),
            sa.func.sum(sa.case((held, per.c.overdue), else_=0)).over().label("held_overdue"),
            sa.func.sum(sa.case((held, per.c.exposure), else_=0)).over().label("held_exposure"),
            sa.func.row_number().over(order_by=order).label("place"),
        )
        .join(parties_t, parties_t.c.id == per.c.cp)
        .order_by(*order)
        .limit(limit)
    )


def _top_and_holds(rows) -> tuple[list[CounterpartyRow], Holds]:
    top = [
        CounterpartyRow(
            r.cp,
            r.code,
            r.name,
            money(r.overdue),
            money(r.exposure),
            int(r.items),
            r.oldest,
            r.credit_limit,
        )
        for r in rows
        if r.overdue > 0
    ]
    if not rows:
        return top, Holds(0, money(0), money(0))
    first = rows[0]
    return top, Holds(
        int(first.held_count or 0), money(first.held_overdue), money(first.held_exposure)
    )


def company_overview(
    as_of: date, limit: int = 20, *, holds: bool = True
) -> tuple[dict[int | None, Balances], list[CounterpartyRow], Holds | None]:
    """The whole company's balances by department (balances_by_department), top overdue
    counterparties and credit holds (top_overdue_and_holds) from ONE reading of the open
    items: a materialized common table expression read by both groupings, in one statement
    — as of a past date building the open items is most of the work (a month back: the
    stored open items and the 80,000 that moved since). As of today, when nothing moved
    since, the two readings are cheaper: each groups the open items as an index gives them
    (by counterparty, by department), where the shared reading must hash them.

    ``holds=False``: the caller reads the holds elsewhere (the stored statuses, as of today);
    None in their place."""
    if not _moved_after(as_of):
        if not holds:
            return balances_by_department(as_of), top_overdue(as_of, limit=limit), None
        return (balances_by_department(as_of), *top_overdue_and_holds(as_of, limit))
    b = open_balances_query(as_of).cte("balances").prefix_with("MATERIALIZED")
    due, age = _bucket_index(as_of, b)
    top = _top_and_holds_query(as_of, limit, balances=b).subquery("top")
    nothing = sa.null()
    # The two result sets as one: the top rows first (their columns' types are the
    # statement's), then the department groups, told apart by "part".
    statement = sa.union_all(
        sa.select(
            sa.literal(1).label("part"),
            top.c.cp,
            top.c.code,
            top.c.name,
            top.c.credit_limit,
            top.c.exposure,
            top.c.overdue,
            top.c["items"],
            top.c.oldest,
            top.c.held_count,
            top.c.held_overdue,
            top.c.held_exposure,
            top.c.place,
            nothing.label("department_id"),
            nothing.label("due"),
            nothing.label("age"),
        ),
        sa.select(
            sa.literal(2),
            nothing,
            nothing,
            nothing,
            nothing,
            sa.func.sum(b.c.outstanding_fen),
            nothing,
            sa.func.count(),
            nothing,
            nothing,
            nothing,
            nothing,
            nothing,
            b.c.department_id,
            due,
            age,
        ).group_by(b.c.department_id, due, age),
    )
    rows = db.session.execute(statement).all()
    top_rows = [r for r in rows if r.part == 1]
    top_rows.sort(key=lambda r: r.place)
    sums: dict[int | None, dict] = {}
    for r in rows:
        if r.part == 2:
            entry = sums.setdefault(r.department_id, {"count": 0, "due": [0] * 8, "age": [0] * 6})
            entry["count"] += int(r.items)
            entry["due"][int(r.due)] += int(r.exposure or 0)
            entry["age"][int(r.age)] += int(r.exposure or 0)
    by_department = {dept: _balances_of(entry) for dept, entry in sums.items()}
    return (by_department, *_top_and_holds(top_rows))


def _balances_of(entry: dict) -> Balances:
    due_fen = dict(zip(ledger_rules.DUE_BUCKETS, entry["due"], strict=True))
    return Balances(
        count=entry["count"],
        receivables=money(sum(entry["due"])),
        overdue=money(sum(entry["due"]) - due_fen["not_due"]),
        due={bucket: money(value) for bucket, value in due_fen.items()},
        age={
            bucket: money(value)
            for bucket, value in zip(ledger_rules.AGE_BUCKETS, entry["age"], strict=True)
        },
    )


def _holds_query(as_of: date, scope: Scope):
    """Counterparties on credit hold as of a date (DOMAIN §4): overdue debt, or exposure
    (everything outstanding) above their credit limit. A hold is the counterparty's, so it is
    judged on all its items; a department sees the held counterparties it has open items of
    (only theirs are summed: the department's share of the open items, not all of them)."""
    if scope.whole_company:
        per = _per_counterparty(as_of)
    else:
        mine = open_balances(as_of, scope)
        theirs = sa.select(mine.c.counterparty_id).distinct()
        if db.session.get_bind().dialect.name == "postgresql":
            # Their ids first, as one array: PostgreSQL then reads each one's open items from
            # ix_items_open_counterparty, where the subquery made it hash all the open items.
            theirs = _id_array(db.session.scalars(theirs).all())
        per = _per_counterparty(as_of, only_counterparties=theirs)
    return (
        sa.select(per, parties_t.c.code, parties_t.c.name, parties_t.c.credit_limit)
        .join(parties_t, parties_t.c.id == per.c.cp)
        .where(_held(per))
    )


def _id_array(ids: list[int]):
    """``IN (ids)`` as one PostgreSQL array parameter (``= ANY``)."""
    return sa.select(
        sa.func.unnest(sa.bindparam(None, ids, type_=postgresql.ARRAY(sa.Integer)))
    ).scalar_subquery()


@dataclass
class Holds:
    """Counterparties on credit hold: how many, their overdue and their exposure. ``stored``:
    read from the credit holds' stored statuses (as of today); else estimated from the hold
    rules of DOMAIN §4 as of the date (no statuses are kept for past dates)."""

    count: int
    overdue: Decimal
    exposure: Decimal
    stored: bool = False


def stored_holds(scope: Scope = COMPANY) -> Holds:
    """Today's holds of a scope from the stored statuses (recovery.credit: the credit holds
    page's figures, re-evaluated on every write; call credit.services.refresh_stale() first
    for the calendar's changes). A department's: the held counterparties it has open items
    of, as for the estimate."""
    from recovery.credit.queries import dashboard_hold_totals

    count, overdue, exposure = dashboard_hold_totals(scope)
    return Holds(count, overdue, exposure, stored=True)


def credit_holds(as_of: date, scope: Scope = COMPANY) -> Holds:
    held = _holds_query(as_of, scope).subquery("held")
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(held.c.overdue), sa.func.sum(held.c.exposure))
    ).one()
    return Holds(int(row[0] or 0), money(row[1]), money(row[2]))


def credit_hold_page(as_of: date, scope: Scope, page: int | None = 1) -> Page:
    held = _holds_query(as_of, scope).subquery("held")
    number = max(1, page or 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(held)) or 0
    rows = db.session.execute(
        sa.select(held)
        .order_by(held.c.overdue.desc(), held.c.exposure.desc(), held.c.code)
        .limit(PER_PAGE)
        .offset((number - 1) * PER_PAGE)
    )
    items = [
        CounterpartyRow(
            r.cp,
            r.code,
            r.name,
            money(r.overdue),
            money(r.exposure),
            int(r.items),
            r.oldest,
            r.credit_limit,
        )
        for r in rows
    ]
    return Page(items=items, number=number, per_page=PER_PAGE, total=total)


# ---------------------------------------------------------------------------------------------
# Disputed amounts


def _disputed_per_item(as_of: date, scope: Scope):
    """Per open item in scope: what its open disputes claim, never more than it owes."""
    b = open_balances(
        as_of, scope, only_items=sa.select(disputes_t.c.item_id).where(open_as_of(as_of))
    )
    disputed = (
        sa.select(disputes_t.c.item_id, sa.func.sum(fen(disputes_t.c.amount)).label("fen"))
        .where(open_as_of(as_of))
        .group_by(disputes_t.c.item_id)
        .subquery("disputed")
    )
    capped = sa.case(
        (disputed.c.fen > b.c.outstanding_fen, b.c.outstanding_fen), else_=disputed.c.fen
    )
    return (
        sa.select(b, capped.label("disputed_fen"))
        .join(disputed, disputed.c.item_id == b.c.id)
        .where(b.c.outstanding_fen > 0)
    )


def disputed_total(as_of: date, scope: Scope = COMPANY) -> tuple[int, Decimal]:
    rows = _disputed_per_item(as_of, scope).subquery("d")
    row = db.session.execute(sa.select(sa.func.count(), sa.func.sum(rows.c.disputed_fen))).one()
    return int(row[0] or 0), money(row[1])


# ---------------------------------------------------------------------------------------------
# Drill-down lists of items


@dataclass
class ItemRow:
    id: int
    document_no: str
    counterparty_id: int
    counterparty_code: str
    counterparty_name: str
    department: str | None
    recognized_on: date
    due_on: date
    amount: Decimal
    figure: Decimal  # what this item contributes to the figure
    days: int | None = None  # days past due, or days to pay
    days_late: int | None = None


@dataclass
class ItemList:
    page: Page
    total: Decimal  # of the whole list, not only the page: equals the figure
    count: int
    days_total: int | None = None
    days_late_total: int | None = None


ITEM_LISTS = ("receivables", "overdue", "bucket", "disputed", "sales", "settled")


def _paged(query, figure_column, order, number: int, extra_totals=()) -> tuple:
    """Count, total (and extra sums) of a list, and one page of its rows."""
    inner = query.subquery("listed")
    sums = [sa.func.count(), sa.func.sum(inner.c[figure_column])]
    sums += [sa.func.sum(inner.c[name]) for name in extra_totals]
    totals = db.session.execute(sa.select(*sums)).one()
    rows = db.session.execute(
        sa.select(inner)
        .order_by(*(o(inner) for o in order))
        .limit(PER_PAGE)
        .offset((number - 1) * PER_PAGE)
    ).all()
    return totals, rows


def item_list(
    kind: str,
    as_of: date,
    scope: Scope = COMPANY,
    *,
    date_from: date | None = None,
    bucket: str | None = None,
    counterparty_id: int | None = None,
    page: int | None = 1,
) -> ItemList:
    """The items behind a figure, largest contribution first, with the list's total.

    receivables: open as of the date; overdue: open and past due; bucket: in one due or age
    bucket; disputed: with open disputes (the disputed part); sales: recognised in the
    period; settled: paid off in the period (days to pay and days late)."""
    if kind not in ITEM_LISTS:
        raise ValueError(f"unknown list {kind}")
    number = max(1, page or 1)
    c = items_t.c
    days_total = days_late_total = None
    if kind in ("receivables", "overdue", "bucket", "disputed"):
        if kind == "disputed":
            b = _disputed_per_item(as_of, scope).subquery("b")
            figure = b.c.disputed_fen
        else:
            b = open_balances(as_of, scope)
            figure = b.c.outstanding_fen
        overdue_days = sa.case((b.c.due_on < as_of, days_between(as_of, b.c.due_on)), else_=0)
        query = sa.select(
            b.c.id.label("item_id"),
            figure.label("figure"),
            b.c.amount_fen.label("amount"),
            overdue_days.label("days"),
            sa.null().label("days_late"),
        )
        if kind == "overdue":
            query = query.where(b.c.due_on < as_of)
        if kind == "bucket" and bucket:
            query = query.where(ledger_queries.bucket_condition(bucket, b.c, as_of))
        if counterparty_id is not None:
            query = query.where(b.c.counterparty_id == counterparty_id)
    elif kind == "sales":
        query = sa.select(
            c.id.label("item_id"),
            fen(c.amount).label("figure"),
            fen(c.amount).label("amount"),
            sa.null().label("days"),
            sa.null().label("days_late"),
        ).where(c.recognized_on >= date_from, c.recognized_on <= as_of, scope.on(c.department_id))
    else:  # settled
        query = sa.select(
            c.id.label("item_id"),
            fen(c.amount).label("figure"),
            fen(c.amount).label("amount"),
            _days_to_pay().label("days"),
            _days_late().label("days_late"),
        ).where(_settled_condition(date_from, as_of, scope))
        days_total, days_late_total = 0, 0
    extra = ("days", "days_late") if kind == "settled" else ()
    totals, rows = _paged(
        query,
        "figure",
        (lambda q: q.c.figure.desc(), lambda q: q.c.item_id),
        number,
        extra,
    )
    if kind == "settled":
        days_total, days_late_total = int(totals[2] or 0), int(totals[3] or 0)
    details = _item_details([r.item_id for r in rows])
    listed = []
    for r in rows:
        d = details[r.item_id]
        listed.append(
            ItemRow(
                id=r.item_id,
                document_no=d.document_no,
                counterparty_id=d.counterparty_id,
                counterparty_code=d.code,
                counterparty_name=d.name,
                department=d.department,
                recognized_on=d.recognized_on,
                due_on=d.due_on,
                amount=money(r.amount),
                figure=money(r.figure),
                days=None if r.days is None else int(r.days),
                days_late=None if r.days_late is None else int(r.days_late),
            )
        )
    count = int(totals[0] or 0)
    return ItemList(
        page=Page(items=listed, number=number, per_page=PER_PAGE, total=count),
        total=money(totals[1]),
        count=count,
        days_total=days_total,
        days_late_total=days_late_total,
    )


def _item_details(ids: list[int]) -> dict:
    if not ids:
        return {}
    dept = Department.__table__
    rows = db.session.execute(
        sa.select(
            items_t.c.id,
            items_t.c.document_no,
            items_t.c.counterparty_id,
            items_t.c.recognized_on,
            items_t.c.due_on,
            parties_t.c.code,
            parties_t.c.name,
            dept.c.name.label("department"),
        )
        .join(parties_t, parties_t.c.id == items_t.c.counterparty_id)
        .outerjoin(dept, dept.c.id == items_t.c.department_id)
        .where(items_t.c.id.in_(ids))
    )
    return {r.id: r for r in rows}


# ---------------------------------------------------------------------------------------------
# Drill-down list of money recovered


@dataclass
class ReceiptRow:
    id: int
    receipt_no: str
    received_on: date
    method: str
    counterparty_id: int
    counterparty_code: str
    counterparty_name: str
    amount: Decimal
    counted: Decimal  # the part of the receipt in the figure


def recovered_list(
    date_from: date, date_to: date, scope: Scope = COMPANY, page: int | None = 1
) -> ItemList:
    """The receipts behind "recovered": dated in the period (a department: of its
    counterparties), largest first."""
    number = max(1, page or 1)
    r = receipts_t.c
    query = sa.select(r.id.label("receipt_id"), fen(r.amount).label("figure")).where(
        r.received_on >= date_from, r.received_on <= date_to
    )
    query = _receipts_in(scope, query)
    totals, rows = _paged(
        query, "figure", (lambda q: q.c.figure.desc(), lambda q: q.c.receipt_id), number
    )
    ids = [row.receipt_id for row in rows]
    details = {}
    if ids:
        details = {
            d.id: d
            for d in db.session.execute(
                sa.select(
                    r.id,
                    r.receipt_no,
                    r.received_on,
                    r.method,
                    r.counterparty_id,
                    fen(r.amount).label("amount"),
                    parties_t.c.code,
                    parties_t.c.name,
                )
                .join(parties_t, parties_t.c.id == r.counterparty_id)
                .where(r.id.in_(ids))
            )
        }
    listed = [
        ReceiptRow(
            id=row.receipt_id,
            receipt_no=details[row.receipt_id].receipt_no,
            received_on=details[row.receipt_id].received_on,
            method=details[row.receipt_id].method,
            counterparty_id=details[row.receipt_id].counterparty_id,
            counterparty_code=details[row.receipt_id].code,
            counterparty_name=details[row.receipt_id].name,
            amount=money(details[row.receipt_id].amount),
            counted=money(row.figure),
        )
        for row in rows
    ]
    count = int(totals[0] or 0)
    return ItemList(
        page=Page(items=listed, number=number, per_page=PER_PAGE, total=count),
        total=money(totals[1]),
        count=count,
    )


# ---------------------------------------------------------------------------------------------
# Recovery cases by strategy and status


NO_STRATEGY = "none"


def _case_strategy():
    """Per case, its current strategy: the latest one not cancelled or rejected."""
    from recovery.cases.models import Strategy

    latest = (
        sa.select(Strategy.case_id, sa.func.max(Strategy.id).label("strategy_id"))
        .where(Strategy.status.not_in(("cancelled", "rejected")))
        .group_by(Strategy.case_id)
        .subquery("latest_strategy")
    )
    return latest, Strategy


def _cases_query(as_of: date, scope: Scope):
    """Cases opened on or before the date, of counterparties owned by the scope's
    departments, with their current strategy kind (or "none"). Cases keep no history of
    their status, so the status is today's."""
    from recovery.cases.models import RecoveryCase

    latest, strategy = _case_strategy()
    kind = sa.func.coalesce(strategy.kind, NO_STRATEGY).label("strategy")
    return (
        sa.select(RecoveryCase.id.label("case_id"), kind, RecoveryCase.status.label("status"))
        .join(parties_t, parties_t.c.id == RecoveryCase.counterparty_id)
        .outerjoin(latest, latest.c.case_id == RecoveryCase.id)
        .outerjoin(strategy, strategy.id == latest.c.strategy_id)
        .where(RecoveryCase.opened_on <= as_of, scope.on(parties_t.c.department_id))
    )


def cases_matrix(as_of: date, scope: Scope = COMPANY) -> dict[tuple[str, str], int]:
    """{(strategy kind or "none", status): number of cases}."""
    cases = _cases_query(as_of, scope).subquery("cases")
    rows = db.session.execute(
        sa.select(cases.c.strategy, cases.c.status, sa.func.count()).group_by(
            cases.c.strategy, cases.c.status
        )
    )
    return {(kind, status): int(count) for kind, status, count in rows}


def case_page(
    as_of: date,
    scope: Scope = COMPANY,
    *,
    strategy: str | None = None,
    status: str | None = None,
    page: int | None = 1,
) -> Page:
    """The cases behind a cell of the matrix (None: any), newest first."""
    from recovery.cases.models import RecoveryCase

    cases = _cases_query(as_of, scope)
    inner = cases.subquery("cases")
    query = sa.select(inner.c.case_id, inner.c.strategy)
    if strategy:
        query = query.where(inner.c.strategy == strategy)
    if status:
        query = query.where(inner.c.status == status)
    number = max(1, page or 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(inner.c.case_id.desc()).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    ).all()
    kinds = {r.case_id: r.strategy for r in rows}
    objects = {
        case.id: case
        for case in db.session.scalars(
            sa.select(RecoveryCase).where(RecoveryCase.id.in_(list(kinds)))
        )
    }
    items = [(objects[r.case_id], kinds[r.case_id]) for r in rows]
    return Page(items=items, number=number, per_page=PER_PAGE, total=total)
