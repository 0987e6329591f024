"""A counterparty's statement as of any date: its documents, the stored applications, and the
figures rules.py gives them.

Only this counterparty's rows are read (every query goes through an index on counterparty_id),
so a statement takes milliseconds whatever the size of the ledger. The figures are the rules'
own: outstanding (rules.outstanding), days past due and both buckets, and overdue interest
(rules.overdue_interest) at the rate the item, else its contract, else the default setting
states. tests/ledger/test_statement.py checks them against hand computations and against the
SQL aggregates of queries.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.auth.models import Department, User
from recovery.core.money import from_fen, to_fen
from recovery.extensions import db
from recovery.ledger import rules
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contract, Project

ZERO = Decimal("0.00")


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

    @property
    def open_items(self) -> list[ItemLine]:
        return [line for line in self.items if line.outstanding]


def _item_rows(condition, as_of: date):
    items, projects, contracts = Item.__table__, Project.__table__, Contract.__table__
    departments, users = Department.__table__, User.__table__
    return db.session.execute(
        sa.select(
            items.c.id,
            items.c.document_no,
            items.c.item_type,
            items.c.category,
            items.c.project_id,
            projects.c.code.label("project_code"),
            items.c.contract_id,
            contracts.c.number.label("contract_no"),
            items.c.recognized_on,
            items.c.due_on,
            items.c.amount,
            items.c.overdue_rate,
            contracts.c.overdue_rate.label("contract_rate"),
            contracts.c.rate_basis,
            departments.c.name.label("department"),
            users.c.display_name.label("responsible"),
        )
        .select_from(items)
        .outerjoin(projects, projects.c.id == items.c.project_id)
        .outerjoin(contracts, contracts.c.id == items.c.contract_id)
        .outerjoin(departments, departments.c.id == items.c.department_id)
        .outerjoin(users, users.c.id == items.c.responsible_id)
        .where(condition, items.c.recognized_on <= as_of)
        .order_by(items.c.due_on, items.c.recognized_on, items.c.document_no)
    ).all()


def _item_line(row, terms: InterestTerms) -> ItemLine:
    if row.overdue_rate is not None:
        rate, basis, source = Decimal(row.overdue_rate), "annual", "item"
    elif row.contract_rate is not None:
        rate, basis, source = Decimal(row.contract_rate), row.rate_basis, "contract"
    else:
        rate, basis, source = terms.default_rate, "annual", "default"
    return ItemLine(
        id=row.id,
        document_no=row.document_no,
        item_type=row.item_type,
        category=row.category,
        project_id=row.project_id,
        project_code=row.project_code,
        contract_id=row.contract_id,
        contract_no=row.contract_no,
        recognized_on=row.recognized_on,
        due_on=row.due_on,
        amount=row.amount,
        department=row.department,
        responsible=row.responsible,
        rate=rate,
        rate_basis=basis,
        rate_source=source,
    )


def _applications(condition, as_of: date) -> list[AppliedLine]:
    apps, receipts, items = Application.__table__, Receipt.__table__, Item.__table__
    rows = db.session.execute(
        sa.select(
            apps.c.applied_on,
            apps.c.receipt_id,
            receipts.c.receipt_no,
            apps.c.item_id,
            items.c.document_no,
            apps.c.amount,
        )
        .join(receipts, receipts.c.id == apps.c.receipt_id)
        .join(items, items.c.id == apps.c.item_id)
        .where(condition, apps.c.applied_on <= as_of)
        .order_by(apps.c.applied_on, receipts.c.receipt_no, items.c.document_no)
    ).all()
    return [AppliedLine(*row) for row in rows]


def _adjustments(condition, as_of: date) -> list[AdjustmentLine]:
    adj, items = Adjustment.__table__, Item.__table__
    rows = db.session.execute(
        sa.select(
            adj.c.id,
            adj.c.number,
            adj.c.kind,
            adj.c.amount,
            adj.c.dated_on,
            adj.c.item_id,
            items.c.document_no,
            adj.c.reason,
        )
        .join(items, items.c.id == adj.c.item_id)
        .where(condition, adj.c.status == "approved", adj.c.dated_on <= as_of)
        .order_by(adj.c.dated_on, adj.c.number)
    ).all()
    return [AdjustmentLine(*row) for row in rows]


def _figure(line: ItemLine, as_of: date, terms: InterestTerms) -> None:
    """Fill an item's figures from its applications and adjustments (all dated ≤ as_of)."""
    reductions = [(a.applied_on, to_fen(a.amount)) for a in line.applications]
    reductions += [(a.dated_on, to_fen(a.amount)) for a in line.adjustments]
    amount = to_fen(line.amount)
    outstanding = rules.outstanding(amount, reductions, as_of)
    line.applied = from_fen(sum(to_fen(a.amount) for a in line.applications))
    line.credited = from_fen(sum(to_fen(a.amount) for a in line.adjustments))
    line.outstanding = from_fen(outstanding)
    line.days_overdue = rules.days_past_due(line.due_on, as_of) if outstanding > 0 else 0
    line.due_bucket = rules.due_bucket(line.due_on, as_of)
    line.age_bucket = rules.age_bucket(line.recognized_on, as_of)
    line.interest = rules.overdue_interest(
        amount, reductions, line.due_on, as_of, line.rate, line.rate_basis, terms.day_count
    )


def _lines(condition, as_of: date, terms: InterestTerms, applications=None):
    """Item lines with their figures; ``applications`` when already read (else read here)."""
    lines = [_item_line(row, terms) for row in _item_rows(condition, as_of)]
    if not lines:
        return [], applications or [], []
    by_id = {line.id: line for line in lines}
    if applications is None:
        applications = _applications(condition, as_of)
    adjustments = _adjustments(condition, as_of)
    for application in applications:
        if application.item_id in by_id:
            by_id[application.item_id].applications.append(application)
    for adjustment in adjustments:
        if adjustment.item_id in by_id:
            by_id[adjustment.item_id].adjustments.append(adjustment)
    for line in lines:
        _figure(line, as_of, terms)
    return lines, applications, adjustments


def build_statement(
    counterparty_id: int, as_of: date, terms: InterestTerms | None = None
) -> Statement:
    """Everything about one counterparty as of a date: items recognised by then with their
    applications, credits, outstanding, days overdue, buckets and interest; receipts received
    by then with how each was applied; unapplied credit; totals and aging."""
    terms = terms or interest_terms()
    items, apps, receipts_t = Item.__table__, Application.__table__, Receipt.__table__
    # Applications are read through their own counterparty index, once.
    applications = _applications(apps.c.counterparty_id == counterparty_id, as_of)
    lines, _, adjustments = _lines(
        items.c.counterparty_id == counterparty_id, as_of, terms, applications
    )
    named = Item.__table__.alias("named")
    receipt_rows = db.session.execute(
        sa.select(
            receipts_t.c.id,
            receipts_t.c.receipt_no,
            receipts_t.c.received_on,
            receipts_t.c.amount,
            receipts_t.c.method,
            receipts_t.c.reference,
            receipts_t.c.item_id,
            named.c.document_no,
        )
        .outerjoin(named, named.c.id == receipts_t.c.item_id)
        .where(receipts_t.c.counterparty_id == counterparty_id, receipts_t.c.received_on <= as_of)
        .order_by(receipts_t.c.received_on, receipts_t.c.receipt_no)
    ).all()
    receipts = [ReceiptLine(*row) for row in receipt_rows]
    by_receipt: dict[int, list[AppliedLine]] = defaultdict(list)
    for application in applications:
        by_receipt[application.receipt_id].append(application)
    for receipt in receipts:
        receipt.applications = by_receipt.get(receipt.id, [])
        receipt.applied = from_fen(sum(to_fen(a.amount) for a in receipt.applications))

    statement = Statement(
        counterparty_id=counterparty_id,
        as_of=as_of,
        terms=terms,
        items=lines,
        receipts=receipts,
        applications=applications,
        adjustments=adjustments,
    )
    _total(statement)
    return statement


def _fen_sum(values) -> Decimal:
    return from_fen(sum(to_fen(v) for v in values))


def _total(statement: Statement) -> None:
    lines = statement.items
    statement.amount = _fen_sum(line.amount for line in lines)
    statement.applied = _fen_sum(line.applied for line in lines)
    statement.credited = _fen_sum(line.credited for line in lines)
    statement.outstanding = _fen_sum(line.outstanding for line in lines)
    statement.overdue = _fen_sum(line.outstanding for line in lines if line.overdue)
    statement.interest = _fen_sum(line.interest for line in lines)
    statement.received = _fen_sum(r.amount for r in statement.receipts)
    statement.unapplied_credit = statement.received - _fen_sum(
        a.amount for a in statement.applications
    )
    statement.due_aging = {
        bucket: _fen_sum(line.outstanding for line in lines if line.due_bucket == bucket)
        for bucket in rules.DUE_BUCKETS
    }
    statement.age_aging = {
        bucket: _fen_sum(line.outstanding for line in lines if line.age_bucket == bucket)
        for bucket in rules.AGE_BUCKETS
    }


def item_lines(item_ids: list[int], as_of: date, terms: InterestTerms | None = None):
    """{item id: ItemLine} for a page of items (the project page's interest column)."""
    if not item_ids:
        return {}
    terms = terms or interest_terms()
    lines, _, _ = _lines(Item.__table__.c.id.in_(item_ids), as_of, terms)
    return {line.id: line for line in lines}


def item_line(item_id: int, as_of: date, terms: InterestTerms | None = None) -> ItemLine | None:
    """One item's figures as of a date (None when it is not recognised by then)."""
    return item_lines([item_id], as_of, terms).get(item_id)
