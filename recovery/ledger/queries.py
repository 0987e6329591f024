"""Reads and aggregates of the ledger, in SQL. Every figure follows rules.py; tests check the
SQL against those pure functions on random ledgers, on SQLite and PostgreSQL.

Amounts are summed as integer fen in SQL and turned into Decimal yuan at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.auth.models import Department, User
from recovery.core.money import from_fen
from recovery.core.sqltime import days_between, not_indexed
from recovery.extensions import db
from recovery.ledger import rules
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Counterparty, Project

items_t = Item.__table__
apps_t = Application.__table__
adj_t = Adjustment.__table__
receipts_t = Receipt.__table__


def fen(column):
    """A Money column as the raw integer fen it is stored as (no Decimal conversion)."""
    return sa.type_coerce(column, sa.BigInteger)


@dataclass
class LedgerFilter:
    """The filters of the ledger screen, the aging views and exports."""

    counterparty_id: int | None = None
    project_id: int | None = None
    contract_id: int | None = None
    department_id: int | None = None
    responsible_id: int | None = None
    item_type: str | None = None
    category: str | None = None
    overdue_only: bool = False
    bucket: str | None = None  # a due bucket or an age bucket name
    no_project: bool = False
    no_department: bool = False
    visible_to: int | None = None  # a user id: only what that sales user may see

    @classmethod
    def for_user(cls, user, **values) -> LedgerFilter:
        """A filter scoped to what ``user`` may see: sales-only users see their own accounts."""
        item_filter = cls(**values)
        item_filter.visible_to = scope_user_id(user)
        return item_filter

    @classmethod
    def from_args(cls, args) -> LedgerFilter:
        """Read the filter from query-string arguments (unknown or malformed ones are ignored,
        so a hand-edited URL never causes an error)."""

        def integer(name):
            value = args.get(name, "")
            return int(value) if str(value).isdigit() else None

        bucket = args.get("bucket") or None
        if bucket not in (*rules.DUE_BUCKETS, *rules.AGE_BUCKETS):
            bucket = None
        return cls(
            counterparty_id=integer("counterparty_id"),
            project_id=integer("project_id"),
            contract_id=integer("contract_id"),
            department_id=integer("department_id"),
            responsible_id=integer("responsible_id"),
            item_type=args.get("item_type") or None,
            category=args.get("category") or None,
            overdue_only=args.get("overdue_only") in ("1", "on", "true", "y"),
            bucket=bucket,
            no_project=args.get("no_project") in ("1", "on", "true", "y"),
            no_department=args.get("no_department") in ("1", "on", "true", "y"),
        )

    def to_args(self) -> dict[str, str]:
        """The inverse of from_args: query-string arguments for links and exports."""
        args = {}
        for name in (
            "counterparty_id",
            "project_id",
            "contract_id",
            "department_id",
            "responsible_id",
            "item_type",
            "category",
            "bucket",
        ):
            value = getattr(self, name)
            if value is not None:
                args[name] = str(value)
        for name in ("overdue_only", "no_project", "no_department"):
            if getattr(self, name):
                args[name] = "1"
        return args

    def apply(self, query, columns, as_of: date):
        """Add WHERE clauses on ``columns`` (a selectable with the item columns)."""
        c = columns
        for name in ("counterparty_id", "project_id", "contract_id", "department_id"):
            value = getattr(self, name)
            if value is not None:
                query = query.where(c[name] == value)
        if self.responsible_id is not None:
            query = query.where(c["responsible_id"] == self.responsible_id)
        if self.no_project:
            query = query.where(c["project_id"].is_(None))
        if self.no_department:
            query = query.where(c["department_id"].is_(None))
        if self.visible_to is not None:
            # A sales user sees the items they are responsible for, or whose counterparty is.
            own_counterparties = sa.select(Counterparty.__table__.c.id).where(
                Counterparty.__table__.c.responsible_id == self.visible_to
            )
            query = query.where(
                sa.or_(
                    c["responsible_id"] == self.visible_to,
                    c["counterparty_id"].in_(own_counterparties),
                )
            )
        if self.item_type:
            query = query.where(c["item_type"] == self.item_type)
        if self.category:
            query = query.where(c["category"] == self.category)
        if self.overdue_only:
            query = query.where(c["due_on"] < as_of)
        if self.bucket:
            query = query.where(bucket_condition(self.bucket, c, as_of))
        return query


# Roles that see the whole ledger; a user with none of them (sales) sees their own accounts.
WHOLE_LEDGER_ROLES = ("finance", "supervisor", "legal", "executive", "admin")


def scope_user_id(user) -> int | None:
    """None when ``user`` sees the whole ledger, else their id (to restrict to their accounts)."""
    if user is None or user.has_role(*WHOLE_LEDGER_ROLES):
        return None
    return user.id


def bucket_condition(bucket: str, c, as_of: date):
    if bucket in rules.DUE_BUCKETS:
        low, high = rules.due_bucket_bounds(as_of)[bucket]
        column = c["due_on"]
        if bucket == "not_due":
            return column >= low
    elif bucket in rules.AGE_BUCKETS:
        low, high = rules.age_bucket_bounds(as_of)[bucket]
        column = c["recognized_on"]
        conditions = [column <= high]
        if low is not None:
            conditions.append(column > low)
        return sa.and_(*conditions)
    else:
        raise ValueError(f"unknown bucket {bucket}")
    conditions = []
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column <= high)
    return sa.and_(*conditions)


def bucket_index(basis: str, c, as_of: date):
    """The index in rules.DUE_BUCKETS ("due": by ``c["due_on"]``) or rules.AGE_BUCKETS ("age":
    by ``c["recognized_on"]``) of an item's bucket as of a date: the buckets are contiguous
    date ranges, latest first, so the first lower bound the date reaches is the bucket's —
    one CASE per item to group by, where bucket_condition is one comparison per bucket."""
    if basis == "due":
        names, bounds, column = rules.DUE_BUCKETS, rules.due_bucket_bounds(as_of), c["due_on"]
        whens = [(column >= bounds[name][0], index) for index, name in enumerate(names[:-1])]
    else:
        names, bounds = rules.AGE_BUCKETS, rules.age_bucket_bounds(as_of)
        column = c["recognized_on"]
        whens = [(column > bounds[name][0], index) for index, name in enumerate(names[:-1])]
    return sa.case(*whens, else_=len(names) - 1)


def nothing_moved_after(as_of: date) -> bool:
    """Whether no item has a payment or credit dated after ``as_of`` (the usual case as of
    today): one look at the end of the index on last_movement_on."""
    latest = db.session.scalar(sa.select(sa.func.max(items_t.c.last_movement_on)))
    return latest is None or latest <= as_of


def outstanding_items(
    as_of: date, item_filter: LedgerFilter | None = None, *, open_only: bool = False
):
    """Items recognised by ``as_of`` with their outstanding fen as of that date (a subquery).

    Items whose last payment or credit is dated on or before ``as_of`` (nearly all, for
    today) take their stored open amount; only the others sum their movements up to the date.
    When no item moved after the date, the movements are not even joined.

    ``open_only``: leave out items closed as of the date early — an item open then is open
    now or moved after it — so that the planner reads the partial index of open items
    (a literal 0 matches its predicate) instead of an index of all items.
    """
    if nothing_moved_after(as_of):
        outstanding = fen(items_t.c.open_amount)
        paid = credited = None
    else:
        outstanding, paid, credited = _moved_later_outstanding(as_of, item_filter)
    query = sa.select(
        items_t.c.id,
        items_t.c.document_no,
        items_t.c.counterparty_id,
        items_t.c.project_id,
        items_t.c.contract_id,
        items_t.c.department_id,
        items_t.c.responsible_id,
        items_t.c.item_type,
        items_t.c.category,
        fen(items_t.c.amount).label("amount_fen"),
        items_t.c.recognized_on,
        items_t.c.due_on,
        items_t.c.overdue_rate,
        outstanding.label("outstanding_fen"),
    ).select_from(items_t)
    if open_only:
        open_now = fen(items_t.c.open_amount) != sa.literal_column("0")
        if paid is not None:
            open_now = sa.or_(open_now, items_t.c.last_movement_on > as_of)
        # Nearly every open item was recognised by the date: not a condition to index on.
        query = query.where(open_now, not_indexed(items_t.c.recognized_on) <= as_of)
    else:
        query = query.where(items_t.c.recognized_on <= as_of)
    if paid is not None:
        query = query.outerjoin(paid, paid.c.item_id == items_t.c.id).outerjoin(
            credited, credited.c.item_id == items_t.c.id
        )
    if item_filter is not None:
        query = item_filter.apply(query, items_t.c, as_of)
    return query.subquery("balances")


def _moved_later_outstanding(as_of: date, item_filter: LedgerFilter | None):
    """(outstanding expression, paid subquery, credited subquery): the stored open amount,
    or for an item with a movement after ``as_of`` its amount less its movements by then."""
    moved_later = sa.and_(
        items_t.c.last_movement_on.is_not(None), items_t.c.last_movement_on > as_of
    )
    # Sums cast back to BIGINT: PostgreSQL's sum(bigint) is numeric, which would make every
    # outstanding amount (and each bucket summing it) numeric arithmetic.
    paid = (
        sa.select(
            apps_t.c.item_id, sa.cast(sa.func.sum(fen(apps_t.c.amount)), sa.BigInteger).label("fen")
        )
        .join(items_t, items_t.c.id == apps_t.c.item_id)
        .where(apps_t.c.applied_on <= as_of, moved_later)
    )
    credited = (
        sa.select(
            adj_t.c.item_id, sa.cast(sa.func.sum(fen(adj_t.c.amount)), sa.BigInteger).label("fen")
        )
        .join(items_t, items_t.c.id == adj_t.c.item_id)
        .where(adj_t.c.status == "approved", adj_t.c.dated_on <= as_of, moved_later)
    )
    if item_filter is not None:
        # Filter the movements too, so a filtered view sums only its own items' movements.
        paid = item_filter.apply(paid, items_t.c, as_of)
        credited = item_filter.apply(credited, items_t.c, as_of)
    paid = paid.group_by(apps_t.c.item_id).subquery("paid")
    credited = credited.group_by(adj_t.c.item_id).subquery("credited")
    outstanding = sa.case(
        (
            moved_later,
            fen(items_t.c.amount)
            - sa.func.coalesce(paid.c.fen, 0)
            - sa.func.coalesce(credited.c.fen, 0),
        ),
        else_=fen(items_t.c.open_amount),
    )
    return outstanding, paid, credited


def _credit_movements(as_of: date, counterparty_id: int | None = None):
    """The unapplied credit as of ``as_of`` as (cp, fen) rows to add up: each receipt's stored
    unapplied amount (today's credit, from the partial index ix_receipts_unapplied), plus the
    applications dated after ``as_of`` (not applied yet then), less the receipts received
    after it (not received yet then). As of today the last two are empty ranges of
    ix_applications_applied and ix_receipts_received. Equal to received by then − applied by
    then: received − applied = stored unapplied, and each side is split at the date."""
    unapplied = sa.select(
        receipts_t.c.counterparty_id.label("cp"), fen(receipts_t.c.unapplied_amount).label("fen")
    ).where(receipts_t.c.unapplied_amount != sa.literal_column("0"))
    applied_later = sa.select(
        apps_t.c.counterparty_id.label("cp"), fen(apps_t.c.amount).label("fen")
    ).where(apps_t.c.applied_on > as_of)
    received_later = sa.select(
        receipts_t.c.counterparty_id.label("cp"), (-fen(receipts_t.c.amount)).label("fen")
    ).where(receipts_t.c.received_on > as_of)
    if counterparty_id is not None:
        unapplied = unapplied.where(receipts_t.c.counterparty_id == counterparty_id)
        applied_later = applied_later.where(apps_t.c.counterparty_id == counterparty_id)
        received_later = received_later.where(receipts_t.c.counterparty_id == counterparty_id)
    return unapplied, applied_later, received_later


def unapplied_credit(as_of: date, counterparty_id: int | None = None):
    """{counterparty_id: fen} of money received by ``as_of`` and not applied by then."""
    movements = sa.union_all(*_credit_movements(as_of, counterparty_id)).subquery("movements")
    total = sa.func.sum(movements.c.fen)
    rows = db.session.execute(
        sa.select(movements.c.cp, sa.cast(total, sa.BigInteger))
        .group_by(movements.c.cp)
        .having(total != 0)
    )
    return {cp: int(value) for cp, value in rows}


DIMENSIONS = ("counterparty", "project", "department", "responsible")
DUE_COLUMNS = ("outstanding", *rules.DUE_BUCKETS, "overdue", "unapplied_credit")
AGE_COLUMNS = ("outstanding", *rules.AGE_BUCKETS, "unapplied_credit")


@dataclass
class AgingRow:
    key: str
    name: str
    key_id: int | None
    values: dict[str, Decimal]


def _bucket_sums(balances, basis: str, as_of: date):
    amount = balances.c.outstanding_fen
    sums = [("outstanding", sa.func.sum(amount))]
    buckets = rules.DUE_BUCKETS if basis == "due" else rules.AGE_BUCKETS
    for bucket in buckets:
        condition = bucket_condition(bucket, balances.c, as_of)
        sums.append((bucket, sa.func.sum(sa.case((condition, amount), else_=0))))
    if basis == "due":
        sums.append(("overdue", sa.func.sum(sa.case((balances.c.due_on < as_of, amount), else_=0))))
    # BIGINT: PostgreSQL's sum(bigint) is numeric, read back as Decimal for nothing.
    return [sa.cast(total, sa.BigInteger).label(name) for name, total in sums]


ZERO_YUAN = Decimal("0.00")


def yuan(fen_value) -> Decimal:
    """Integer fen (or None: nothing) as Decimal yuan with two places — from_fen, without its
    division (a report of 20,000 rows turns a quarter of a million sums into Decimals)."""
    return Decimal(int(fen_value)).scaleb(-2) if fen_value else ZERO_YUAN


def _dimension(by: str, balances):
    """(grouping column, key expression, name expression, joined selectable)."""
    if by == "counterparty":
        table = Counterparty.__table__
        return balances.c.counterparty_id, table.c.code, table.c.name, table, table.c.id
    if by == "project":
        table = Project.__table__
        return balances.c.project_id, table.c.code, table.c.name, table, table.c.id
    if by == "department":
        table = Department.__table__
        return balances.c.department_id, table.c.name, table.c.name, table, table.c.id
    if by == "responsible":
        table = User.__table__
        return balances.c.responsible_id, table.c.username, table.c.display_name, table, table.c.id
    raise ValueError(f"unknown dimension {by}")


# Dimensions with few keys (departments, people): their aging groups the items by (key,
# bucket) — one CASE per item — and adds the buckets up here; by counterparty or project (tens
# of thousands of keys) a row per key with one sum per bucket returns fewer rows.
FEW_KEYS = ("department", "responsible")


def _aging_by_bucket_groups(balances, basis, as_of, group, key, name, table, table_id):
    """{key id: AgingRow} from one row per (key, bucket) with an outstanding amount."""
    buckets = rules.DUE_BUCKETS if basis == "due" else rules.AGE_BUCKETS
    inner = (
        sa.select(
            group.label("gid"),
            bucket_index(basis, balances.c, as_of).label("bucket"),
            sa.cast(sa.func.sum(balances.c.outstanding_fen), sa.BigInteger).label("fen"),
        )
        .where(balances.c.outstanding_fen != 0)
        .group_by(sa.literal_column("1"), sa.literal_column("2"))
        .subquery("sums")
    )
    query = sa.select(inner, key.label("key"), name.label("name")).outerjoin(
        table, table_id == inner.c.gid
    )
    sums: dict[object, list[int]] = {}
    names: dict[object, tuple] = {}
    for gid, bucket, fen_value, key_value, name_value in db.session.execute(query):
        sums.setdefault(gid, [0] * len(buckets))[bucket] += int(fen_value or 0)
        names[gid] = (key_value or "", name_value or "")
    return _aging_rows(basis, sums, names)


def _kept_aging_by_department(as_of: date, basis: str, department_id: int | None):
    """The aging by department from the kept open-item sums (open_sums.usable)."""
    from recovery.ledger import open_sums  # here: open_sums builds on this module

    buckets = rules.DUE_BUCKETS if basis == "due" else rules.AGE_BUCKETS
    cells = open_sums.bucket_sums(as_of, basis, department_id=department_id, by_department=True)
    sums: dict[object, list[int]] = {}
    for (gid, bucket), (_items, _amount, open_fen) in cells.items():
        sums.setdefault(gid, [0] * len(buckets))[bucket] += open_fen
    dept = Department.__table__
    known = [gid for gid in sums if gid is not None]
    found = {
        row.id: (row.name, row.name)
        for row in db.session.execute(sa.select(dept.c.id, dept.c.name).where(dept.c.id.in_(known)))
    }
    names = {gid: found.get(gid, ("", "")) for gid in sums}
    return _aging_rows(basis, sums, names)


def _aging_rows(basis: str, sums: dict[object, list[int]], names: dict[object, tuple]):
    """{key id: AgingRow} from each key's outstanding fen per bucket."""
    buckets = rules.DUE_BUCKETS if basis == "due" else rules.AGE_BUCKETS
    result = {}
    for gid, by_bucket in sums.items():
        total = sum(by_bucket)
        values = {"outstanding": yuan(total)}
        values.update((bucket, yuan(f)) for bucket, f in zip(buckets, by_bucket, strict=True))
        if basis == "due":
            values["overdue"] = yuan(total - by_bucket[0])
        values["unapplied_credit"] = ZERO_YUAN
        result[gid] = AgingRow(*names[gid], gid, values)
    return result


def _summed_aging(as_of: date, by: str, basis: str, item_filter) -> dict:
    """{key id: AgingRow} of the outstanding, summed from the items."""
    # open_only: the partial index of open items (a bound 0 in "!= 0" would not match it).
    balances = outstanding_items(as_of, item_filter, open_only=True)
    group, key, name, table, table_id = _dimension(by, balances)
    if by in FEW_KEYS:
        result = _aging_by_bucket_groups(balances, basis, as_of, group, key, name, table, table_id)
    else:
        inner = (
            sa.select(group.label("gid"), *_bucket_sums(balances, basis, as_of))
            .where(balances.c.outstanding_fen != 0)
            .group_by(group)
            .subquery("sums")
        )
        query = sa.select(inner, key.label("key"), name.label("name")).outerjoin(
            table, table_id == inner.c.gid
        )
        summed = [c.name for c in inner.c][1:]  # the columns after gid, in the query's order
        result = {}
        for gid, *sums, key_value, name_value in db.session.execute(query):
            values = dict(zip(summed, map(yuan, sums), strict=True))
            values["unapplied_credit"] = ZERO_YUAN
            result[gid] = AgingRow(key_value or "", name_value or "", gid, values)
    return result


def aging(
    as_of: date,
    by: str = "counterparty",
    basis: str = "due",
    item_filter=None,
    *,
    kept: bool = True,
) -> list[AgingRow]:
    """One row per key with a non-zero outstanding or unapplied credit, sorted by key.

    With ``by`` other than counterparty, unapplied credit is one extra row keyed UNAPPLIED.
    By department, of the whole company or one department, the outstanding is read from the
    kept open-item sums where they stand for the items (open_sums.usable; ``kept=False``
    sums the items).
    """
    from recovery.ledger import open_sums  # here: open_sums builds on this module

    if basis not in ("due", "age"):
        raise ValueError(f"unknown basis {basis}")
    if by == "department" and kept and open_sums.usable(as_of, item_filter):
        department_id = getattr(item_filter, "department_id", None)
        result = _kept_aging_by_department(as_of, basis, department_id)
    else:
        result = _summed_aging(as_of, by, basis, item_filter)
    columns = DUE_COLUMNS if basis == "due" else AGE_COLUMNS
    if by == "counterparty":
        credit = _credit_for(as_of, item_filter)
    else:
        # One row for all counterparties: only the total is needed, not a sum per counterparty
        # (grouping 2.2 million receipts and applications by counterparty cost a second).
        credit = _credit_total_for(as_of, item_filter)
    if by == "counterparty":
        missing = [cp for cp in credit if cp not in result]
        names = {}
        if missing:
            names = {
                r.id: (r.code, r.name)
                for r in db.session.execute(
                    sa.select(Counterparty.id, Counterparty.code, Counterparty.name).where(
                        Counterparty.id.in_(missing)
                    )
                )
            }
        for cp, value in credit.items():
            if cp not in result:
                zero = {col: from_fen(0) for col in columns}
                code, label = names[cp]
                result[cp] = AgingRow(code, label, cp, zero)
            result[cp].values["unapplied_credit"] = from_fen(value)
    elif credit:
        zero = {col: from_fen(0) for col in columns}
        zero["unapplied_credit"] = from_fen(credit)
        result["UNAPPLIED"] = AgingRow("UNAPPLIED", "", None, zero)
    return sorted(result.values(), key=lambda r: r.key)


def _credit_for(as_of: date, item_filter: LedgerFilter | None) -> dict[int, int]:
    """Unapplied credit belongs to counterparties: only a counterparty filter narrows it."""
    if item_filter is not None and item_filter.counterparty_id is not None:
        return unapplied_credit(as_of, item_filter.counterparty_id)
    if _filter_hides_credit(item_filter):
        return {}
    return unapplied_credit(as_of)


def _credit_total_for(as_of: date, item_filter: LedgerFilter | None) -> int:
    """The sum of _credit_for's values (fen), without summing each counterparty apart."""
    if item_filter is not None and item_filter.counterparty_id is not None:
        return sum(unapplied_credit(as_of, item_filter.counterparty_id).values())
    if _filter_hides_credit(item_filter):
        return 0
    return unapplied_credit_total(as_of)


def unapplied_credit_total(as_of: date) -> int:
    """Every counterparty's unapplied credit as of the date, added up (fen) — the sum of
    unapplied_credit(as_of).values() (the counterparties it leaves out have 0), in three plain
    sums of _credit_movements: the stored unapplied amounts, plus the applications after the
    date, less the receipts after it."""
    sums = [
        sa.select(
            sa.func.coalesce(sa.cast(sa.func.sum(part.c.fen), sa.BigInteger), 0)
        ).scalar_subquery()
        for part in (p.subquery() for p in _credit_movements(as_of))
    ]
    return int(db.session.scalar(sa.select(sums[0] + sums[1] + sums[2])))


def _filter_hides_credit(item_filter: LedgerFilter | None) -> bool:
    """Whether a filter narrows the items by anything but the counterparty (then no credit)."""
    return item_filter is not None and any(
        getattr(item_filter, name)
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
            "visible_to",
        )
    )


def interest_rows(as_of: date, default_rate: Decimal, day_count: int = 365):
    """Per overdue item open as of the date: fen-days of overdue balance and the rate.

    fen_days = amount × N − Σ reduction × (D − max(reduction date, due + 1) + 1), over
    reductions dated ≤ D, where N = D − due date (the days overdue): the same sum as
    rules.fen_days_overdue, in SQL.
    """
    from recovery.parties.models import Contract

    contracts = Contract.__table__
    counterparties = Counterparty.__table__
    reductions = sa.union_all(
        sa.select(
            apps_t.c.item_id.label("item_id"),
            fen(apps_t.c.amount).label("fen"),
            apps_t.c.applied_on.label("day"),
        ).where(apps_t.c.applied_on <= as_of),
        sa.select(adj_t.c.item_id, fen(adj_t.c.amount), adj_t.c.dated_on).where(
            adj_t.c.status == "approved", adj_t.c.dated_on <= as_of
        ),
    ).subquery("reductions")
    overdue_items = (
        sa.select(items_t.c.id)
        .where(items_t.c.due_on < as_of, items_t.c.recognized_on <= as_of)
        .subquery("overdue_items")
    )
    # Days of interest a reduction no longer bears: from max(its date, due + 1) to D.
    due = items_t.c.due_on
    reduction_days = sa.case(
        (days_between(reductions.c.day, due) >= 1, days_between(as_of, reductions.c.day) + 1),
        else_=days_between(as_of, due),
    )
    relief = (
        sa.select(
            reductions.c.item_id,
            sa.cast(sa.func.sum(reductions.c.fen * reduction_days), sa.BigInteger).label(
                "fen_days"
            ),
            sa.cast(sa.func.sum(reductions.c.fen), sa.BigInteger).label("reduced"),
        )
        .join(items_t, items_t.c.id == reductions.c.item_id)
        .where(reductions.c.item_id.in_(sa.select(overdue_items.c.id)))
        .group_by(reductions.c.item_id)
        .subquery("relief")
    )
    days = days_between(as_of, due)
    query = (
        sa.select(
            items_t.c.document_no,
            counterparties.c.code,
            (fen(items_t.c.amount) - sa.func.coalesce(relief.c.reduced, 0)).label("outstanding"),
            days.label("days"),
            (fen(items_t.c.amount) * days - sa.func.coalesce(relief.c.fen_days, 0)).label(
                "fen_days"
            ),
            items_t.c.overdue_rate,
            contracts.c.overdue_rate.label("contract_rate"),
            contracts.c.rate_basis,
        )
        .select_from(items_t)
        .join(counterparties, counterparties.c.id == items_t.c.counterparty_id)
        .outerjoin(contracts, contracts.c.id == items_t.c.contract_id)
        .outerjoin(relief, relief.c.item_id == items_t.c.id)
        .where(items_t.c.due_on < as_of, items_t.c.recognized_on <= as_of)
        .order_by(items_t.c.document_no)
    )
    for row in db.session.execute(query):
        if row.overdue_rate is not None:
            rate, basis = Decimal(row.overdue_rate), "annual"
        elif row.contract_rate is not None:
            rate, basis = Decimal(row.contract_rate), row.rate_basis
        else:
            rate, basis = default_rate, "annual"
        interest = rules.interest_from_fen_days(int(row.fen_days), rate, basis, day_count)
        yield {
            "document_no": row.document_no,
            "counterparty_code": row.code,
            "outstanding": from_fen(int(row.outstanding)),
            "days_overdue": int(row.days),
            "rate": rate,
            "basis": basis,
            "interest": interest,
        }
