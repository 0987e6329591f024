"""Reads for the ledger screens, in SQL, built on queries.outstanding_items.

Every figure a screen shows is counted or summed here, in the database; the views only
format what comes back. Outstanding, buckets and unapplied credit follow queries.py (and so
rules.py): nothing here restates how an outstanding amount is found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.auth.models import Department, User
from recovery.core.money import from_fen
from recovery.core.pagination import PER_PAGE, Page
from recovery.core.sqltime import days_between
from recovery.extensions import db
from recovery.ledger import open_sums, queries, rules
from recovery.ledger.models import Adjustment, Item
from recovery.parties.models import Contract, Counterparty, Project

TRUE_VALUES = ("1", "on", "true", "y")


@dataclass
class ScreenFilter(queries.LedgerFilter):
    """The ledger filter plus two the screens need: open items only (query argument
    ``show``: "open", the default, or "all"), and items without a responsible person (the
    aging view's row of items nobody is responsible for drills down to those)."""

    open_only: bool = False
    no_responsible: bool = False

    @classmethod
    def from_args(cls, args) -> ScreenFilter:
        item_filter = super().from_args(args)
        item_filter.open_only = args.get("show", "open") != "all"
        item_filter.no_responsible = args.get("no_responsible") in TRUE_VALUES
        return item_filter

    def to_args(self) -> dict[str, str]:
        args = super().to_args()
        if not self.open_only:
            args["show"] = "all"
        if self.no_responsible:
            args["no_responsible"] = "1"
        return args

    def apply(self, query, columns, as_of: date):
        query = super().apply(query, columns, as_of)
        if self.no_responsible:
            query = query.where(columns["responsible_id"].is_(None))
        return query


def balances(as_of: date, item_filter: queries.LedgerFilter | None = None):
    """queries.outstanding_items, narrowed to open items when the filter asks for them."""
    open_only = getattr(item_filter, "open_only", False)
    # open_only: items closed now and not moved since the date are left out with a literal 0,
    # so that the partial indexes of open items serve the list even under a generic plan.
    subquery = queries.outstanding_items(as_of, item_filter, open_only=open_only)
    if open_only:
        subquery = (
            sa.select(*subquery.c).where(subquery.c.outstanding_fen != 0).subquery("open_items")
        )
    return subquery


def days_overdue_column(b, as_of: date):
    """Days past due of an open item (0 for items not due or fully paid)."""
    return sa.case(
        (
            sa.and_(b.c.due_on < as_of, b.c.outstanding_fen != 0),
            days_between(as_of, b.c.due_on),
        ),
        else_=0,
    )


# ---------------------------------------------------------------------------------------------
# The ledger list

SORTS = (
    "document_no",
    "counterparty",
    "due_on",
    "recognized_on",
    "amount",
    "outstanding",
    "days_overdue",
)
DEFAULT_SORT = ("due_on", "asc")


def parse_sort(sort: str | None, direction: str | None) -> tuple[str, str]:
    """A whitelisted sort column and direction; anything else falls back to the default."""
    if sort not in SORTS:
        return DEFAULT_SORT
    return sort, ("desc" if direction == "desc" else "asc")


@dataclass
class LedgerRow:
    id: int
    document_no: str
    counterparty_id: int
    counterparty_code: str
    counterparty_name: str
    project_id: int | None
    project_code: str | None
    contract_no: str | None
    item_type: str
    category: str
    recognized_on: date
    due_on: date
    amount: Decimal
    outstanding: Decimal
    days_overdue: int
    department: str | None
    responsible: str | None
    as_of: date

    @property
    def bucket(self) -> str | None:
        """The due bucket of an open item (None once fully paid)."""
        if not self.outstanding:
            return None
        return rules.due_bucket(self.due_on, self.as_of)


def ledger_page(
    as_of: date,
    item_filter: queries.LedgerFilter,
    sort: str | None = None,
    direction: str | None = None,
    page: int | None = 1,
    per_page: int = PER_PAGE,
    total: int | None = None,
) -> Page:
    """One page of the filtered items with their outstanding as of the date (count in SQL;
    pass ``total`` when it is known already, e.g. from totals(), to save a scan).

    Two steps: the page's item ids in order (sort key and id only, so an index on the sort
    column can serve it and the scan stops after the page), then those items' columns and
    names. Ties are broken by item id.
    """
    b = balances(as_of, item_filter)
    sort, direction = parse_sort(sort, direction)
    cp, pr, ct = Counterparty.__table__, Project.__table__, Contract.__table__
    dept, user = Department.__table__, User.__table__
    number = max(1, page or 1)
    if total is None:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(b)) or 0
    offset = (number - 1) * per_page
    if offset >= total:
        return Page(items=[], number=number, per_page=per_page, total=total)

    keys = {
        "document_no": b.c.document_no,
        "counterparty": cp.c.code,
        "due_on": b.c.due_on,
        "recognized_on": b.c.recognized_on,
        "amount": b.c.amount_fen,
        "outstanding": b.c.outstanding_fen,
        "days_overdue": days_overdue_column(b, as_of),
    }
    ordered = [keys[sort], b.c.id]
    ids_query = sa.select(b.c.id).select_from(b)
    if sort == "counterparty":
        ids_query = ids_query.join(cp, cp.c.id == b.c.counterparty_id)
    ids_query = (
        ids_query.order_by(*(c.desc() if direction == "desc" else c.asc() for c in ordered))
        .limit(per_page)
        .offset(offset)
    )
    ids = list(db.session.scalars(ids_query))
    detail = (
        sa.select(
            b.c.id,
            b.c.document_no,
            b.c.counterparty_id,
            cp.c.code.label("counterparty_code"),
            cp.c.name.label("counterparty_name"),
            b.c.project_id,
            pr.c.code.label("project_code"),
            ct.c.number.label("contract_no"),
            b.c.item_type,
            b.c.category,
            b.c.recognized_on,
            b.c.due_on,
            b.c.amount_fen,
            b.c.outstanding_fen,
            days_overdue_column(b, as_of).label("days_overdue"),
            dept.c.name.label("department"),
            user.c.display_name.label("responsible"),
        )
        .select_from(b)
        .join(cp, cp.c.id == b.c.counterparty_id)
        .outerjoin(pr, pr.c.id == b.c.project_id)
        .outerjoin(ct, ct.c.id == b.c.contract_id)
        .outerjoin(dept, dept.c.id == b.c.department_id)
        .outerjoin(user, user.c.id == b.c.responsible_id)
        .where(b.c.id.in_(ids))
    )
    by_id = {
        r.id: LedgerRow(
            id=r.id,
            document_no=r.document_no,
            counterparty_id=r.counterparty_id,
            counterparty_code=r.counterparty_code,
            counterparty_name=r.counterparty_name,
            project_id=r.project_id,
            project_code=r.project_code,
            contract_no=r.contract_no,
            item_type=r.item_type,
            category=r.category,
            recognized_on=r.recognized_on,
            due_on=r.due_on,
            amount=from_fen(int(r.amount_fen)),
            outstanding=from_fen(int(r.outstanding_fen)),
            days_overdue=int(r.days_overdue or 0),
            department=r.department,
            responsible=r.responsible,
            as_of=as_of,
        )
        for r in db.session.execute(detail)
    }
    rows = [by_id[item_id] for item_id in ids if item_id in by_id]
    return Page(items=rows, number=number, per_page=per_page, total=total)


@dataclass
class Totals:
    """Sums of a filtered set of items as of a date. outstanding == Σ due buckets == Σ age
    buckets, always (every item falls in exactly one bucket of each basis)."""

    count: int
    amount: Decimal
    outstanding: Decimal
    overdue: Decimal
    due: dict[str, Decimal]
    age: dict[str, Decimal]

    @property
    def due_sum(self) -> Decimal:
        return sum(self.due.values(), Decimal("0.00"))

    @property
    def age_sum(self) -> Decimal:
        return sum(self.age.values(), Decimal("0.00"))


def totals(
    as_of: date, item_filter: queries.LedgerFilter | None = None, *, kept: bool = True
) -> Totals:
    """Count, amounts, outstanding, overdue and both bucket rows of the filtered items.

    One pass: the items are grouped by (due bucket, age bucket) — at most 48 groups — so that
    each item's outstanding is computed once, not once per bucket; the groups are added up
    here. Overdue is everything not in the "not due" bucket.

    The open items of the whole company or of one department (overdue or all) are summed
    from the kept open-item sums where they stand for the items (open_sums.usable;
    ``kept=False`` sums the items)."""
    if (
        kept
        and getattr(item_filter, "open_only", False)
        and open_sums.usable(as_of, item_filter, ("department_id", "overdue_only"))
    ):
        return _kept_totals(as_of, item_filter)
    b = balances(as_of, item_filter)
    keyed = sa.select(
        b.c.amount_fen,
        b.c.outstanding_fen,
        queries.bucket_index("due", b.c, as_of).label("due_index"),
        queries.bucket_index("age", b.c, as_of).label("age_index"),
    ).subquery("keyed")
    rows = db.session.execute(
        sa.select(
            keyed.c.due_index,
            keyed.c.age_index,
            sa.func.count(),
            sa.cast(sa.func.sum(keyed.c.amount_fen), sa.BigInteger),
            sa.cast(sa.func.sum(keyed.c.outstanding_fen), sa.BigInteger),
        ).group_by(keyed.c.due_index, keyed.c.age_index)
    )
    count = amount = 0
    due = dict.fromkeys(rules.DUE_BUCKETS, 0)
    age = dict.fromkeys(rules.AGE_BUCKETS, 0)
    for due_index, age_index, items, amount_fen, outstanding_fen in rows:
        count += items
        amount += int(amount_fen or 0)
        due[rules.DUE_BUCKETS[due_index]] += int(outstanding_fen or 0)
        age[rules.AGE_BUCKETS[age_index]] += int(outstanding_fen or 0)
    return _totals(count, amount, due, age)


def _kept_totals(as_of: date, item_filter: queries.LedgerFilter) -> Totals:
    """totals() from the kept open-item sums: the due buckets' rows give the count and the
    amounts, the age buckets' rows the age row."""
    narrowed = {
        "department_id": item_filter.department_id,
        "overdue_only": item_filter.overdue_only,
    }
    count = amount = 0
    due = dict.fromkeys(rules.DUE_BUCKETS, 0)
    age = dict.fromkeys(rules.AGE_BUCKETS, 0)
    for (_, index), (items, amount_fen, open_fen) in open_sums.bucket_sums(
        as_of, "due", **narrowed
    ).items():
        count += items
        amount += amount_fen
        due[rules.DUE_BUCKETS[index]] += open_fen
    for (_, index), (_items, _amount, open_fen) in open_sums.bucket_sums(
        as_of, "age", **narrowed
    ).items():
        age[rules.AGE_BUCKETS[index]] += open_fen
    return _totals(count, amount, due, age)


def _totals(count: int, amount: int, due: dict[str, int], age: dict[str, int]) -> Totals:
    outstanding = sum(due.values())
    return Totals(
        count=count,
        amount=from_fen(amount),
        outstanding=from_fen(outstanding),
        overdue=from_fen(outstanding - due["not_due"]),
        due={bucket: from_fen(fen) for bucket, fen in due.items()},
        age={bucket: from_fen(fen) for bucket, fen in age.items()},
    )


def visible_unapplied_credit(as_of: date, item_filter: queries.LedgerFilter) -> Decimal | None:
    """Unapplied credit to show beside a filtered list, or None when it does not apply.

    It belongs to counterparties: shown when the list is filtered to one counterparty (that
    the user may see) and nothing else; never split by project, type, bucket, etc. (The whole
    ledger's credit is on the aging view, by counterparty.)
    """
    narrowing = [
        name
        for name in (
            "project_id",
            "contract_id",
            "department_id",
            "responsible_id",
            "item_type",
            "category",
            "bucket",
            "overdue_only",
            "no_project",
            "no_department",
            "no_responsible",
        )
        if getattr(item_filter, name, None)
    ]
    if narrowing or item_filter.counterparty_id is None:
        return None
    if not counterparty_visible(item_filter.counterparty_id, item_filter.visible_to):
        return None
    credit = queries.unapplied_credit(as_of, item_filter.counterparty_id)
    return from_fen(credit.get(item_filter.counterparty_id, 0))


# ---------------------------------------------------------------------------------------------
# Who may see a counterparty


def visible_counterparty_ids(user_id: int):
    """A SELECT of the counterparties a sales user may open: those they are responsible for
    and those with an item they are responsible for (the same as LedgerFilter.visible_to)."""
    cp, items = Counterparty.__table__, Item.__table__
    return sa.union(
        sa.select(cp.c.id).where(cp.c.responsible_id == user_id),
        sa.select(items.c.counterparty_id).where(items.c.responsible_id == user_id),
    )


def counterparty_visible(counterparty_id: int, user_id: int | None) -> bool:
    """Whether a user (None: one who sees the whole ledger) may open this counterparty."""
    if user_id is None:
        return True
    cp, items = Counterparty.__table__, Item.__table__
    own = db.session.scalar(
        sa.select(cp.c.id).where(cp.c.id == counterparty_id, cp.c.responsible_id == user_id)
    )
    if own is not None:
        return True
    return (
        db.session.scalar(
            sa.select(items.c.id)
            .where(items.c.counterparty_id == counterparty_id, items.c.responsible_id == user_id)
            .limit(1)
        )
        is not None
    )


# ---------------------------------------------------------------------------------------------
# Counterparty and project lists with their balances


@dataclass
class BalanceRow:
    id: int
    code: str
    name: str
    extra: object  # the ORM object (counterparty or project) for the other columns
    outstanding: Decimal
    overdue: Decimal
    unapplied_credit: Decimal | None


def _balances_by(as_of: date, column: str, ids: list[int]) -> dict[int, tuple[int, int]]:
    """{id: (outstanding fen, overdue fen)} for the given counterparties or projects."""
    if not ids:
        return {}
    b = queries.outstanding_items(as_of)
    group = b.c[column]
    amount = b.c.outstanding_fen
    query = (
        sa.select(
            group,
            sa.func.sum(amount),
            sa.func.sum(sa.case((b.c.due_on < as_of, amount), else_=0)),
        )
        .where(group.in_(ids))
        .group_by(group)
    )
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in db.session.execute(query)}


def counterparty_page(
    as_of: date,
    search: str = "",
    visible_to: int | None = None,
    page: int | None = 1,
    per_page: int = PER_PAGE,
    with_balance_only: bool = False,
    archived: str = "active",
) -> Page:
    """Counterparties by code, one page, each with its outstanding, overdue and credit.
    ``archived``: "active" (not archived, the default), "archived" or "all"."""
    query = sa.select(Counterparty).order_by(Counterparty.code)
    if archived == "active":
        query = query.where(Counterparty.archived_at.is_(None))
    elif archived == "archived":
        query = query.where(Counterparty.archived_at.is_not(None))
    search = (search or "").strip()
    if search:
        pattern = f"%{search}%"
        query = query.where(
            sa.or_(
                Counterparty.code.ilike(pattern),
                Counterparty.name.ilike(pattern),
                Counterparty.credit_code.ilike(pattern),
            )
        )
    if visible_to is not None:
        query = query.where(Counterparty.id.in_(visible_counterparty_ids(visible_to)))
    if with_balance_only:
        b = queries.outstanding_items(as_of)
        query = query.where(
            Counterparty.id.in_(sa.select(b.c.counterparty_id).where(b.c.outstanding_fen != 0))
        )
    number = max(1, page or 1)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    objects = db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all()
    ids = [c.id for c in objects]
    sums = _balances_by(as_of, "counterparty_id", ids)
    rows = []
    for counterparty in objects:
        outstanding, overdue = sums.get(counterparty.id, (0, 0))
        # One indexed query per counterparty on the page (at most a page's worth).
        credit = queries.unapplied_credit(as_of, counterparty.id).get(counterparty.id, 0)
        rows.append(
            BalanceRow(
                counterparty.id,
                counterparty.code,
                counterparty.name,
                counterparty,
                from_fen(outstanding),
                from_fen(overdue),
                from_fen(credit),
            )
        )
    return Page(items=rows, number=number, per_page=per_page, total=total or 0)


def project_page(
    as_of: date, search: str = "", page: int | None = 1, per_page: int = PER_PAGE
) -> Page:
    """Projects by code, one page, each with its outstanding and overdue."""
    query = sa.select(Project).order_by(Project.code)
    search = (search or "").strip()
    if search:
        pattern = f"%{search}%"
        query = query.where(sa.or_(Project.code.ilike(pattern), Project.name.ilike(pattern)))
    number = max(1, page or 1)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    objects = db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all()
    sums = _balances_by(as_of, "project_id", [p.id for p in objects])
    rows = []
    for project in objects:
        outstanding, overdue = sums.get(project.id, (0, 0))
        rows.append(
            BalanceRow(
                project.id,
                project.code,
                project.name,
                project,
                from_fen(outstanding),
                from_fen(overdue),
                None,
            )
        )
    return Page(items=rows, number=number, per_page=per_page, total=total or 0)


def project_visible(project_id: int, user_id: int | None) -> bool:
    """A sales user may open a project where they can see at least one item."""
    if user_id is None:
        return True
    items = Item.__table__
    visible = sa.or_(
        items.c.responsible_id == user_id,
        items.c.counterparty_id.in_(
            sa.select(Counterparty.__table__.c.id).where(
                Counterparty.__table__.c.responsible_id == user_id
            )
        ),
    )
    return (
        db.session.scalar(
            sa.select(items.c.id).where(items.c.project_id == project_id, visible).limit(1)
        )
        is not None
    )


# ---------------------------------------------------------------------------------------------
# Credit notes and write-offs waiting for a decision


def pending_adjustments(counterparty_id: int | None = None, limit: int | None = None):
    """Proposed credit notes / write-offs, oldest first (optionally of one counterparty)."""
    query = (
        sa.select(Adjustment)
        .join(Item, Item.id == Adjustment.item_id)
        .where(Adjustment.status == "proposed")
        .order_by(Adjustment.created_at, Adjustment.id)
    )
    if counterparty_id is not None:
        query = query.where(Item.counterparty_id == counterparty_id)
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


def pending_adjustment_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Adjustment).where(Adjustment.status == "proposed")
    )
