"""The open items summed per department and per due or recognition date (``open_item_sums``),
kept by triggers on ``items`` (migration 0022), and the reads that use them: the aging by
department and the ledger's bucket totals of the whole company or one department
(docs/ledger.md, "Kept open-item sums").

As of a date the sums stand for the ledger's open items when two things hold, both one
indexed look: no item has a payment or credit dated after the date (the outstanding of every
item is its stored open amount), and no open item is recognised after it. That is the usual
case as of today; any other date, filter or grouping sums the items as before. Both ways give
the same figures: the tests compare them on random ledgers.

Each change to an item adds rows; reads add them up per (department, bucket). Compacting
replaces the rows by one per (basis, department, day): in a background thread once a read
finds more than ``COMPACT_AFTER`` rows of changes, and by ``flask ledger compact-sums``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import date

import sqlalchemy as sa

from recovery.extensions import db
from recovery.ledger import queries
from recovery.ledger.models import Item, OpenItemSums

log = logging.getLogger(__name__)

sums_t = OpenItemSums.__table__
items_t = Item.__table__

KEY = ("basis", "department_id", "day")
SUMMED = ("items", "amount_fen", "open_fen")
COLUMNS = [*KEY, *SUMMED, "compacted"]
# Rows of changes (not yet compacted) a read may find before it asks for a compaction. At a
# million items the compacted table holds about 20,000 rows; a busy day adds tens of thousands.
COMPACT_AFTER = 20_000
# The PostgreSQL advisory lock that keeps compactions one at a time across app servers.
COMPACT_LOCK = 0x6F70656E5F73756D  # "open_sum"

# The sums as the items are: the rebuild's INSERT, in SQL that both databases take, also used
# by the benchmark generator after its bulk load (triggers off).
REBUILD_SQL = (
    "INSERT INTO open_item_sums (basis, department_id, day, items, amount_fen, open_fen,"
    " compacted) "
    "SELECT 'due', department_id, due_on, count(*), sum(amount), sum(open_amount), {true}"
    " FROM items WHERE open_amount <> 0 GROUP BY department_id, due_on "
    "UNION ALL "
    "SELECT 'age', department_id, recognized_on, count(*), sum(amount), sum(open_amount), {true}"
    " FROM items WHERE open_amount <> 0 GROUP BY department_id, recognized_on"
)


def rebuild_sql(dialect_name: str) -> str:
    return REBUILD_SQL.format(true="true" if dialect_name == "postgresql" else "1")


# ---------------------------------------------------------------------------------------------
# When the sums stand for the items


def usable(as_of: date, item_filter, allowed: tuple[str, ...] = ("department_id",)) -> bool:
    """Whether the kept sums give the open items of ``item_filter`` as of the date: the filter
    narrows by nothing but ``allowed`` (and ``open_only``, which the callers check), nothing
    moved after the date and no open item is recognised after it."""
    if item_filter is not None:
        for field in dataclasses.fields(item_filter):
            if field.name in allowed or field.name == "open_only":
                continue
            if getattr(item_filter, field.name) != field.default:
                return False
    return queries.nothing_moved_after(as_of) and not _recognized_after(as_of)


def _recognized_after(as_of: date) -> bool:
    """Whether an open item is recognised after the date: the end of ix_open_item_sums_basis_day
    (rows of changes may cancel out, hence the sum)."""
    c = sums_t.c
    found = db.session.execute(
        sa.select(c.department_id, c.day)
        .where(c.basis == "age", c.day > as_of)
        .group_by(c.department_id, c.day)
        .having(sa.func.sum(c["items"]) != 0)
        .limit(1)
    ).first()
    return found is not None


# ---------------------------------------------------------------------------------------------
# Reads


def bucket_sums(
    as_of: date,
    basis: str,
    *,
    department_id: int | None = None,
    overdue_only: bool = False,
    by_department: bool = False,
) -> dict[tuple[int | None, int], list[int]]:
    """The open items' [count, amount fen, open fen] per bucket of ``basis`` ("due": the due
    buckets of rules.DUE_BUCKETS; "age": rules.AGE_BUCKETS) as of the date — per department
    too with ``by_department`` —, of one department or all, of the overdue items only with
    ``overdue_only``. Call only where ``usable``.

    The overdue items' age buckets are all open items' less those of the items not due yet,
    read from the index of open items by due date (a short range: items fall due within
    months)."""
    c = sums_t.c
    day = {"due_on": c.day} if basis == "due" else {"recognized_on": c.day}
    query = sa.select(
        c.department_id if by_department else sa.null(),
        queries.bucket_index(basis, day, as_of),
        *(sa.cast(sa.func.sum(c[name]), sa.BigInteger) for name in SUMMED),
        sa.func.sum(sa.case((c.compacted, 0), else_=1)),
    ).where(c.basis == basis)
    if department_id is not None:
        query = query.where(c.department_id == department_id)
    if overdue_only and basis == "due":
        query = query.where(c.day < as_of)
    query = _grouped(query, by_department).having(sa.func.sum(c["items"]) != 0)
    cells: dict[tuple[int | None, int], list[int]] = {}
    changes = 0
    for gid, bucket, *sums, unsummed in db.session.execute(query):
        cells[(gid, bucket)] = [int(value or 0) for value in sums]
        changes += int(unsummed or 0)
    if overdue_only and basis == "age":
        for key, sums in _not_due_by_age(as_of, department_id, by_department).items():
            cell = cells.setdefault(key, [0, 0, 0])
            for index, value in enumerate(sums):
                cell[index] -= value
        cells = {key: sums for key, sums in cells.items() if sums[0]}
    compact_later(changes)
    return cells


def _not_due_by_age(as_of: date, department_id: int | None, by_department: bool):
    """[count, amount fen, open fen] of the open items not due as of the date, by (department
    or None, age bucket)."""
    c = items_t.c
    query = sa.select(
        c.department_id if by_department else sa.null(),
        queries.bucket_index("age", c, as_of),
        sa.func.count(),
        sa.cast(sa.func.sum(queries.fen(c.amount)), sa.BigInteger),
        sa.cast(sa.func.sum(queries.fen(c.open_amount)), sa.BigInteger),
    ).where(
        # A literal 0: the partial index of open items by due date (ix_items_open_due).
        queries.fen(c.open_amount) != sa.literal_column("0"),
        c.due_on >= as_of,
    )
    if department_id is not None:
        query = query.where(c.department_id == department_id)
    query = _grouped(query, by_department)
    return {
        (gid, bucket): [int(count), int(amount or 0), int(open_fen or 0)]
        for gid, bucket, count, amount, open_fen in db.session.execute(query)
    }


def _grouped(query, by_department: bool):
    """Grouped by the selected (department, bucket), or by the bucket alone — by position:
    the bucket's CASE holds bound dates, which PostgreSQL would not match to the selected one."""
    if by_department:
        return query.group_by(sa.literal_column("1"), sa.literal_column("2"))
    return query.group_by(sa.literal_column("2"))


# ---------------------------------------------------------------------------------------------
# Compacting, rebuilding, checking


def compact() -> tuple[int, int] | None:
    """Replace the rows by one per (basis, department, day), in the current transaction (the
    caller commits); returns (rows before, rows after). Safe beside writers: the rows summed
    are exactly the rows deleted, so a change written meanwhile is either in both or in
    neither. On PostgreSQL one compaction runs at a time (an advisory lock): a second finds
    it taken and does nothing, returning None."""
    c = sums_t.c
    count = sa.select(sa.func.count()).select_from(sums_t)
    if db.session.get_bind().dialect.name == "postgresql":
        if not db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(COMPACT_LOCK))):
            return None
        before = db.session.scalar(count)
        # One statement: the rows it deletes are the rows it sums (a writer's rows committed
        # meanwhile are in neither).
        gone = sa.delete(sums_t).returning(*(c[name] for name in KEY + SUMMED)).cte("gone")
        db.session.execute(sa.insert(sums_t).from_select(COLUMNS, _summed(gone)))
    else:
        # SQLite has one writer at a time, and the INSERT makes this transaction it: the rows
        # it sums are all the rows there are, and they are those before its first new row.
        new_ids = db.session.scalars(
            sa.insert(sums_t).from_select(COLUMNS, _summed(sums_t)).returning(c.id)
        ).all()
        older = c.id < min(new_ids) if new_ids else sa.true()
        before = db.session.scalar(count.where(older))
        db.session.execute(sa.delete(sums_t).where(older))
    return int(before or 0), int(db.session.scalar(count) or 0)


def _summed(rows):
    """One row per (basis, department, day) of ``rows`` (the table or the rows deleted from
    it), marked compacted; keys whose sums are all 0 are left out."""
    key = [rows.c[name] for name in KEY]
    sums = [sa.func.sum(rows.c[name]) for name in SUMMED]
    return (
        sa.select(*key, *sums, sa.true())
        .group_by(*key)
        .having(sa.or_(*(total != 0 for total in sums)))
    )


def rebuild() -> int:
    """Sum the open items again into the table, in the current transaction (the caller
    commits); returns the rows written. Writers of items wait meanwhile (PostgreSQL: a SHARE
    lock on items; SQLite: its one writer), so that no change is counted twice or not at all.
    For a repair (``compact-sums --rebuild``); the triggers keep the sums otherwise."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(sa.text("LOCK TABLE items IN SHARE MODE"))
    db.session.execute(sa.delete(sums_t))
    db.session.execute(sa.text(rebuild_sql(dialect)))
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(sums_t)) or 0)


def differences(limit: int = 20) -> list[str]:
    """Where the kept sums differ from the items summed afresh (at most ``limit``, each as
    "basis department day: kept … summed …"); empty when they agree."""
    c, i = sums_t.c, items_t.c
    differing = []
    for basis, day in (("due", i.due_on), ("age", i.recognized_on)):
        kept = (
            sa.select(
                c.department_id, c.day, *(sa.func.sum(c[name]).label(name) for name in SUMMED)
            )
            .where(c.basis == basis)
            .group_by(c.department_id, c.day)
        )
        summed = (
            sa.select(
                i.department_id,
                day,
                sa.func.count(),
                sa.func.sum(queries.fen(i.amount)),
                sa.func.sum(queries.fen(i.open_amount)),
            )
            .where(queries.fen(i.open_amount) != 0)
            .group_by(i.department_id, day)
        )
        found = {(r[0], r[1]): tuple(int(v or 0) for v in r[2:]) for r in db.session.execute(kept)}
        actual = {
            (r[0], r[1]): tuple(int(v or 0) for v in r[2:]) for r in db.session.execute(summed)
        }
        for key in sorted(set(found) | set(actual), key=lambda k: (k[0] or 0, str(k[1]))):
            kept_sums = found.get(key, (0, 0, 0))
            summed_sums = actual.get(key, (0, 0, 0))
            if kept_sums != summed_sums:
                differing.append(
                    f"{basis} department {key[0]} {key[1]}: kept {kept_sums}, summed {summed_sums}"
                )
    return differing[:limit]


# ---------------------------------------------------------------------------------------------
# Compacting in the background, once the changes pile up

_compacting = threading.Lock()


def compact_later(changes: int) -> None:
    """Start a compaction in a background thread when a read found more than
    ``COMPACT_AFTER`` rows of changes (the app's ``OPEN_SUMS_COMPACT_AFTER``), unless this
    process runs one already."""
    from flask import current_app

    app = current_app._get_current_object()
    if changes <= app.config.get("OPEN_SUMS_COMPACT_AFTER", COMPACT_AFTER):
        return
    if not _compacting.acquire(blocking=False):
        return
    thread = threading.Thread(target=_compact_in, args=(app,), name="open-sums", daemon=True)
    try:
        thread.start()
    except RuntimeError:
        _compacting.release()
        raise


def _compact_in(app) -> None:
    try:
        with app.app_context():
            try:
                compact()
                db.session.commit()
            except Exception:
                # Nothing lost: the rows of changes stay and the next read asks again.
                log.exception("compacting the open-item sums failed")
                db.session.rollback()
    finally:
        _compacting.release()


def wait_for_compaction(seconds: float = 60) -> None:  # float-ok: seconds
    """Wait until this process's background compaction, if any, has ended (tests)."""
    if _compacting.acquire(timeout=seconds):
        _compacting.release()
