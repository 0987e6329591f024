"""Query and index changes measured against the current code (docs/performance.md, "What was
tried and is not proposed"): kept so that they can be measured again, or new ideas the same way.

    .venv/bin/python bench/run.py --database URL --proposed          # the query change
    .venv/bin/python bench/proposed.py --database URL                # add the indexes (a copy!)

1. ``outstanding_items``: the sums of applications and credits are needed only for items that
   moved after the as-of date. Select those items first (through ix_items_last_movement_on),
   narrowed by the same filter as the outer query, and sum only their rows with
   ``item_id IN (...)``. Measured: better as of today (SQLite no longer reads all 1.4 million
   applications), worse a year ago (130,000 index look-ups instead of one scan).
2. Index ``applications (counterparty_id, applied_on, amount)`` in place of the plain
   ``applications (counterparty_id)``: unapplied credit read from the index alone.
3. Index ``items (counterparty_id, recognized_on, due_on, amount, open_amount,
   last_movement_on)`` in place of ix_items_counterparty_dates: the aging's scan of the items
   reads the index alone. Measured (2 and 3): no gain beyond the noise of a shared machine.
"""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

INDEX_DDL = (
    "DROP INDEX IF EXISTS ix_applications_counterparty_id",
    "CREATE INDEX IF NOT EXISTS ix_applications_counterparty_date "
    "ON applications (counterparty_id, applied_on, amount)",
    "DROP INDEX IF EXISTS ix_items_counterparty_dates",
    "CREATE INDEX IF NOT EXISTS ix_items_counterparty_dates "
    "ON items (counterparty_id, recognized_on, due_on, amount, open_amount, last_movement_on)",
)


def outstanding_items(as_of, item_filter=None):
    """recovery.ledger.queries.outstanding_items with change 1 (same columns, same figures)."""
    from recovery.ledger.queries import adj_t, apps_t, fen, items_t

    moved_later = sa.and_(
        items_t.c.last_movement_on.is_not(None), items_t.c.last_movement_on > as_of
    )
    moved = sa.select(items_t.c.id).where(moved_later, items_t.c.recognized_on <= as_of)
    if item_filter is not None:
        moved = item_filter.apply(moved, items_t.c, as_of)
    paid = (
        sa.select(apps_t.c.item_id, sa.func.sum(fen(apps_t.c.amount)).label("fen"))
        .where(apps_t.c.applied_on <= as_of, apps_t.c.item_id.in_(moved))
        .group_by(apps_t.c.item_id)
        .subquery("paid")
    )
    credited = (
        sa.select(adj_t.c.item_id, sa.func.sum(fen(adj_t.c.amount)).label("fen"))
        .where(adj_t.c.status == "approved", adj_t.c.dated_on <= as_of, adj_t.c.item_id.in_(moved))
        .group_by(adj_t.c.item_id)
        .subquery("credited")
    )
    outstanding = sa.case(
        (
            moved_later,
            fen(items_t.c.amount)
            - sa.func.coalesce(paid.c.fen, 0)
            - sa.func.coalesce(credited.c.fen, 0),
        ),
        else_=fen(items_t.c.open_amount),
    )
    query = (
        sa.select(
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
        )
        .select_from(items_t)
        .outerjoin(paid, paid.c.item_id == items_t.c.id)
        .outerjoin(credited, credited.c.item_id == items_t.c.id)
        .where(items_t.c.recognized_on <= as_of)
    )
    if item_filter is not None:
        query = item_filter.apply(query, items_t.c, as_of)
    return query.subquery("balances")


def apply() -> None:
    """Use the proposed outstanding_items in this process (screen_queries calls it through
    the queries module, so it follows)."""
    from recovery.ledger import queries

    queries.outstanding_items = outstanding_items


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Add the proposed indexes to a database.")
    parser.add_argument("--database", required=True)
    args = parser.parse_args(argv)
    engine = sa.create_engine(args.database)
    with engine.begin() as connection:
        for ddl in INDEX_DDL:
            connection.exec_driver_sql(ddl)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
