"""The limitation of every open item, in SQL where it must scale (docs/legal.md; how the
queries are built and what they cost at a million items: docs/limitation.md, "Speed").

Per item, the database finds the date the period runs from and the latest interruption of
each kind — each a MAX over an indexed column (applications by item and date, activities by
counterparty and time, promises by counterparty, referral items by item, events by item).
The calendar arithmetic (art. 202's month ends, art. 203's working days, suspensions) is
Python, per row of what is left after a safe pre-bound in SQL: with a window of DAYS, an
item whose period started (due date or latest interruption) after
``rules.earliest_possible_start(as_of, DAYS)`` cannot end within the window, because every
rule only moves the end later than three years after the start.

The count for the dashboard and the worklist's sign need less than a row per item: for an
item whose end only art. 203 can move (no suit, no suspension, not installments) the end
depends on the day its period runs from alone and keeps its order, so "ends within DAYS" is
"runs from a day by ``last_plain_start(as_of, DAYS)``" — NOT EXISTS of a later interruption,
counted in SQL (_plain_count), or one date per counterparty (earliest_expiry_by_counterparty).
The few other items take the full rule in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

import sqlalchemy as sa
from flask_babel import gettext as _

from recovery.activities.models import Activity, Promise
from recovery.core.money import from_fen
from recovery.core.sqltime import as_date, not_indexed
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger.models import Adjustment, Application, Item
from recovery.limitation import rules
from recovery.limitation.labels import INTERRUPTION_LABELS
from recovery.limitation.models import INTERRUPTION_KINDS as RECORDED_KINDS
from recovery.limitation.models import LimitationEvent
from recovery.parties.models import Contract, Counterparty
from recovery.worklist.service_levels import end_of_local_day, to_local

items_t = Item.__table__
apps_t = Application.__table__
adj_t = Adjustment.__table__
cp_t = Counterparty.__table__
contracts_t = Contract.__table__
activities_t = Activity.__table__
promises_t = Promise.__table__
events_t = LimitationEvent.__table__

# Aliases of the items table, made once: each copies every column of the table, which costs
# more than the rest of a statement to build.
_INSTALLMENT = items_t.alias("installment")
_PAID_ITEM = items_t.alias("paid_item")
_EVENT_ITEM = items_t.alias("event_item")
_SUIT_ITEM = items_t.alias("suit_item")
_SUED = items_t.alias("sued")

# Activities that interrupt (DOMAIN §3, recovery/activities/rules.py): a demand that reached
# the debtor (letter, e-mail, message, demand served — with its proof of arrival) is the
# creditor's demand; a balance confirmation returned signed, or a call, visit or meeting in
# which the debtor acknowledged the debt (or promised), is the debtor's acknowledgement.
DEMAND_KINDS = ("demand", "letter", "email", "message")
ACKNOWLEDGING_KINDS = ("call", "visit", "meeting")


class LimitationFilter(ledger_queries.LedgerFilter):
    """The ledger filter, plus lists of items, counterparties and departments, and the
    pre-bound on the due date."""

    def __init__(
        self,
        *,
        item_ids=None,
        counterparty_ids=None,
        department_ids=None,
        due_on_max: date | None = None,
        sued_as_of: date | None = None,
        **values,
    ):
        super().__init__(**values)
        self.item_ids = item_ids
        self.counterparty_ids = counterparty_ids
        self.department_ids = department_ids
        self.due_on_max = due_on_max
        self.sued_as_of = sued_as_of

    def apply(self, query, columns, as_of: date):
        query = super().apply(query, columns, as_of)
        if self.item_ids is not None:
            query = query.where(columns["id"].in_(self.item_ids))
        if self.counterparty_ids is not None:
            query = query.where(columns["counterparty_id"].in_(self.counterparty_ids))
        if self.department_ids is not None:
            query = query.where(columns["department_id"].in_(self.department_ids))
        if self.due_on_max is not None:
            # Most items are due long ago and closed: the partial index of open items is the
            # one to read whole (_open_items), not the index on due_on, which would visit
            # every page of the table for the ~40 % of all items due by the bound.
            due_on = columns["due_on"]
            if not _selective(self):
                # SQLite: not through ix_items_due_on; PostgreSQL reads ix_items_open_due
                # (migration 0015). By counterparty or item: the index's own order.
                due_on = not_indexed(due_on)
            query = query.where(due_on <= self.due_on_max)
        if self.sued_as_of is not None:
            query = query.where(columns["id"].in_(_sued_items(self.sued_as_of)))
        return query


def _selective(item_filter: LimitationFilter) -> bool:
    """Whether the filter names the counterparties or items (few, next to all open items)."""
    return any(
        value is not None
        for value in (
            item_filter.item_ids,
            item_filter.counterparty_ids,
            item_filter.counterparty_id,
            item_filter.sued_as_of,
        )
    )


@dataclass
class ExpiryRow:
    """One open item and the end of its limitation as of a date."""

    item_id: int
    document_no: str
    counterparty_id: int
    counterparty_code: str
    counterparty_name: str
    outstanding: Decimal
    due_on: date
    responsible_id: int | None  # the item's first-responsible person, else the counterparty's
    department_id: int | None
    contract_number: str | None  # set when the item is an installment of one debt
    expiry: rules.Expiry
    as_of: date

    @property
    def expires_on(self) -> date | None:
        """None while no period runs (proceedings pending, enforcement applied for)."""
        return self.expiry.expires_on

    @property
    def days_left(self) -> int | None:
        return self.expiry.days_left(self.as_of)

    @property
    def running(self) -> bool:
        return self.expiry.running

    @property
    def suit_filed_on(self) -> date | None:
        proceedings = self.expiry.proceedings
        return proceedings.filed_on if proceedings is not None else None

    @property
    def last_interruption_on(self) -> date | None:
        last = self.expiry.last_interruption
        return last.on if last is not None else None

    @property
    def last_interruption_kind(self) -> str | None:
        last = self.expiry.last_interruption
        return last.kind if last is not None else None

    @property
    def installments(self) -> bool:
        return self.contract_number is not None

    @cached_property
    def rule_note(self) -> str:
        return rule_note(self)


def _floor(e: rules.Expiry) -> date:
    """The day the period restarted when the proceedings ended (an interruption must be later
    to count)."""
    p = e.proceedings
    if e.period == rules.ENFORCEMENT:
        return p.performance_deadline or p.judgment_effective_on
    return p.closed_on


def rule_note(row: ExpiryRow) -> str:
    """How the date was found, in words (translated): the start, the interruption, art. 202,
    the suspension, art. 203, and whether the official calendar was known."""
    e = row.expiry
    parts = []
    if row.installments:
        parts.append(
            _(
                "Installments of one debt (contract %(contract)s): the period runs from the "
                "last installment's due date, %(due)s.",
                contract=row.contract_number,
                due=e.due_on.isoformat(),
            )
        )
    else:
        parts.append(_("Due on %(due)s.", due=e.due_on.isoformat()))
    proceedings = e.proceedings
    if proceedings is not None:
        parts.append(
            _(
                "A suit was filed on %(date)s: the limitation stops while the proceedings run "
                "(art. 195).",
                date=proceedings.filed_on.isoformat(),
            )
        )
        if e.period == rules.SUIT_PENDING:
            parts.append(
                _(
                    "The proceedings have not ended: no period runs. When they end without a "
                    "judgment the three years start again; after a judgment or mediation takes "
                    "effect, enforcement must be applied for within two years."
                )
            )
            return " ".join(parts)
        if e.period == rules.ENFORCING:
            parts.append(
                _(
                    "Enforcement was applied for on %(date)s: no period runs (a new application "
                    "after the enforcement ends is not time-barred, SPC Interpretation of the "
                    "Civil Procedure Law art. 517).",
                    date=proceedings.enforcement_on.isoformat(),
                )
            )
            return " ".join(parts)
        if e.period == rules.ENFORCEMENT:
            parts.append(
                _(
                    "The judgment took effect on %(effective)s: enforcement must be applied for "
                    "within two years from the last day of the performance period, %(start)s "
                    "(Civil Procedure Law art. 250).",
                    effective=proceedings.judgment_effective_on.isoformat(),
                    start=(
                        proceedings.performance_deadline or proceedings.judgment_effective_on
                    ).isoformat(),
                )
            )
        else:
            parts.append(
                _(
                    "The proceedings ended on %(date)s without a judgment: the three years "
                    "start again from that day.",
                    date=proceedings.closed_on.isoformat(),
                )
            )
    later = e.last_interruption
    if later is not None and (proceedings is None or later.on > _floor(e)):
        values = {"date": later.on.isoformat(), "kind": INTERRUPTION_LABELS[later.kind]}
        if e.period == rules.ENFORCEMENT:
            parts.append(
                _(
                    "Interrupted on %(date)s (%(kind)s): the two years start again from that day.",
                    **values,
                )
            )
        else:
            parts.append(
                _(
                    "Interrupted on %(date)s (%(kind)s): the three years start again from that "
                    "day.",
                    **values,
                )
            )
    if e.period == rules.ENFORCEMENT:
        parts.append(_("Two years end on %(date)s (art. 202).", date=e.three_years_end.isoformat()))
    else:
        parts.append(
            _(
                "Three years end on %(date)s (arts. 188, 202).",
                date=e.three_years_end.isoformat(),
            )
        )
    if e.suspension is not None:
        if e.suspension_lasting:
            parts.append(
                _(
                    "Suspended since %(start)s by an obstacle not yet gone: the period ends six "
                    "months after it is gone, so not before %(date)s (art. 194).",
                    start=e.suspension.start.isoformat(),
                    date=e.natural_end.isoformat(),
                )
            )
        else:
            parts.append(
                _(
                    "Suspended by an obstacle from %(start)s to %(end)s in the last six months: "
                    "the period ends six months after it was gone, on %(date)s (art. 194).",
                    start=e.suspension.start.isoformat(),
                    end=e.suspension.end.isoformat(),
                    date=e.natural_end.isoformat(),
                )
            )
    if e.moved:
        parts.append(
            _(
                "%(date)s is not a working day: the last day moves to the next working day, "
                "%(moved)s (art. 203).",
                date=e.natural_end.isoformat(),
                moved=e.expires_on.isoformat(),
            )
        )
    if not e.calendar_known:
        parts.append(
            _(
                "The official holidays of %(year)s are not known yet: only weekends were "
                "counted as days off, so the date may still move.",
                year=e.expires_on.year,
            )
        )
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# SQL


def _as_moment(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _lawsuit_tables():
    """(lawsuits, referral_items) tables, or None while the legal part is not installed."""
    try:
        from recovery.legal.models import Lawsuit, ReferralItem
    except ImportError:
        return None
    return Lawsuit.__table__, ReferralItem.__table__


def _open_items(as_of: date, item_filter: LimitationFilter):
    """The items open as of the date with their outstanding fen (a subquery): the ledger's
    outstanding (ledger.queries.outstanding_items, DOMAIN §3) in two halves that each read an
    index of their own, where the ledger's one query needs an OR:

    - items that did not move after the date (nearly all): their stored open amount — read
      from the partial index of open items;
    - items with a payment or credit dated after it (ix_items_moved): their amount less their
      applications and approved credits dated by then, summed per item on
      ix_applications_item_date (the ledger hashes every application up to the date).

    The caller keeps those with something outstanding (> 0). The column ``last_movement_on`` comes
    along: an item that did not move after a day had no payment after it either.

    For a list of counterparties or items (a worklist, one item's page, the suits) the ledger's
    query, joined by counterparty or item, reads only those: it is the one used then."""
    if _selective(item_filter):
        return ledger_queries.outstanding_items(as_of, item_filter, open_only=True)
    return _open_halves(as_of, item_filter)


def _open_halves(as_of: date, item_filter: LimitationFilter):
    """_open_items in its two halves, whatever the filter."""
    c = items_t.c
    columns = (
        c.id,
        c.document_no,
        c.counterparty_id,
        c.contract_id,
        c.department_id,
        c.responsible_id,
        c.due_on,
        c.last_movement_on,
    )
    open_amount = ledger_queries.fen(c.open_amount)
    unmoved = sa.select(*columns, open_amount.label("outstanding_fen")).where(
        # The literal 0 matches the partial indexes' predicate (open_amount <> 0).
        open_amount != sa.literal_column("0"),
        open_amount > sa.literal_column("0"),
        sa.or_(c.last_movement_on.is_(None), c.last_movement_on <= as_of),
        # Nearly every open item was recognised by the date: not a condition to index on.
        not_indexed(c.recognized_on) <= as_of,
    )
    paid = (
        sa.select(sa.func.sum(ledger_queries.fen(apps_t.c.amount)))
        .where(apps_t.c.item_id == c.id, apps_t.c.applied_on <= as_of)
        .scalar_subquery()
    )
    credited = (
        sa.select(sa.func.sum(ledger_queries.fen(adj_t.c.amount)))
        .where(adj_t.c.item_id == c.id, adj_t.c.status == "approved", adj_t.c.dated_on <= as_of)
        .scalar_subquery()
    )
    # Sums cast back to BIGINT: PostgreSQL's sum(bigint) is numeric.
    left = sa.cast(
        ledger_queries.fen(c.amount) - sa.func.coalesce(paid, 0) - sa.func.coalesce(credited, 0),
        sa.BigInteger,
    )
    moved = sa.select(*columns, left.label("outstanding_fen")).where(
        c.last_movement_on > as_of, c.recognized_on <= as_of
    )
    return sa.union_all(
        item_filter.apply(unmoved, c, as_of), item_filter.apply(moved, c, as_of)
    ).subquery("balances")


# Which activities interrupt, by kind (DEMAND_KINDS, ACKNOWLEDGING_KINDS above).
def _proof_given(a):
    return sa.func.length(sa.func.trim(sa.func.coalesce(a.c.proof_of_arrival, ""))) > 0


def _is_demand(a):
    return sa.and_(a.c.kind.in_(DEMAND_KINDS), _proof_given(a))


def _is_acknowledgement(a):
    return sa.or_(
        a.c.kind.in_(ACKNOWLEDGING_KINDS), sa.and_(a.c.kind == "confirmation", _proof_given(a))
    )


def _promise_counts(p, as_of: date):
    return sa.and_(p.c.cancelled.is_(False), p.c.promised_on <= as_of)


def _recorded_counts(e, as_of: date):
    """An interruption recorded by hand, known as of the date."""
    return sa.and_(e.c.kind.in_(RECORDED_KINDS), e.c.withdrawn.is_(False), e.c.dated_on <= as_of)


def _suspension_counts(e, as_of: date):
    return sa.and_(e.c.kind == "suspension", e.c.withdrawn.is_(False), e.c.dated_on <= as_of)


def _interruptions(b, as_of: date) -> dict:
    """Per open item of ``b`` (one item, not installments), the latest interruption of each
    kind known as of the date (NULL: none): correlated subqueries, each a MAX on an index."""
    # A payment of the item dated after its due date.
    paid_on = sa.select(sa.func.max(apps_t.c.applied_on)).where(
        apps_t.c.item_id == b.c.id,
        apps_t.c.applied_on > b.c.due_on,
        apps_t.c.applied_on <= as_of,
    )
    # Activities and promises concern the counterparty's whole debt (they name no item).
    a = activities_t
    of_counterparty = sa.and_(
        a.c.counterparty_id == b.c.counterparty_id,
        a.c.interrupts_limitation.is_(True),
        a.c.occurred_at < end_of_local_day(as_of),
    )
    demand_at = sa.select(sa.func.max(a.c.occurred_at)).where(of_counterparty, _is_demand(a))
    acknowledged_at = sa.select(sa.func.max(a.c.occurred_at)).where(
        of_counterparty, _is_acknowledgement(a)
    )
    promised_on = sa.select(sa.func.max(promises_t.c.promised_on)).where(
        promises_t.c.counterparty_id == b.c.counterparty_id, _promise_counts(promises_t, as_of)
    )
    # Interruptions recorded by hand on the item.
    recorded_on = sa.select(sa.func.max(events_t.c.dated_on)).where(
        events_t.c.item_id == b.c.id, _recorded_counts(events_t, as_of)
    )
    return {
        "paid_on": paid_on.scalar_subquery(),
        "demand_at": demand_at.scalar_subquery(),
        "acknowledged_at": acknowledged_at.scalar_subquery(),
        "promised_on": promised_on.scalar_subquery(),
        "recorded_on": recorded_on.scalar_subquery(),
    }


def _candidates(as_of: date, item_filter: LimitationFilter, bound: date | None):
    """A SELECT of the open items with the day their period runs from and, per kind, the
    latest interruption known as of the date (NULL: none), and the latest suit. With
    ``bound``, only items without a suit none of whose dates is after it."""
    b = _open_items(as_of, item_filter)
    installments = sa.func.coalesce(contracts_t.c.installments, sa.false())
    single = _interruptions(b, as_of)

    def per_item_or_contract(single, grouped):
        if not isinstance(single, sa.ColumnElement):
            single = single.scalar_subquery()
        return sa.case((installments, grouped.scalar_subquery()), else_=single)

    # Installments of one debt run from the last installment's due date.
    group = _INSTALLMENT
    base_due = per_item_or_contract(
        b.c.due_on,
        sa.select(sa.func.max(group.c.due_on)).where(
            group.c.contract_id == b.c.contract_id, group.c.recognized_on <= as_of
        ),
    )

    # A payment of any installment of the debt dated after that installment's due date.
    paid_item = _PAID_ITEM
    paid_on = per_item_or_contract(
        single["paid_on"],
        sa.select(sa.func.max(apps_t.c.applied_on))
        .select_from(apps_t.join(paid_item, paid_item.c.id == apps_t.c.item_id))
        .where(
            paid_item.c.contract_id == b.c.contract_id,
            apps_t.c.applied_on > paid_item.c.due_on,
            apps_t.c.applied_on <= as_of,
        ),
    )
    demand_at = single["demand_at"]
    acknowledged_at = single["acknowledged_at"]
    promised_on = single["promised_on"]

    # Interruptions recorded by hand on any installment of the debt.
    event_item = _EVENT_ITEM
    recorded_on = per_item_or_contract(
        single["recorded_on"],
        sa.select(sa.func.max(events_t.c.dated_on))
        .select_from(events_t.join(event_item, event_item.c.id == events_t.c.item_id))
        .where(event_item.c.contract_id == b.c.contract_id, _recorded_counts(events_t, as_of)),
    )

    columns = [
        b.c.id.label("item_id"),
        b.c.document_no,
        b.c.counterparty_id,
        cp_t.c.code.label("counterparty_code"),
        cp_t.c.name.label("counterparty_name"),
        b.c.outstanding_fen,
        b.c.due_on,
        sa.func.coalesce(b.c.responsible_id, cp_t.c.responsible_id).label("responsible_id"),
        b.c.department_id,
        b.c.contract_id,
        sa.case((installments, contracts_t.c.number), else_=sa.null()).label("contract_number"),
        base_due.label("base_due"),
        paid_on.label("paid_on"),
        demand_at.label("demand_at"),
        acknowledged_at.label("acknowledged_at"),
        promised_on.label("promised_on"),
        recorded_on.label("recorded_on"),
    ]

    # The latest suit filed for the item (its referral names it) — once the legal part is
    # installed. Its proceedings are read in Python (suits are few).
    lawsuit_tables = _lawsuit_tables()
    if lawsuit_tables is not None:
        lawsuits_t, referral_items_t = lawsuit_tables
        suit_item = _SUIT_ITEM
        # Items taken out of the claim before acceptance (claimed false) were not sued for.
        latest = (
            sa.select(lawsuits_t.c.id)
            .where(lawsuits_t.c.filed_on <= as_of, referral_items_t.c.claimed.is_(True))
            .order_by(lawsuits_t.c.filed_on.desc(), lawsuits_t.c.id.desc())
            .limit(1)
        )
        on_referral = referral_items_t.c.referral_id == lawsuits_t.c.referral_id
        suit_id = per_item_or_contract(
            latest.select_from(lawsuits_t.join(referral_items_t, on_referral)).where(
                referral_items_t.c.item_id == b.c.id
            ),
            latest.select_from(
                lawsuits_t.join(referral_items_t, on_referral).join(
                    suit_item, suit_item.c.id == referral_items_t.c.item_id
                )
            ).where(suit_item.c.contract_id == b.c.contract_id),
        )
        columns.append(suit_id.label("suit_id"))
    else:
        columns.append(sa.null().label("suit_id"))

    query = (
        sa.select(*columns)
        .select_from(b)
        .join(cp_t, cp_t.c.id == b.c.counterparty_id)
        .outerjoin(contracts_t, contracts_t.c.id == b.c.contract_id)
        .where(b.c.outstanding_fen > 0)
    )
    if bound is None:
        return query
    # Materialised: otherwise SQLite evaluates each correlated subquery once for the bound
    # and once more for the result.
    rows = query.cte("limitation").prefix_with("MATERIALIZED")
    # Items with a suit are read by a query of their own (expiry_rows): after a judgment
    # only two years run, so this bound does not hold for them.
    return sa.select(rows).where(rows.c.suit_id.is_(None), *_all_dates_by(rows, bound))


DATED = ("paid_on", "promised_on", "recorded_on")
MOMENTS = ("demand_at", "acknowledged_at")


def _all_dates_by(rows, day: date) -> list:
    """Conditions: the period started (due date, every interruption) on or before the day."""
    moment = end_of_local_day(day)
    conditions = [rows.c.base_due <= day]
    conditions += [sa.or_(rows.c[name].is_(None), rows.c[name] <= day) for name in DATED]
    conditions += [sa.or_(rows.c[name].is_(None), rows.c[name] < moment) for name in MOMENTS]
    return conditions


def _claimed_items(as_of: date):
    """A SELECT of the ids of the items a suit filed by the date claims (None while the legal
    part is not installed)."""
    lawsuit_tables = _lawsuit_tables()
    if lawsuit_tables is None:
        return None
    lawsuits_t, referral_items_t = lawsuit_tables
    return (
        sa.select(referral_items_t.c.item_id)
        .join(lawsuits_t, lawsuits_t.c.referral_id == referral_items_t.c.referral_id)
        .where(lawsuits_t.c.filed_on <= as_of, referral_items_t.c.claimed.is_(True))
    )


def _sued_items(as_of: date):
    """A SELECT of the ids of the items a suit filed by the date claims, and of every
    installment of an installments debt one of whose items it claims."""
    claimed = _claimed_items(as_of)
    if claimed is None:
        return sa.select(items_t.c.id).where(sa.false())
    sued = _SUED
    siblings = (
        sa.select(items_t.c.id)
        .join(sued, sued.c.contract_id == items_t.c.contract_id)
        .join(contracts_t, contracts_t.c.id == items_t.c.contract_id)
        .where(contracts_t.c.installments.is_(True), sued.c.id.in_(claimed))
    )
    return sa.union(claimed, siblings)


def _proceedings(suit_ids) -> dict[int, rules.Proceedings]:
    """{lawsuit id: its proceedings} for the few suits the rows name."""
    lawsuit_tables = _lawsuit_tables()
    if lawsuit_tables is None or not suit_ids:
        return {}
    lawsuits_t = lawsuit_tables[0]
    found = {}
    ids = sorted(suit_ids)
    for start in range(0, len(ids), 500):
        for row in db.session.execute(
            sa.select(
                lawsuits_t.c.id,
                lawsuits_t.c.filed_on,
                lawsuits_t.c.judgment_effective_on,
                lawsuits_t.c.performance_deadline,
                lawsuits_t.c.enforcement_on,
                lawsuits_t.c.closed_on,
            ).where(lawsuits_t.c.id.in_(ids[start : start + 500]))
        ):
            found[row.id] = rules.Proceedings(
                filed_on=as_date(row.filed_on),
                judgment_effective_on=as_date(row.judgment_effective_on),
                performance_deadline=as_date(row.performance_deadline),
                enforcement_on=as_date(row.enforcement_on),
                closed_on=as_date(row.closed_on),
            )
    return found


def _recorded_events(as_of: date, item_filter: LimitationFilter, rows=None):
    """The events recorded by hand (few), by item and, for installments, by contract:
    {item_id: [...]}, {contract_id: [...]} of (kind, dated_on, ended_on). ``rows``: the rows
    found (with ``item_id``, ``contract_id``, ``contract_number``) when the filter names the
    items: then only their events are read (an installment's: those of its whole debt), not
    every event of the counterparties."""
    query = (
        sa.select(
            events_t.c.item_id,
            items_t.c.contract_id,
            events_t.c.kind,
            events_t.c.dated_on,
            events_t.c.ended_on,
        )
        .join(items_t, items_t.c.id == events_t.c.item_id)
        .where(events_t.c.withdrawn.is_(False), events_t.c.dated_on <= as_of)
    )
    by_counterparty = True
    if item_filter.item_ids is not None and rows is not None:
        from recovery.core.bulk import one_of

        item_ids = sorted({row.item_id for row in rows})
        debts = sorted({row.contract_id for row in rows if row.contract_number is not None})
        if not item_ids:
            return defaultdict(list), defaultdict(list)
        wanted = one_of(events_t.c.item_id, item_ids)
        if debts:
            installment = items_t.alias("installment")
            of_debts = sa.select(installment.c.id).where(one_of(installment.c.contract_id, debts))
            wanted = sa.or_(wanted, events_t.c.item_id.in_(of_debts))
        query = query.where(wanted)
        # The rows' own items already passed the counterparty filter; the other installments
        # of their debts are still held to it.
        by_counterparty = bool(debts)
    if by_counterparty and item_filter.counterparty_ids is not None:
        query = query.where(items_t.c.counterparty_id.in_(item_filter.counterparty_ids))
    if by_counterparty and item_filter.counterparty_id is not None:
        query = query.where(items_t.c.counterparty_id == item_filter.counterparty_id)
    by_item, by_contract = defaultdict(list), defaultdict(list)
    for row in db.session.execute(query):
        event = (row.kind, as_date(row.dated_on), as_date(row.ended_on))
        by_item[row.item_id].append(event)
        if row.contract_id is not None:
            by_contract[row.contract_id].append(event)
    return by_item, by_contract


def _row(row, as_of: date, recorded, proceedings) -> ExpiryRow:
    by_item, by_contract = recorded
    grouped = row.contract_number is not None
    own = by_contract.get(row.contract_id, []) if grouped else by_item.get(row.item_id, [])
    events = [
        rules.Event(as_date(row.paid_on), "payment") if row.paid_on else None,
        rules.Event(to_local(_as_moment(row.demand_at)).date(), "demand")
        if row.demand_at
        else None,
        rules.Event(to_local(_as_moment(row.acknowledged_at)).date(), "acknowledgement")
        if row.acknowledged_at
        else None,
        rules.Event(as_date(row.promised_on), "promise") if row.promised_on else None,
    ]
    events += [rules.Event(on, kind) for kind, on, _end in own if kind != "suspension"]
    suspensions = [rules.Suspension(on, end) for kind, on, end in own if kind == "suspension"]
    due_on = as_date(row.base_due)
    return ExpiryRow(
        item_id=row.item_id,
        document_no=row.document_no,
        counterparty_id=row.counterparty_id,
        counterparty_code=row.counterparty_code,
        counterparty_name=row.counterparty_name,
        outstanding=from_fen(int(row.outstanding_fen)),
        due_on=as_date(row.due_on),
        responsible_id=row.responsible_id,
        department_id=row.department_id,
        contract_number=row.contract_number,
        expiry=rules.expiry(due_on, as_of, events, suspensions, proceedings.get(row.suit_id)),
        as_of=as_of,
    )


def _rows(as_of: date, item_filter: LimitationFilter, query) -> list[ExpiryRow]:
    found = db.session.execute(query).all()
    recorded = _recorded_events(as_of, item_filter, found)
    proceedings = _proceedings({row.suit_id for row in found if row.suit_id is not None})
    return [_row(row, as_of, recorded, proceedings) for row in found]


def _filter(as_of: date, **values) -> LimitationFilter:
    visible_to = values.pop("visible_to", None)
    item_filter = LimitationFilter(**values)
    item_filter.visible_to = visible_to
    return item_filter


def expiry_rows(
    as_of: date,
    *,
    within: int | None = None,
    counterparty_ids=None,
    item_ids=None,
    department_ids=None,
    responsible_id: int | None = None,
    counterparty_id: int | None = None,
    visible_to: int | None = None,
) -> list[ExpiryRow]:
    """The items open as of the date with the end of their limitation, sorted by expiry date
    then document number (those for which no period runs last). ``within``: only those with
    at most that many days left (expired ones included, with negative days left)."""
    values = {
        "item_ids": item_ids,
        "counterparty_ids": counterparty_ids,
        "department_ids": department_ids,
        "responsible_id": responsible_id,
        "counterparty_id": counterparty_id,
        "visible_to": visible_to,
    }
    if within is None:
        item_filter = _filter(as_of, **values)
        rows = _rows(as_of, item_filter, _candidates(as_of, item_filter, None))
    else:
        bound = rules.earliest_possible_start(as_of, within)
        item_filter = _filter(as_of, due_on_max=bound, **values)
        rows = _rows(as_of, item_filter, _candidates(as_of, item_filter, bound))
        sued_filter = _filter(as_of, sued_as_of=as_of, **values)
        rows += _rows(as_of, sued_filter, _candidates(as_of, sued_filter, None))
        rows = [row for row in rows if row.running and row.days_left <= within]
    rows.sort(key=lambda row: (row.expires_on or date.max, row.document_no))
    return rows


def department_subtree(department_id: int | None) -> list[int] | None:
    if department_id is None:
        return None
    from recovery.worklist.queries import department_subtree as subtree

    return subtree(department_id)


def last_plain_start(as_of: date, within: int) -> date:
    """The latest day a period may run from and still end within ``within`` days of the date
    (or have ended) when nothing but art. 203 can move its end — no suspension, no suit, not
    installments. Such an end depends on that day alone and never comes earlier for a later
    day (art. 202's month ends and art. 203's working days both keep the order), so exactly
    the periods that run from this day or earlier end in time: counted in SQL, no calendar."""
    limit = as_of + timedelta(days=within)

    def ends_in_time(day: date) -> bool:
        return rules.expiry(day, as_of).expires_on <= limit

    day = rules.earliest_possible_start(as_of, within)
    while ends_in_time(day + timedelta(days=1)):  # never, while that bound holds
        day += timedelta(days=1)
    while not ends_in_time(day):
        day -= timedelta(days=1)
    return day


def _plain_conditions(b, as_of: date, last_start: date) -> list:
    """Conditions on the open items ``b``: the item runs plain (no suit, no suspension, not
    installments) from a day by ``last_start`` — its due date (the filter's due_on_max) and
    every interruption known as of the date are by then. Each "no interruption after that
    day" is a NOT EXISTS, so that PostgreSQL reads each table once (an anti-join) or by index
    as it sees fit, rather than a subquery per item for each kind."""
    a, p, e = activities_t, promises_t, events_t
    installment = _INSTALLMENT
    paid_later = sa.exists().where(
        apps_t.c.item_id == b.c.id,
        apps_t.c.applied_on > b.c.due_on,
        apps_t.c.applied_on > last_start,
        apps_t.c.applied_on <= as_of,
    )
    if "last_movement_on" in b.c:
        # None when the item did not move after the day: the cheap test first, the subquery
        # (by item and date, on ix_applications_item_date) for the rest.
        no_payment = sa.or_(
            b.c.last_movement_on.is_(None), b.c.last_movement_on <= last_start, ~paid_later
        )
    else:
        no_payment = ~paid_later
    conditions = [
        b.c.outstanding_fen > 0,
        ~sa.exists()
        .select_from(installment.join(contracts_t, contracts_t.c.id == installment.c.contract_id))
        .where(installment.c.id == b.c.id, contracts_t.c.installments.is_(True)),
        no_payment,
        ~sa.exists().where(
            e.c.item_id == b.c.id,
            sa.or_(
                _suspension_counts(e, as_of),
                sa.and_(_recorded_counts(e, as_of), e.c.dated_on > last_start),
            ),
        ),
        ~sa.exists().where(
            p.c.counterparty_id == b.c.counterparty_id,
            _promise_counts(p, as_of),
            p.c.promised_on > last_start,
        ),
        ~sa.exists().where(
            a.c.counterparty_id == b.c.counterparty_id,
            a.c.interrupts_limitation.is_(True),
            a.c.occurred_at >= end_of_local_day(last_start),
            a.c.occurred_at < end_of_local_day(as_of),
            sa.or_(_is_demand(a), _is_acknowledgement(a)),
        ),
    ]
    lawsuit_tables = _lawsuit_tables()
    if lawsuit_tables is not None:
        lawsuits_t, referral_items_t = lawsuit_tables
        conditions.append(
            ~sa.exists()
            .select_from(
                referral_items_t.join(
                    lawsuits_t, lawsuits_t.c.referral_id == referral_items_t.c.referral_id
                )
            )
            .where(
                referral_items_t.c.item_id == b.c.id,
                referral_items_t.c.claimed.is_(True),
                lawsuits_t.c.filed_on <= as_of,
            )
        )
    return conditions


def _plain_count(as_of: date, item_filter: LimitationFilter, last_start: date) -> int:
    """How many open items run plain from a day by ``last_start`` (_plain_conditions)."""
    b = _open_halves(as_of, item_filter)
    conditions = _plain_conditions(b, as_of, last_start)
    return db.session.scalar(sa.select(sa.func.count()).select_from(b).where(*conditions)) or 0


def _plain_starts(as_of: date, item_filter: LimitationFilter, last_start: date):
    """A SELECT of the open items that run plain from a day by ``last_start``, with their
    counterparty, due date and latest interruption of each kind (the day they run from is
    the latest of these)."""
    b = _open_items(as_of, item_filter)
    latest = _interruptions(b, as_of)
    return sa.select(
        b.c.counterparty_id,
        b.c.due_on.label("base_due"),
        *(column.label(name) for name, column in latest.items()),
    ).where(*_plain_conditions(b, as_of, last_start))


def _claimed_items_running(as_of: date):
    """A SELECT of the ids of the items a suit filed by the date claims and whose latest such
    suit lets a period run as of the date: a judgment in force and no enforcement applied for
    (the two years), or proceedings ended without a judgment (the three years again). While a
    suit is pending or enforcement has been applied for no period runs (rules.expiry), so
    those items are neither plain nor within any window. None while the legal part is not
    installed."""
    lawsuit_tables = _lawsuit_tables()
    if lawsuit_tables is None:
        return None
    lawsuits_t, referral_items_t = lawsuit_tables
    later_suit, later_claim = lawsuits_t.alias("later_suit"), referral_items_t.alias("later_claim")
    filed = sa.and_(lawsuits_t.c.filed_on <= as_of, referral_items_t.c.claimed.is_(True))
    # A later suit (by filing date, then id — the order _candidates takes the latest in)
    # claiming the same item.
    superseded = (
        sa.select(later_suit.c.id)
        .join(later_claim, later_claim.c.referral_id == later_suit.c.referral_id)
        .where(
            later_claim.c.item_id == referral_items_t.c.item_id,
            later_claim.c.claimed.is_(True),
            later_suit.c.filed_on <= as_of,
            sa.tuple_(later_suit.c.filed_on, later_suit.c.id)
            > sa.tuple_(lawsuits_t.c.filed_on, lawsuits_t.c.id),
        )
        .exists()
    )
    in_force = lawsuits_t.c.judgment_effective_on <= as_of
    running = sa.or_(
        sa.and_(
            in_force,
            sa.or_(lawsuits_t.c.enforcement_on.is_(None), lawsuits_t.c.enforcement_on > as_of),
        ),
        sa.and_(
            sa.or_(lawsuits_t.c.judgment_effective_on.is_(None), ~in_force),
            lawsuits_t.c.closed_on <= as_of,
        ),
    )
    return (
        sa.select(referral_items_t.c.item_id)
        .join(lawsuits_t, lawsuits_t.c.referral_id == referral_items_t.c.referral_id)
        .where(filed, ~superseded, running)
    )


def _not_plain_items(as_of: date):
    """A SELECT of the ids of the items whose end more than art. 203 may move: installments
    of one debt, items with a suspension recorded, items a suit claims (all few) — of these
    last only those whose latest suit lets a period run (_claimed_items_running). (The other
    installments of a sued debt are installments.)"""
    parts = [
        sa.select(items_t.c.id)
        .join(contracts_t, contracts_t.c.id == items_t.c.contract_id)
        .where(contracts_t.c.installments.is_(True)),
        sa.select(events_t.c.item_id).where(_suspension_counts(events_t, as_of)),
    ]
    claimed = _claimed_items_running(as_of)
    if claimed is not None:
        parts.append(claimed)
    return sa.union(*parts)


def _other_rows_within(as_of: date, within: int, **values) -> list[ExpiryRow]:
    """The rows within the window of the items _plain_count leaves out — installments,
    suspended items, sued items (all few) — each by the full rule in Python."""
    item_filter = _filter(as_of, item_ids=_not_plain_items(as_of), **values)
    rows = _rows(as_of, item_filter, _candidates(as_of, item_filter, None))
    return [row for row in rows if row.running and row.days_left <= within]


def expiring_count(as_of: date, within: int, department_id: int | None = None) -> int:
    """How many open items' limitation ends within ``within`` days of the date (or has
    ended); ``department_id``: items owned by that department or one below it.

    Counted in SQL for the items whose end only art. 203 can move (last_plain_start); the
    others (installments, suspensions, suits: few) by the full rule in Python."""
    departments = department_subtree(department_id)
    last_start = last_plain_start(as_of, within)
    plain = _filter(as_of, department_ids=departments, due_on_max=last_start)
    count = _plain_count(as_of, plain, last_start)
    return count + len(_other_rows_within(as_of, within, department_ids=departments))


def _runs_from(row) -> date:
    """The day a plain item's period runs from: its due date or its latest interruption."""
    days = [as_date(row["base_due"])]
    days += [as_date(row[name]) for name in DATED if row[name] is not None]
    days += [to_local(_as_moment(row[name])).date() for name in MOMENTS if row[name] is not None]
    return max(days)


def earliest_expiry_by_counterparty(as_of: date, within: int, counterparty_ids) -> dict[int, date]:
    """{counterparty_id: the earliest expiry} of those counterparties (ids or a SELECT) with
    an open item whose limitation ends within ``within`` days (or has ended). For plain items
    the earliest end is the end of the earliest start (last_plain_start): one date per
    counterparty in Python, not one rule per item."""
    last_start = last_plain_start(as_of, within)
    plain = _filter(as_of, counterparty_ids=counterparty_ids, due_on_max=last_start)
    starts: dict[int, date] = {}
    for row in db.session.execute(_plain_starts(as_of, plain, last_start)).mappings().all():
        start = _runs_from(row)
        known = starts.get(row["counterparty_id"])
        if known is None or start < known:
            starts[row["counterparty_id"]] = start
    found = {cp: rules.expiry(start, as_of).expires_on for cp, start in starts.items()}
    for row in _other_rows_within(as_of, within, counterparty_ids=counterparty_ids):
        known = found.get(row.counterparty_id)
        if known is None or row.expires_on < known:
            found[row.counterparty_id] = row.expires_on
    return found


# ---------------------------------------------------------------------------------------------
# One item: everything that counted (for its page)


@dataclass
class ItemHistory:
    """The events behind one item's expiry, latest first (a few of each kind)."""

    row: ExpiryRow | None  # None when the item is not open as of the date
    group_item_ids: list[int]  # the item, or every installment of its debt
    payments: list  # (applied_on, receipt_no, amount, document_no)
    activities: list  # Activity rows that interrupt
    promises: list  # Promise rows
    lawsuits: list  # (filed_on, court, case_number)
    recorded: list  # LimitationEvent rows, withdrawn ones included


HISTORY_LIMIT = 10


def item_history(item: Item, as_of: date) -> ItemHistory:
    rows = expiry_rows(as_of, item_ids=[item.id])
    row = rows[0] if rows else None
    group_ids = [item.id]
    if item.contract_id is not None and item.contract is not None and item.contract.installments:
        group_ids = db.session.scalars(
            sa.select(items_t.c.id).where(
                items_t.c.contract_id == item.contract_id, items_t.c.recognized_on <= as_of
            )
        ).all()
    from recovery.ledger.models import Receipt

    payments = db.session.execute(
        sa.select(apps_t.c.applied_on, Receipt.receipt_no, apps_t.c.amount, items_t.c.document_no)
        .join(Receipt, Receipt.id == apps_t.c.receipt_id)
        .join(items_t, items_t.c.id == apps_t.c.item_id)
        .where(
            apps_t.c.item_id.in_(group_ids),
            apps_t.c.applied_on > items_t.c.due_on,
            apps_t.c.applied_on <= as_of,
        )
        .order_by(apps_t.c.applied_on.desc(), apps_t.c.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    proof_given = sa.func.length(sa.func.trim(sa.func.coalesce(Activity.proof_of_arrival, ""))) > 0
    activities = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.counterparty_id == item.counterparty_id,
            Activity.interrupts_limitation.is_(True),
            Activity.occurred_at < end_of_local_day(as_of),
            sa.or_(
                Activity.kind.in_(ACKNOWLEDGING_KINDS),
                sa.and_(Activity.kind.in_((*DEMAND_KINDS, "confirmation")), proof_given),
            ),
        )
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    promises = db.session.scalars(
        sa.select(Promise)
        .where(
            Promise.counterparty_id == item.counterparty_id,
            Promise.cancelled.is_(False),
            Promise.promised_on <= as_of,
        )
        .order_by(Promise.promised_on.desc(), Promise.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    lawsuits = []
    lawsuit_tables = _lawsuit_tables()
    if lawsuit_tables is not None:
        lawsuits_t, referral_items_t = lawsuit_tables
        lawsuits = db.session.execute(
            sa.select(lawsuits_t.c.filed_on, lawsuits_t.c.court, lawsuits_t.c.case_number)
            .join(referral_items_t, referral_items_t.c.referral_id == lawsuits_t.c.referral_id)
            .where(
                referral_items_t.c.item_id.in_(group_ids),
                referral_items_t.c.claimed.is_(True),
                lawsuits_t.c.filed_on <= as_of,
            )
            .distinct()
            .order_by(lawsuits_t.c.filed_on.desc())
        ).all()
    recorded = db.session.scalars(
        sa.select(LimitationEvent)
        .where(LimitationEvent.item_id.in_(group_ids))
        .order_by(LimitationEvent.dated_on.desc(), LimitationEvent.id.desc())
    ).all()
    return ItemHistory(
        row=row,
        group_item_ids=list(group_ids),
        payments=payments,
        activities=activities,
        promises=promises,
        lawsuits=lawsuits,
        recorded=recorded,
    )
