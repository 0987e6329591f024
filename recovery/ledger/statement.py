"""A counterparty's statement as of any date: its documents, the stored applications, and the
figures rules.py gives them — one page of lines at a time, with totals over every line.

Applications are stored and dated (DOMAIN §3), so "as of D" is every application dated on or
before D: the statement reads stored rows and never replays allocation. Amounts stay integer
fen (``queries.fen``) until they are shown. Four queries, through the indexes on the
counterparty and on each item's movements, whatever the size of the counterparty or the
ledger:

1. one pass over the counterparty's items with the sums of their movements dated by then
   (a materialised CTE) gives every total in SQL: count, amounts, applied, credited,
   outstanding, overdue, both bucket rows, received money (unapplied credit = received −
   applied) and the overdue interest — each item's fen-days of overdue balance (the sum of
   rules.fen_days_overdue) times its rate, rounded once per item in integers (see
   _interest_fen; the rare item whose rounding the SQL cannot reproduce exactly comes back
   to Python and goes through rules.interest_from_fen_days);
2. one page of item lines (``PER_PAGE``) with their names;
3. those lines' applications and approved adjustments (their figures then follow from the
   rules: rules.outstanding, the buckets, rules.overdue_interest);
4. one page of receipts with how each was applied.

tests/ledger/test_statement.py checks the figures against hand computations, against the SQL
aggregates of queries.py, and against a replay of allocation by the pure rules.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from recovery.auth.models import Department, User
from recovery.core.money import from_fen, to_fen
from recovery.core.pagination import Page
from recovery.core.sqltime import days_between
from recovery.extensions import db
from recovery.ledger import queries, rules
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contract, Project

ZERO = Decimal("0.00")
PER_PAGE = 200  # lines per page: a page of the largest counterparty stays well under 50 ms

items_t, apps_t, adj_t = Item.__table__, Application.__table__, Adjustment.__table__
receipts_t, projects_t, contracts_t = Receipt.__table__, Project.__table__, Contract.__table__
departments_t, users_t = Department.__table__, User.__table__
fen = queries.fen


@dataclass(frozen=True)
class InterestTerms:
    """Where no item or contract rate is agreed: the default annual rate and the day count."""

    default_rate: Decimal
    day_count: int = 365


def interest_terms() -> InterestTerms:
    """The settings interest.default_annual_rate and interest.day_count."""
    from recovery.settings.services import get_setting

    day_count = 360 if get_setting("interest.day_count") == "actual/360" else 365
    return InterestTerms(Decimal(get_setting("interest.default_annual_rate")), day_count)


def effective_rate(item_rate, contract_rate, contract_basis, terms: InterestTerms):
    """(rate, basis, source): the item's own annual rate, else its contract's (annual or
    daily), else the default annual rate."""
    if item_rate is not None:
        return Decimal(item_rate), "annual", "item"
    if contract_rate is not None:
        return Decimal(contract_rate), contract_basis or "annual", "contract"
    return terms.default_rate, "annual", "default"


@dataclass
class AppliedLine:
    applied_on: date
    receipt_id: int
    receipt_no: str
    item_id: int
    document_no: str
    amount: Decimal


@dataclass
class AdjustmentLine:
    id: int
    number: str
    kind: str
    amount: Decimal
    dated_on: date
    item_id: int
    document_no: str
    reason: str


@dataclass
class ItemLine:
    id: int
    document_no: str
    item_type: str
    category: str
    project_id: int | None
    project_code: str | None
    contract_id: int | None
    contract_no: str | None
    recognized_on: date
    due_on: date
    amount: Decimal
    department: str | None
    responsible: str | None
    rate: Decimal
    rate_basis: str  # "annual" or "daily"
    rate_source: str  # "item", "contract" or "default"
    applied: Decimal = ZERO
    credited: Decimal = ZERO
    outstanding: Decimal = ZERO
    days_overdue: int = 0
    due_bucket: str = "not_due"
    age_bucket: str = "y0_1"
    interest: Decimal = ZERO
    applications: list[AppliedLine] = field(default_factory=list)
    adjustments: list[AdjustmentLine] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


@dataclass
class ReceiptLine:
    id: int
    receipt_no: str
    received_on: date
    amount: Decimal
    method: str
    reference: str | None
    item_id: int | None
    item_document_no: str | None
    applied: Decimal = ZERO
    applications: list[AppliedLine] = field(default_factory=list)

    @property
    def unapplied(self) -> Decimal:
        return self.amount - self.applied


@dataclass
class Statement:
    """One page of a statement; the totals are over every line, not only this page's.

    ``items`` are this page's item lines (only open ones when ``open_only``), ``receipts``
    this page's receipts, ``applications`` the applications of those receipts, and
    ``adjustments`` the approved credit notes / write-offs on this page's items."""

    counterparty_id: int
    as_of: date
    terms: InterestTerms
    items: list[ItemLine]
    receipts: list[ReceiptLine]
    applications: list[AppliedLine]
    adjustments: list[AdjustmentLine]
    amount: Decimal = ZERO
    applied: Decimal = ZERO
    credited: Decimal = ZERO
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    interest: Decimal = ZERO
    received: Decimal = ZERO
    unapplied_credit: Decimal = ZERO
    due_aging: dict[str, Decimal] = field(default_factory=dict)
    age_aging: dict[str, Decimal] = field(default_factory=dict)
    item_count: int = 0  # every item recognised by the date
    open_item_count: int = 0
    receipt_count: int = 0
    open_only: bool = False
    page: int = 1
    receipts_page: int = 1
    per_page: int = PER_PAGE

    @property
    def open_items(self) -> list[ItemLine]:
        return [line for line in self.items if line.outstanding]

    @property
    def item_pages(self) -> Page:
        total = self.open_item_count if self.open_only else self.item_count
        return Page(items=self.items, number=self.page, per_page=self.per_page, total=total)

    @property
    def receipt_pages(self) -> Page:
        return Page(
            items=self.receipts,
            number=self.receipts_page,
            per_page=self.per_page,
            total=self.receipt_count,
        )


# ---------------------------------------------------------------------------------------------
# The queries
#
# Each statement is built once per process with bound parameters (:cp, :as_of, :ids, :limit,
# :offset, the buckets' bounds, the interest rates' scale), so that a statement costs its SQL
# and SQLAlchemy's cache lookup, not the building of a few hundred expression objects.

CP = sa.bindparam("cp", type_=sa.Integer)
AS_OF = sa.bindparam("as_of", type_=sa.Date)


def _one_of_ids(column, dialect: str):
    """``column`` is one of :ids — on PostgreSQL ``= ANY(array)``: one parameter, so that the
    statement's text stays the same whatever the number of ids (an expanding IN is rendered
    and parsed again for each count)."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer)))
    return column.in_(sa.bindparam("ids", expanding=True, type_=sa.Integer))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


BUCKETS = (*rules.DUE_BUCKETS, *rules.AGE_BUCKETS)


def _params(counterparty_id: int | None, as_of: date, **more) -> dict:
    """The parameters of the statements: the buckets' lower bounds are those of rules.py."""
    params = {"cp": counterparty_id, "as_of": as_of, **more}
    bounds = {**rules.due_bucket_bounds(as_of), **rules.age_bucket_bounds(as_of)}
    for bucket in BUCKETS:
        params[f"{bucket}_low"] = bounds[bucket][0]
    return params


def _movement_sums(table, *conditions):
    """Per item of the counterparty: the fen of its applications (or approved adjustments)
    dated by as_of, and the fen-days of overdue interest they no longer bear — each from
    max(its date, due + 1) to as_of (as in rules.fen_days_overdue). One pass over the
    movements, read through their index on item_id."""
    day = table.c.applied_on if table is apps_t else table.c.dated_on
    due = items_t.c.due_on
    relief_days = sa.case(
        (days_between(day, due) >= 1, days_between(AS_OF, day) + 1),
        else_=days_between(AS_OF, due),
    )
    amount = fen(table.c.amount)
    return (
        sa.select(
            table.c.item_id,
            sa.cast(sa.func.sum(amount), sa.BigInteger).label("fen"),
            sa.cast(sa.func.sum(amount * relief_days), sa.BigInteger).label("relief"),
        )
        .join(items_t, items_t.c.id == table.c.item_id)
        .where(items_t.c.counterparty_id == CP, day <= AS_OF, *conditions)
        .group_by(table.c.item_id)
        .subquery()
    )


def _scaled(rate_column):
    return sa.cast(sa.func.round(rate_column * sa.bindparam("rate_scale")), sa.BigInteger)


def _balances():
    """Per item of the counterparty recognised by as_of (a materialised CTE): its amount,
    what receipts paid and credits took off by then (outstanding = amount − applied −
    credited, DOMAIN §3); for an overdue item its fen-days of overdue balance, and its rate
    (the item's, else its contract's, else the default: see effective_rate) as an integer
    number of :rate_scale-ths of a percent with the divisor that turns fen-days × rate into
    fen of interest."""
    paid = _movement_sums(apps_t)
    credited = _movement_sums(adj_t, adj_t.c.status == "approved")
    due = items_t.c.due_on
    fen_days = sa.case(
        (
            due < AS_OF,
            fen(items_t.c.amount) * days_between(AS_OF, due)
            - sa.func.coalesce(paid.c.relief, 0)
            - sa.func.coalesce(credited.c.relief, 0),
        ),
        else_=0,
    )
    item_rate, contract_rate = items_t.c.overdue_rate, contracts_t.c.overdue_rate
    rate = sa.case(
        (item_rate.is_not(None), _scaled(item_rate)),
        (contract_rate.is_not(None), _scaled(contract_rate)),
        else_=sa.bindparam("default_scaled", type_=sa.BigInteger),
    )
    divisor = sa.case(
        (
            sa.and_(
                item_rate.is_(None), contract_rate.is_not(None), contracts_t.c.rate_basis == "daily"
            ),
            sa.bindparam("daily_divisor", type_=sa.BigInteger),
        ),
        else_=sa.bindparam("annual_divisor", type_=sa.BigInteger),
    )
    # Rates the SQL cannot take exactly (a default with more decimals than :rate_scale).
    by_rules = sa.and_(
        item_rate.is_(None), contract_rate.is_(None), sa.bindparam("default_by_rules")
    )
    return (
        sa.select(
            items_t.c.id,
            items_t.c.document_no,
            items_t.c.due_on,
            items_t.c.recognized_on,
            fen(items_t.c.amount).label("amount_fen"),
            sa.func.coalesce(paid.c.fen, 0).label("applied_fen"),
            sa.func.coalesce(credited.c.fen, 0).label("credited_fen"),
            sa.cast(fen_days, sa.BigInteger).label("fen_days"),
            rate.label("rate"),
            divisor.label("divisor"),
            by_rules.label("by_rules"),
            item_rate,
            contract_rate.label("contract_rate"),
            contracts_t.c.rate_basis,
        )
        .select_from(items_t)
        .outerjoin(contracts_t, contracts_t.c.id == items_t.c.contract_id)
        .outerjoin(paid, paid.c.item_id == items_t.c.id)
        .outerjoin(credited, credited.c.item_id == items_t.c.id)
        .where(items_t.c.counterparty_id == CP, items_t.c.recognized_on <= AS_OF)
        # Each item's sums once, not once per bucket that reads them.
        .cte("balances")
        .prefix_with("MATERIALIZED")
    )


TOTALS = (
    "item_count",
    "open_item_count",
    "amount",
    "applied",
    "credited",
    "outstanding",
    "overdue",
    "interest",
    "received",
    "receipt_count",
)
TOTALS_ROW, BY_RULES_ROW, DUE_ROW, AGE_ROW = 0, 1, 2, 3


def _bucket_index(bucket_names, column, inclusive: bool):
    """The index of an item's bucket in ``bucket_names`` (rules.DUE_BUCKETS by due date or
    rules.AGE_BUCKETS by recognition date): the buckets are contiguous ranges of dates, latest
    first, so the first whose lower bound the date passes is the item's (:<bucket>_low, as
    rules.due_bucket_bounds / age_bucket_bounds give them)."""
    whens = []
    for index, bucket in enumerate(bucket_names[:-1]):
        low = sa.bindparam(f"{bucket}_low", type_=sa.Date)
        whens.append((column >= low if inclusive else column > low, index))
    return sa.case(*whens, else_=len(bucket_names) - 1)


@functools.cache
def _figures_statement():
    """Everything a statement totals, in one pass over the counterparty's items: one row of
    totals, one row per due bucket and per age bucket (the outstanding in it), and the few
    overdue items whose interest the rules round and SQL does not (see _interest_fen)."""
    balances = _balances()
    b = balances.c
    outstanding = b.amount_fen - b.applied_fen - b.credited_fen
    in_receipts = sa.and_(receipts_t.c.counterparty_id == CP, receipts_t.c.received_on <= AS_OF)
    received = sa.select(sa.func.coalesce(sa.func.sum(fen(receipts_t.c.amount)), 0)).where(
        in_receipts
    )
    receipt_count = sa.select(sa.func.count()).select_from(receipts_t).where(in_receipts)
    interest, exact = _interest_fen(b)
    sums = {
        "item_count": sa.func.count(),
        "open_item_count": sa.func.count(sa.case((outstanding != 0, 1))),
        "amount": sa.func.sum(b.amount_fen),
        "applied": sa.func.sum(b.applied_fen),
        "credited": sa.func.sum(b.credited_fen),
        "outstanding": sa.func.sum(outstanding),
        "overdue": sa.func.sum(sa.case((b.due_on < AS_OF, outstanding), else_=0)),
        "interest": sa.func.sum(sa.case((sa.and_(b.fen_days > 0, exact), interest), else_=0)),
        "received": received.scalar_subquery(),
        "receipt_count": receipt_count.scalar_subquery(),
    }

    def nothing(type_=sa.BigInteger):
        return sa.cast(sa.null(), type_)

    def row(kind, key, values=(), rates=(nothing(), nothing(), nothing(sa.String))):
        values = [sa.cast(v, sa.BigInteger) for v in values]
        values += [nothing()] * (len(TOTALS) - len(values))
        columns = [sa.literal_column(str(kind)), key, *values, *rates]
        names = ["kind", "key", *TOTALS, "overdue_rate", "contract_rate", "rate_basis"]
        return [c.label(n) for c, n in zip(columns, names, strict=True)]

    rates = (nothing(b.overdue_rate.type), nothing(b.contract_rate.type), nothing(sa.String))
    totals = sa.select(
        *row(TOTALS_ROW, nothing(), [sums[name] for name in TOTALS], rates)
    ).select_from(balances)
    due_index = _bucket_index(rules.DUE_BUCKETS, b.due_on, inclusive=True)
    age_index = _bucket_index(rules.AGE_BUCKETS, b.recognized_on, inclusive=False)
    due = (
        sa.select(*row(DUE_ROW, due_index, [sa.func.sum(outstanding)]))
        .where(outstanding != 0)
        .group_by(due_index)
    )
    age = (
        sa.select(*row(AGE_ROW, age_index, [sa.func.sum(outstanding)]))
        .where(outstanding != 0)
        .group_by(age_index)
    )
    by_rules = sa.select(
        *row(BY_RULES_ROW, b.id, [b.fen_days], (b.overdue_rate, b.contract_rate, b.rate_basis))
    ).where(b.fen_days > 0, sa.not_(exact))
    return sa.union_all(totals, due, age, by_rules)


def _interest_fen(b):
    """(interest in fen, exact) of an item of the balances CTE: the rules' simple interest
    fen-days × rate ÷ divisor rounded half up, in integers — q = fen-days ÷ divisor and
    r = the remainder, so interest = q × rate + ⌊(2 r × rate + divisor) ÷ 2 divisor⌋, which
    never leaves 64 bits. ``exact`` is false for the items the rules may round otherwise:
    an exact half fen (rules.interest_from_fen_days divides in 28-digit decimals, which can
    fall a hair below the half) and a default rate finer than :rate_scale. Those items come
    back to Python and go through the rules' own function."""
    quotient = b.fen_days // b.divisor
    remainder = b.fen_days % b.divisor
    doubled = 2 * remainder * b.rate + b.divisor
    interest = quotient * b.rate + doubled // (2 * b.divisor)
    exact = sa.and_(doubled % (2 * b.divisor) != 0, sa.not_(b.by_rules))
    return interest, exact


RATE_DECIMALS = 4  # of the rate columns (Numeric(9, 4)); at most 6 keeps 2 r × rate in 64 bits


def _rate_params(terms: InterestTerms) -> dict:
    exponent = -terms.default_rate.as_tuple().exponent
    decimals = max(RATE_DECIMALS, min(exponent, 6))
    scale = 10**decimals
    default_scaled = terms.default_rate * scale
    return {
        "rate_scale": scale,
        "default_scaled": int(default_scaled),
        "default_by_rules": default_scaled != int(default_scaled),
        "annual_divisor": 100 * scale * terms.day_count,
        "daily_divisor": 100 * scale,
    }


def _figures(statement: Statement, params: dict) -> None:
    """Query 1: set every total of the statement, over all its lines."""
    values = dict.fromkeys(TOTALS, 0)
    due = dict.fromkeys(rules.DUE_BUCKETS, 0)
    age = dict.fromkeys(rules.AGE_BUCKETS, 0)
    by_rules = ZERO
    for row in db.session.execute(_figures_statement(), params):
        if row.kind == TOTALS_ROW:
            values = {name: int(row._mapping[name] or 0) for name in TOTALS}
        elif row.kind == DUE_ROW:
            due[rules.DUE_BUCKETS[row.key]] = int(row.item_count)
        elif row.kind == AGE_ROW:
            age[rules.AGE_BUCKETS[row.key]] = int(row.item_count)
        else:
            rate, basis, _source = effective_rate(
                row.overdue_rate, row.contract_rate, row.rate_basis, statement.terms
            )
            by_rules += rules.interest_from_fen_days(
                int(row.item_count), rate, basis, statement.terms.day_count
            )
    statement.item_count = values["item_count"]
    statement.open_item_count = values["open_item_count"]
    statement.receipt_count = values["receipt_count"]
    for name in ("amount", "applied", "credited", "outstanding", "overdue", "received"):
        setattr(statement, name, from_fen(values[name]))
    statement.interest = from_fen(values["interest"]) + by_rules
    # Every application dated by then pays an item recognised by then: received − applied.
    statement.unapplied_credit = from_fen(values["received"] - values["applied"])
    statement.due_aging = {bucket: from_fen(fen) for bucket, fen in due.items()}
    statement.age_aging = {bucket: from_fen(fen) for bucket, fen in age.items()}


def _line_columns(source):
    """The columns of an item line, from ``source`` (the items table or a subquery of it)."""
    c = source.c
    return (
        c.id,
        c.document_no,
        c.item_type,
        c.category,
        c.project_id,
        projects_t.c.code.label("project_code"),
        c.contract_id,
        contracts_t.c.number.label("contract_no"),
        c.recognized_on,
        c.due_on,
        fen(c.amount).label("amount_fen") if source is items_t else c.amount_fen,
        c.overdue_rate,
        contracts_t.c.overdue_rate.label("contract_rate"),
        contracts_t.c.rate_basis,
        departments_t.c.name.label("department"),
        users_t.c.display_name.label("responsible"),
    )


def _with_names(query, source):
    c = source.c
    return (
        query.outerjoin(projects_t, projects_t.c.id == c.project_id)
        .outerjoin(contracts_t, contracts_t.c.id == c.contract_id)
        .outerjoin(departments_t, departments_t.c.id == c.department_id)
        .outerjoin(users_t, users_t.c.id == c.responsible_id)
    )


def _item_line(row, terms: InterestTerms) -> ItemLine:
    """An item line from a row of _line_columns (unpacked by position: reading a Row's
    attributes by name costs more than the rest of the line)."""
    (
        item_id,
        document_no,
        item_type,
        category,
        project_id,
        project_code,
        contract_id,
        contract_no,
        recognized_on,
        due_on,
        amount_fen,
        item_rate,
        contract_rate,
        contract_basis,
        department,
        responsible,
    ) = row
    rate, basis, source = effective_rate(item_rate, contract_rate, contract_basis, terms)
    return ItemLine(
        id=item_id,
        document_no=document_no,
        item_type=item_type,
        category=category,
        project_id=project_id,
        project_code=project_code,
        contract_id=contract_id,
        contract_no=contract_no,
        recognized_on=recognized_on,
        due_on=due_on,
        amount=from_fen(amount_fen),
        department=department,
        responsible=responsible,
        rate=rate,
        rate_basis=basis,
        rate_source=source,
    )


def _page_query(variant: str, dialect: str):
    """The lines to show: "page" (one page of the counterparty's lines in the order of
    payment: due date, recognition date, document number), "open page" (the same, open
    lines only), or "ids" (the items :ids). The page's ids are found first, so that only its
    lines are joined to their names."""
    lines = sa.select(*_line_columns(items_t)).select_from(items_t)
    if variant == "ids":
        return _with_names(lines, items_t).where(
            _one_of_ids(items_t.c.id, dialect), items_t.c.recognized_on <= AS_OF
        )
    if variant == "open page":
        balances = _balances()
        keys = sa.select(balances.c.id).where(
            balances.c.amount_fen - balances.c.applied_fen - balances.c.credited_fen != 0
        )
    else:
        keys = sa.select(items_t.c.id).where(
            items_t.c.counterparty_id == CP, items_t.c.recognized_on <= AS_OF
        )
        balances = items_t
    keys = (
        keys.order_by(balances.c.due_on, balances.c.recognized_on, balances.c.document_no)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )
    return _with_names(lines, items_t).where(items_t.c.id.in_(keys))


@functools.cache
def _lines_statement(variant: str, dialect: str):
    page = _page_query(variant, dialect).subquery("page")
    return sa.select(page).order_by(page.c.due_on, page.c.recognized_on, page.c.document_no)


@functools.cache
def _movements_statement(dialect: str):
    """The applications and approved adjustments dated by as_of of the items :ids."""
    applications = (
        sa.select(
            sa.literal_column("0").label("source"),
            apps_t.c.item_id,
            apps_t.c.applied_on.label("day"),
            fen(apps_t.c.amount).label("fen"),
            apps_t.c.receipt_id.label("ref_id"),
            receipts_t.c.receipt_no.label("number"),
            sa.cast(sa.null(), sa.String).label("kind"),
            sa.cast(sa.null(), sa.String).label("reason"),
        )
        .select_from(apps_t.join(receipts_t, receipts_t.c.id == apps_t.c.receipt_id))
        .where(_one_of_ids(apps_t.c.item_id, dialect), apps_t.c.applied_on <= AS_OF)
    )
    adjustments = sa.select(
        sa.literal_column("1"),
        adj_t.c.item_id,
        adj_t.c.dated_on,
        fen(adj_t.c.amount),
        adj_t.c.id,
        adj_t.c.number,
        adj_t.c.kind,
        adj_t.c.reason,
    ).where(
        _one_of_ids(adj_t.c.item_id, dialect),
        adj_t.c.status == "approved",
        adj_t.c.dated_on <= AS_OF,
    )
    moves = sa.union_all(applications, adjustments).subquery("movements")
    return sa.select(moves).order_by(moves.c.source, moves.c.day, moves.c.number)


def _lines(variant: str, params: dict, terms: InterestTerms) -> list[ItemLine]:
    """Queries 2 and 3: the item lines (see _page_query), then their applications and
    approved adjustments dated by as_of. A line's figures follow from its own movements, by
    the rules."""
    as_of, dialect = params["as_of"], _dialect()
    lines = [
        _item_line(row, terms)
        for row in db.session.execute(_lines_statement(variant, dialect), params)
    ]
    if not lines:
        return lines
    by_id = {line.id: line for line in lines}
    moves: dict[int, list[tuple[date, int, int]]] = {line.id: [] for line in lines}
    rows = db.session.execute(_movements_statement(dialect), {**params, "ids": list(by_id)})
    for source, item_id, day, amount, ref_id, number, kind, reason in rows:
        line, source = by_id[item_id], int(source)
        moves[item_id].append((day, amount, source))
        if source == 0:
            line.applications.append(
                AppliedLine(day, ref_id, number, item_id, line.document_no, from_fen(amount))
            )
        else:
            line.adjustments.append(
                AdjustmentLine(
                    ref_id, number, kind, from_fen(amount), day, item_id, line.document_no, reason
                )
            )
    for line in lines:
        _figure(line, moves[line.id], as_of, terms)
    return lines


def _figure(line: ItemLine, moves, as_of: date, terms: InterestTerms) -> None:
    """A line's figures from its amount and its movements dated by as_of (rules.py)."""
    amount = to_fen(line.amount)
    applied = sum(fen for _day, fen, source in moves if source == 0)
    credited = sum(fen for _day, fen, source in moves if source == 1)
    outstanding = amount - applied - credited
    line.applied = from_fen(applied)
    line.credited = from_fen(credited)
    line.outstanding = from_fen(outstanding)
    line.days_overdue = rules.days_past_due(line.due_on, as_of) if outstanding > 0 else 0
    line.due_bucket = rules.due_bucket(line.due_on, as_of)
    line.age_bucket = rules.age_bucket(line.recognized_on, as_of)
    if line.due_on < as_of:
        reductions = [(day, fen) for day, fen, _source in moves]
        line.interest = rules.overdue_interest(
            amount, reductions, line.due_on, as_of, line.rate, line.rate_basis, terms.day_count
        )


@functools.cache
def _receipts_statement():
    page = (
        sa.select(
            receipts_t.c.id,
            receipts_t.c.receipt_no,
            receipts_t.c.received_on,
            fen(receipts_t.c.amount).label("amount_fen"),
            receipts_t.c.method,
            receipts_t.c.reference,
            receipts_t.c.item_id,
        )
        .where(receipts_t.c.counterparty_id == CP, receipts_t.c.received_on <= AS_OF)
        .order_by(receipts_t.c.received_on, receipts_t.c.receipt_no)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("receipts_offset", type_=sa.Integer))
        .subquery("page")
    )
    named, paid = items_t.alias("named"), items_t.alias("paid")
    return (
        sa.select(
            page,
            named.c.document_no.label("named_no"),
            apps_t.c.applied_on,
            fen(apps_t.c.amount).label("applied_fen"),
            apps_t.c.item_id.label("paid_id"),
            paid.c.document_no.label("paid_no"),
        )
        .outerjoin(named, named.c.id == page.c.item_id)
        .outerjoin(apps_t, sa.and_(apps_t.c.receipt_id == page.c.id, apps_t.c.applied_on <= AS_OF))
        .outerjoin(paid, paid.c.id == apps_t.c.item_id)
        .order_by(page.c.received_on, page.c.receipt_no, apps_t.c.applied_on, paid.c.document_no)
    )


def _receipt_page(params: dict) -> tuple[list[ReceiptLine], list[AppliedLine]]:
    """Query 4: one page of receipts by date and number, each with its applications."""
    receipts: list[ReceiptLine] = []
    applications: list[AppliedLine] = []
    applied_fen: dict[int, int] = {}
    for row in db.session.execute(_receipts_statement(), params):
        (receipt_id, receipt_no, received_on, amount, method, reference, item_id, named_no) = row[
            :8
        ]
        applied_on, paid_fen, paid_id, paid_no = row[8:]
        if not receipts or receipts[-1].id != receipt_id:
            receipts.append(
                ReceiptLine(
                    receipt_id,
                    receipt_no,
                    received_on,
                    from_fen(amount),
                    method,
                    reference,
                    item_id,
                    named_no,
                )
            )
            applied_fen[receipt_id] = 0
        if paid_id is not None:
            application = AppliedLine(
                applied_on, receipt_id, receipt_no, paid_id, paid_no, from_fen(paid_fen)
            )
            receipts[-1].applications.append(application)
            applications.append(application)
            applied_fen[receipt_id] += paid_fen
    for receipt in receipts:
        receipt.applied = from_fen(applied_fen[receipt.id])
    applications.sort(key=lambda a: (a.applied_on, a.receipt_no, a.document_no))
    return receipts, applications


# ---------------------------------------------------------------------------------------------
# Entry points


def build_statement(
    counterparty_id: int,
    as_of: date,
    terms: InterestTerms | None = None,
    *,
    page: int | None = 1,
    receipts_page: int | None = 1,
    per_page: int | None = None,
    open_only: bool = False,
) -> Statement:
    """Everything about one counterparty as of a date: totals over all its items recognised
    by then (amounts, applications, credits, outstanding, overdue, both agings, interest),
    received money and unapplied credit; and one page of item lines (only open ones with
    ``open_only``) and one page of receipts with how each was applied."""
    terms = terms or interest_terms()
    per_page = per_page or PER_PAGE
    statement = Statement(
        counterparty_id=counterparty_id,
        as_of=as_of,
        terms=terms,
        items=[],
        receipts=[],
        applications=[],
        adjustments=[],
        open_only=open_only,
        page=max(1, page or 1),
        receipts_page=max(1, receipts_page or 1),
        per_page=per_page,
    )
    params = _params(
        counterparty_id,
        as_of,
        limit=per_page,
        offset=(statement.page - 1) * per_page,
        receipts_offset=(statement.receipts_page - 1) * per_page,
        **_rate_params(terms),
    )
    _figures(statement, params)
    if statement.item_count:
        statement.items = _lines("open page" if open_only else "page", params, terms)
        statement.adjustments = sorted(
            (a for line in statement.items for a in line.adjustments),
            key=lambda a: (a.dated_on, a.number),
        )
    if statement.receipt_count:
        statement.receipts, statement.applications = _receipt_page(params)
    return statement


def item_lines(item_ids: list[int], as_of: date, terms: InterestTerms | None = None):
    """{item id: ItemLine} for a page of items (the project page's columns)."""
    if not item_ids:
        return {}
    terms = terms or interest_terms()
    params = {"as_of": as_of, "ids": list(item_ids)}
    return {line.id: line for line in _lines("ids", params, terms)}


def item_line(item_id: int, as_of: date, terms: InterestTerms | None = None) -> ItemLine | None:
    """One item's figures as of a date (None when it is not recognised by then)."""
    return item_lines([item_id], as_of, terms).get(item_id)
