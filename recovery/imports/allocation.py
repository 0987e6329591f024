"""Allocation replayed for many counterparties at once (after a bulk import).

The same result as calling ``recovery.ledger.services.reallocate`` for each counterparty — the
same rules (``rules.allocate``), the same stored applications and open amounts — but reading
and writing a few hundred counterparties per statement instead of one, which is what makes
an import of 100,000 rows fast. tests/imports/test_allocation.py holds the two to the same
result on random ledgers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from recovery.core import bulk
from recovery.core.money import from_fen
from recovery.extensions import db
from recovery.ledger import rules
from recovery.ledger import services as ledger_services
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Counterparty

CHUNK = 500

items_t = Item.__table__
receipts_t = Receipt.__table__
apps_t = Application.__table__
adj_t = Adjustment.__table__


def _fen(column):
    return sa.type_coerce(column, sa.BigInteger)


def _lock(ids: list[int]) -> None:
    """Serialise with other allocations of these counterparties (PostgreSQL row locks)."""
    if db.session.get_bind().dialect.name == "postgresql":
        counterparties = Counterparty.__table__
        db.session.execute(
            sa.select(counterparties.c.id)
            .where(bulk.one_of(counterparties.c.id, ids))
            .order_by(counterparties.c.id)
            .with_for_update()
        )


def reallocate_many(
    counterparty_ids: Iterable[int], progress: Callable[[int, int], None] | None = None
) -> int:
    """Replay allocation for every counterparty in ``counterparty_ids``; store what changed.

    Returns the number of counterparties whose applications were rewritten."""
    db.session.flush()
    ids = sorted(set(counterparty_ids))
    rewritten = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rewritten += _reallocate_chunk(chunk)
        if progress is not None:
            progress(min(start + CHUNK, len(ids)), len(ids))
    if ids:
        wanted = set(ids)
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, Item) and obj.counterparty_id in wanted:
                db.session.expire(obj, ["open_amount", "last_movement_on"])
            if isinstance(obj, Receipt) and obj.counterparty_id in wanted:
                db.session.expire(obj, ["unapplied_amount"])
    return rewritten


def _reallocate_chunk(ids: list[int]) -> int:
    _lock(ids)
    credited = (
        sa.select(adj_t.c.item_id, sa.func.sum(_fen(adj_t.c.amount)).label("fen"))
        .join(items_t, items_t.c.id == adj_t.c.item_id)
        .where(bulk.one_of(items_t.c.counterparty_id, ids), adj_t.c.status == "approved")
        .group_by(adj_t.c.item_id)
        .subquery()
    )
    items: dict[int, list[rules.ItemDoc]] = defaultdict(list)
    current: dict[int, tuple[int, object]] = {}
    for row in db.session.execute(
        sa.select(
            items_t.c.id,
            items_t.c.counterparty_id,
            items_t.c.document_no,
            _fen(items_t.c.amount),
            items_t.c.recognized_on,
            items_t.c.due_on,
            sa.func.coalesce(credited.c.fen, 0),
            _fen(items_t.c.open_amount),
            items_t.c.last_movement_on,
        )
        .outerjoin(credited, credited.c.item_id == items_t.c.id)
        .where(bulk.one_of(items_t.c.counterparty_id, ids))
    ):
        items[row[1]].append(
            rules.ItemDoc(row[0], row[2], int(row[3]), row[4], row[5], int(row[6]))
        )
        current[row[0]] = (int(row[7]), row[8])
    receipts: dict[int, list[rules.ReceiptDoc]] = defaultdict(list)
    unapplied: dict[int, int] = {}
    for row in db.session.execute(
        sa.select(
            receipts_t.c.id,
            receipts_t.c.counterparty_id,
            receipts_t.c.receipt_no,
            _fen(receipts_t.c.amount),
            receipts_t.c.received_on,
            receipts_t.c.item_id,
            _fen(receipts_t.c.unapplied_amount),
        ).where(bulk.one_of(receipts_t.c.counterparty_id, ids))
    ):
        receipts[row[1]].append(rules.ReceiptDoc(row[0], row[2], int(row[3]), row[4], row[5]))
        unapplied[row[0]] = int(row[6])
    stored: dict[int, Counter] = defaultdict(Counter)
    for row in db.session.execute(
        sa.select(
            apps_t.c.counterparty_id,
            apps_t.c.applied_on,
            apps_t.c.receipt_id,
            apps_t.c.item_id,
            _fen(apps_t.c.amount),
        ).where(bulk.one_of(apps_t.c.counterparty_id, ids))
    ):
        stored[row[0]][(row[1], row[2], row[3], int(row[4]))] += 1
    last_adjusted = dict(
        db.session.execute(
            sa.select(adj_t.c.item_id, sa.func.max(adj_t.c.dated_on))
            .join(items_t, items_t.c.id == adj_t.c.item_id)
            .where(bulk.one_of(items_t.c.counterparty_id, ids), adj_t.c.status == "approved")
            .group_by(adj_t.c.item_id)
        ).all()
    )

    rewrite: list[int] = []
    new_apps: list[dict] = []
    open_changes: list[dict] = []
    unapplied_changes: list[dict] = []
    for counterparty_id in ids:
        cp_items = items.get(counterparty_id, [])
        wanted = rules.allocate(cp_items, receipts.get(counterparty_id, []))
        unapplied_changes += ledger_services.unapplied_changes(
            receipts.get(counterparty_id, []), wanted, unapplied
        )
        if stored.get(counterparty_id, Counter()) != Counter(
            (a.applied_on, a.receipt_id, a.item_id, a.amount) for a in wanted
        ):
            rewrite.append(counterparty_id)
            new_apps.extend(
                {
                    "counterparty_id": counterparty_id,
                    "receipt_id": a.receipt_id,
                    "item_id": a.item_id,
                    "amount": from_fen(a.amount),
                    "applied_on": a.applied_on,
                }
                for a in wanted
            )
        paid: Counter = Counter()
        last: dict = {}
        for a in wanted:
            paid[a.item_id] += a.amount
            last[a.item_id] = max(last.get(a.item_id, a.applied_on), a.applied_on)
        for item in cp_items:
            day = last_adjusted.get(item.id)
            if day is not None:
                last[item.id] = max(last.get(item.id, day), day)
            target = (item.amount - item.credited - paid[item.id], last.get(item.id))
            if current[item.id] != target:
                open_changes.append(
                    {
                        "open_amount": from_fen(target[0]),
                        "last_movement_on": target[1],
                        "id": item.id,
                    }
                )
    connection = db.session.connection()
    if rewrite:
        connection.execute(apps_t.delete().where(bulk.one_of(apps_t.c.counterparty_id, rewrite)))
    bulk.insert_many(connection, apps_t, new_apps)
    bulk.update_many(connection, items_t, "id", open_changes)
    bulk.update_many(connection, receipts_t, "id", unapplied_changes)
    return len(rewrite)
