"""Writes to the ledger: documents in, allocation replayed for the counterparty they touch.

Every function takes plain values and the acting user; none touches the request. Documents
(items, receipts, adjustments) are written through the ORM and so audited; the applications
derived from them are rewritten by ``reallocate``.
"""

from __future__ import annotations

import weakref
from collections import Counter
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from recovery.core.money import from_fen
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger import rules
from recovery.ledger.codes import category_of
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.ledger.queries import fen
from recovery.parties.models import Counterparty


class LedgerError(ValueError):
    """A refused ledger change; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------------
# Allocation


def lock_counterparty(*counterparty_ids: int | None) -> None:
    """Serialise allocation per counterparty: on PostgreSQL a row lock (SELECT ... FOR UPDATE)
    on each counterparty's row, held to the end of the transaction, taken in id order (no
    deadlock between two writers) and at the START of every write that allocates — before the
    write's own INSERT/UPDATE, whose foreign key takes a share lock on the same row that two
    writers could otherwise both hold while each waits for the other's FOR UPDATE. Other
    counterparties are not blocked. SQLite has a single writer: nothing to lock.

    A row already locked in this transaction is not asked for again (a receipt's write and
    its replay would otherwise lock the same row twice: one round trip each)."""
    ids = sorted({cp for cp in counterparty_ids if cp is not None})
    if not ids or db.session.get_bind().dialect.name != "postgresql":
        return
    held = _locks_held()
    wanted = [cp for cp in ids if cp not in held]
    if not wanted:
        return
    with db.session.no_autoflush:
        db.session.execute(
            sa.select(Counterparty.id)
            .where(Counterparty.id.in_(wanted))
            .order_by(Counterparty.id)
            .with_for_update()
        )
    _locks_held().update(wanted)  # (the statement may have begun the transaction)


_LOCKS = "ledger.locked_counterparties"


def _locks_held() -> set[int]:
    """The counterparties locked in the session's current transaction (the innermost
    savepoint, if any: a savepoint rolled back releases the row locks taken in it, so a lock
    is only trusted in the transaction that took it). Kept with a weak reference to that
    transaction: a new one starts with none."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    noted = session.info.get(_LOCKS)
    if noted is None or transaction is None or noted[0]() is not transaction:
        noted = (weakref.ref(transaction) if transaction is not None else _nothing, set())
        session.info[_LOCKS] = noted
    return noted[1]


def _nothing():
    return None


def load_documents(counterparty_id: int) -> tuple[list[rules.ItemDoc], list[rules.ReceiptDoc]]:
    """The counterparty's items (with approved credits) and receipts, as plain documents."""
    items, _stored, receipts = _load_for_replay(counterparty_id)
    return items, receipts


def _load_for_replay(counterparty_id: int):
    """(items, {item id: (stored open fen, stored last movement, last approved credit date)},
    receipts) of one counterparty: what a replay needs, in two statements."""
    items_t, receipts_t, adj_t = Item.__table__, Receipt.__table__, Adjustment.__table__
    credited = (
        sa.select(
            adj_t.c.item_id,
            sa.cast(sa.func.sum(fen(adj_t.c.amount)), sa.BigInteger).label("fen"),
            sa.func.max(adj_t.c.dated_on).label("last_on"),
        )
        .join(items_t, items_t.c.id == adj_t.c.item_id)
        .where(items_t.c.counterparty_id == counterparty_id, adj_t.c.status == "approved")
        .group_by(adj_t.c.item_id)
        .subquery()
    )
    item_rows = db.session.execute(
        sa.select(
            items_t.c.id,
            items_t.c.document_no,
            fen(items_t.c.amount),
            items_t.c.recognized_on,
            items_t.c.due_on,
            sa.func.coalesce(credited.c.fen, 0),
            fen(items_t.c.open_amount),
            items_t.c.last_movement_on,
            credited.c.last_on,
        )
        .outerjoin(credited, credited.c.item_id == items_t.c.id)
        .where(items_t.c.counterparty_id == counterparty_id)
    ).all()
    receipt_rows = db.session.execute(
        sa.select(
            receipts_t.c.id,
            receipts_t.c.receipt_no,
            fen(receipts_t.c.amount),
            receipts_t.c.received_on,
            receipts_t.c.item_id,
            fen(receipts_t.c.unapplied_amount),
        ).where(receipts_t.c.counterparty_id == counterparty_id)
    ).all()
    # Money read as the integer fen it is stored as (the rules work in fen): no Decimal per row.
    items = [rules.ItemDoc(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in item_rows]
    stored = {r[0]: (r[6], r[7], r[8]) for r in item_rows}
    receipts = [rules.ReceiptDoc(*r[:5]) for r in receipt_rows]
    stored_unapplied = {r[0]: int(r[5]) for r in receipt_rows}
    return items, (stored, stored_unapplied), receipts


def reallocate(counterparty_id: int) -> int:
    """Replay allocation for one counterparty and store what changed. Returns #applications.

    Only the stored applications the replay no longer gives are deleted and only the new ones
    inserted (a receipt dated today adds one or two applications to a counterparty that may
    have thousands: rewriting them all cost more than the rest of the write), and each item's
    open amount and last movement date are kept in step.
    """
    db.session.flush()
    lock_counterparty(counterparty_id)
    items, (stored_items, stored_unapplied), receipts = _load_for_replay(counterparty_id)
    wanted = rules.allocate(items, receipts)
    app_t = Application.__table__
    stored = db.session.execute(
        sa.select(
            app_t.c.id, app_t.c.applied_on, app_t.c.receipt_id, app_t.c.item_id, fen(app_t.c.amount)
        ).where(app_t.c.counterparty_id == counterparty_id)
    ).all()
    missing = Counter((a.applied_on, a.receipt_id, a.item_id, a.amount) for a in wanted)
    stale = []
    for row in stored:
        key = (row[1], row[2], row[3], row[4])
        if missing[key] > 0:
            missing[key] -= 1
        else:
            stale.append(row[0])
    if stale:
        for start in range(0, len(stale), 1000):
            db.session.execute(app_t.delete().where(app_t.c.id.in_(stale[start : start + 1000])))
    inserts = [
        {
            "counterparty_id": counterparty_id,
            "receipt_id": receipt_id,
            "item_id": item_id,
            "amount": from_fen(amount),
            "applied_on": applied_on,
        }
        for (applied_on, receipt_id, item_id, amount), count in missing.items()
        for _ in range(count)
    ]
    if inserts:
        db.session.execute(app_t.insert(), inserts)
    _refresh_open_amounts(counterparty_id, items, wanted, stored_items)
    _refresh_unapplied(counterparty_id, receipts, wanted, stored_unapplied)
    return len(wanted)


def unapplied_changes(receipts, applications, stored: dict[int, int]) -> list[dict]:
    """[{"id", "unapplied_amount"}] of the receipts whose stored unapplied amount (``stored``:
    {receipt id: fen}) differs from their amount less the ``applications`` (rules.Application)."""
    applied: dict[int, int] = Counter()
    for a in applications:
        applied[a.receipt_id] += a.amount
    return [
        {"id": r.id, "unapplied_amount": from_fen(r.amount - applied[r.id])}
        for r in receipts
        if stored.get(r.id) != r.amount - applied[r.id]
    ]


def _refresh_unapplied(counterparty_id, receipts, applications, stored) -> None:
    """Store each receipt's unapplied amount where the replay changed it (one UPDATE)."""
    changes = unapplied_changes(receipts, applications, stored)
    if not changes:
        return
    receipts_t = Receipt.__table__
    db.session.execute(
        receipts_t.update()
        .where(receipts_t.c.id == sa.bindparam("r"))
        .values(unapplied_amount=sa.bindparam("u")),
        [{"r": c["id"], "u": c["unapplied_amount"]} for c in changes],
    )
    for obj in db.session.identity_map.values():
        if isinstance(obj, Receipt) and obj.counterparty_id == counterparty_id:
            db.session.expire(obj, ["unapplied_amount"])


def refresh_unapplied_sql(counterparty_ids=None) -> None:
    """Set every receipt's unapplied amount (of these counterparties; None: all) from the stored
    applications, in SQL — for the writers that store applications without ``reallocate`` (the
    demo loader, the benchmark's generator)."""
    receipts_t, apps_t = Receipt.__table__, Application.__table__
    applied = (
        sa.select(sa.func.coalesce(sa.func.sum(fen(apps_t.c.amount)), 0))
        .where(apps_t.c.receipt_id == receipts_t.c.id)
        .scalar_subquery()
    )
    wanted = fen(receipts_t.c.amount) - applied
    statement = (
        receipts_t.update()
        .where(fen(receipts_t.c.unapplied_amount) != wanted)
        .values(unapplied_amount=wanted)
    )
    if counterparty_ids is not None:
        ids = sorted(set(counterparty_ids))
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            db.session.execute(statement.where(receipts_t.c.counterparty_id.in_(chunk)))
    else:
        db.session.execute(statement)
    for obj in db.session.identity_map.values():
        if isinstance(obj, Receipt):
            db.session.expire(obj, ["unapplied_amount"])


def _refresh_open_amounts(counterparty_id, items, applications, stored) -> None:
    """Store each item's open amount and last movement (application or approved credit) where
    the replay changed them; ``stored``: {item id: (open fen, last movement, last credit)}."""
    paid: dict[int, int] = Counter()
    last: dict[int, date] = {}
    for a in applications:
        paid[a.item_id] += a.amount
        last[a.item_id] = max(last.get(a.item_id, a.applied_on), a.applied_on)
    items_t = Item.__table__
    changes = []
    for item in items:
        open_fen = item.amount - item.credited - paid[item.id]
        stored_open, stored_last, credited_on = stored[item.id]
        moved = last.get(item.id)
        if credited_on is not None:
            moved = credited_on if moved is None else max(moved, credited_on)
        if (stored_open, stored_last) != (open_fen, moved):
            changes.append({"i": item.id, "o": from_fen(open_fen), "l": moved})
    if changes:
        db.session.execute(
            items_t.update()
            .where(items_t.c.id == sa.bindparam("i"))
            .values(open_amount=sa.bindparam("o"), last_movement_on=sa.bindparam("l")),
            changes,
        )
        for obj in db.session.identity_map.values():
            if isinstance(obj, Item) and obj.counterparty_id == counterparty_id:
                db.session.expire(obj, ["open_amount", "last_movement_on"])


# ---------------------------------------------------------------------------------------------
# Documents


def _ensure_unique(column, value, current_id=None, field=None) -> None:
    """Document numbers are unique: refuse a number another document already has."""
    query = sa.select(column.table.c.id).where(column == value)
    if current_id is not None:
        query = query.where(column.table.c.id != current_id)
    if db.session.scalar(query) is not None:
        raise LedgerError(_l("This document number exists."), field=field)


def _check_dates(recognized_on: date, due_on: date) -> None:
    if due_on < recognized_on:
        raise LedgerError(_l("The due date is before the recognition date."), field="due_on")


def applied_total(item_id: int) -> Decimal:
    table = Application.__table__
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(table.c.amount), 0)).where(
            table.c.item_id == item_id
        )
    )


def credited_total(item_id: int) -> Decimal:
    table = Adjustment.__table__
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(table.c.amount), 0)).where(
            table.c.item_id == item_id, table.c.status == "approved"
        )
    )


def _default_owner(values: dict, counterparty_id: int) -> None:
    """An item without a department or responsible person takes its counterparty's."""
    wanted = [k for k in ("department_id", "responsible_id") if k in values and not values[k]]
    if not wanted:
        return
    counterparty = db.session.get(Counterparty, counterparty_id)
    if counterparty is None:
        raise LedgerError(_l("No such counterparty."), field="counterparty_id")
    for key in wanted:
        values[key] = getattr(counterparty, key)


def create_item(**values) -> Item:
    """Add a receivable item and replay its counterparty's allocation.

    Without an owning department or first-responsible person, the item takes its
    counterparty's (DOMAIN §2: every item has both)."""
    lock_counterparty(values["counterparty_id"])
    _check_dates(values["recognized_on"], values["due_on"])
    values.setdefault("department_id", None)
    values.setdefault("responsible_id", None)
    _default_owner(values, values["counterparty_id"])
    _ensure_unique(Item.__table__.c.document_no, values["document_no"], field="document_no")
    item = Item(open_amount=values["amount"], category=category_of(values["item_type"]), **values)
    db.session.add(item)
    db.session.flush()
    reallocate(item.counterparty_id)
    return item


def update_item(item: Item, **values) -> Item:
    """Correct an item (audited). Its amount never drops below its approved credits (what was
    paid is re-allocated); it cannot move to another counterparty while receipts name it."""
    lock_counterparty(item.counterparty_id, values.get("counterparty_id"))
    _check_dates(values.get("recognized_on", item.recognized_on), values.get("due_on", item.due_on))
    new_amount = values.get("amount", item.amount)
    settled = credited_total(item.id)
    if new_amount < settled:
        raise LedgerError(
            _l("The amount cannot be less than the approved credits (%(n)s).", n=settled),
            field="amount",
        )
    if "document_no" in values:
        _ensure_unique(Item.__table__.c.document_no, values["document_no"], item.id, "document_no")
    moving = values.get("counterparty_id", item.counterparty_id) != item.counterparty_id
    if moving and db.session.scalar(
        sa.select(Receipt.id).where(Receipt.item_id == item.id).limit(1)
    ):
        raise LedgerError(
            _l("Receipts name this item: change them first."), field="counterparty_id"
        )
    _default_owner(values, values.get("counterparty_id", item.counterparty_id))
    old_counterparty = item.counterparty_id
    for key, value in values.items():
        setattr(item, key, value)
    item.category = category_of(item.item_type)
    db.session.flush()
    reallocate(item.counterparty_id)
    if old_counterparty != item.counterparty_id:
        reallocate(old_counterparty)
    return item


def _check_named_item(counterparty_id: int, item_id: int | None) -> None:
    if item_id is None:
        return
    owner = db.session.scalar(sa.select(Item.counterparty_id).where(Item.id == item_id))
    if owner is None:
        raise LedgerError(_l("No such item."), field="item_id")
    if owner != counterparty_id:
        raise LedgerError(_l("The item belongs to another counterparty."), field="item_id")


def create_receipt(**values) -> Receipt:
    lock_counterparty(values["counterparty_id"])
    _check_named_item(values["counterparty_id"], values.get("item_id"))
    _ensure_unique(Receipt.__table__.c.receipt_no, values["receipt_no"], field="receipt_no")
    receipt = Receipt(**values)
    db.session.add(receipt)
    db.session.flush()
    reallocate(receipt.counterparty_id)
    return receipt


def update_receipt(receipt: Receipt, **values) -> Receipt:
    counterparty_id = values.get("counterparty_id", receipt.counterparty_id)
    lock_counterparty(receipt.counterparty_id, counterparty_id)
    _check_named_item(counterparty_id, values.get("item_id", receipt.item_id))
    if "receipt_no" in values:
        _ensure_unique(
            Receipt.__table__.c.receipt_no, values["receipt_no"], receipt.id, "receipt_no"
        )
    old_counterparty = receipt.counterparty_id
    for key, value in values.items():
        setattr(receipt, key, value)
    db.session.flush()
    reallocate(receipt.counterparty_id)
    if old_counterparty != receipt.counterparty_id:
        reallocate(old_counterparty)
    return receipt


def propose_adjustment(
    item: Item, *, kind: str, amount: Decimal, dated_on: date, reason: str, number: str, actor
) -> Adjustment:
    """A credit note or write-off waits for a finance user's approval (not the proposer's)."""
    if kind not in ("credit_note", "write_off"):
        raise LedgerError(_l("Unknown kind."), field="kind")
    if not (reason or "").strip():
        raise LedgerError(_l("Give the reason."), field="reason")
    if dated_on < item.recognized_on:
        raise LedgerError(_l("The date is before the item was recognised."), field="dated_on")
    _ensure_unique(Adjustment.__table__.c.number, number, field="number")
    _check_room(item, amount)
    adjustment = Adjustment(
        item=item,
        kind=kind,
        amount=amount,
        dated_on=dated_on,
        reason=reason.strip(),
        number=number,
        proposed_by_id=actor.id if actor else None,
    )
    db.session.add(adjustment)
    db.session.flush()
    return adjustment


def _check_room(item: Item, amount: Decimal) -> None:
    room = item.amount - credited_total(item.id) - applied_total(item.id)
    if amount > room:
        raise LedgerError(
            _l("Only %(n)s of this item is open; the adjustment cannot exceed it.", n=room),
            field="amount",
        )


def decide_adjustment(adjustment: Adjustment, *, approve: bool, actor, note: str = "") -> None:
    if adjustment.status != "proposed":
        raise LedgerError(_l("This adjustment was already decided."))
    if actor is None or not actor.has_role("finance"):
        raise LedgerError(_l("Only finance may approve credit notes and write-offs."))
    if adjustment.proposed_by_id == actor.id:
        raise LedgerError(_l("Nobody approves their own proposal."))
    if approve:
        lock_counterparty(adjustment.item.counterparty_id)
        _check_room(adjustment.item, adjustment.amount)
    adjustment.status = "approved" if approve else "rejected"
    adjustment.decided_by_id = actor.id
    adjustment.decided_at = utcnow()
    adjustment.decision_note = (note or "").strip() or None
    db.session.flush()
    if approve:
        reallocate(adjustment.item.counterparty_id)
