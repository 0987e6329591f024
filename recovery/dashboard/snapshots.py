"""Month-end snapshots (kpi_month_snapshots), kept in step by the ledger's own writes.

What a row holds, for a month-end M and a department (NULL: items without one):
receivables and overdue as of M, and the month's sales (items recognised in it), money
applied to its items, and approved credits dated in it — the same figures
``live_month`` computes from the documents (tests/dashboard/test_snapshots.py: snapshot =
live after every kind of ledger write, and = a rebuild).

How they are kept in step. Every ledger write goes through the ORM session (documents in,
allocation replayed per counterparty). A session listener notes the counterparties a flush
touches (items, receipts, credit notes / write-offs, old and new owner) and, the first time
in a transaction, reads what those counterparties contribute to the snapshots *before* the
change (under the counterparty's row lock on PostgreSQL, the same lock allocation takes).
Just before the commit it reads their contribution again and adds the difference to the
rows. Writes that bypass the ORM (bulk loads) call ``will_change(counterparty_ids)`` before
writing, or ``recompute_since(earliest document date)`` after, or are followed by
``flask --app recovery dashboard snapshots --rebuild``.

Which month-ends exist: those ``extend``/``rebuild`` created (the command; once a month
after month-end, e.g. from cron). A month-end without a row is computed live by the readers
(correct, only slower).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from recovery.core.money import from_fen
from recovery.dashboard import queries, rules
from recovery.dashboard.models import MonthSnapshot
from recovery.dashboard.queries import COMPANY, Scope, fen, remembered
from recovery.extensions import db
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Counterparty

FIGURES = ("receivables", "overdue", "sales", "applied", "credited", "received")
snap_t = MonthSnapshot.__table__
items_t, apps_t, adj_t = Item.__table__, Application.__table__, Adjustment.__table__
receipts_t, parties_t = Receipt.__table__, Counterparty.__table__


@dataclass
class MonthFigures:
    month_end: date
    receivables: Decimal = Decimal("0.00")
    overdue: Decimal = Decimal("0.00")
    sales: Decimal = Decimal("0.00")
    applied: Decimal = Decimal("0.00")
    credited: Decimal = Decimal("0.00")
    received: Decimal = Decimal("0.00")
    stored: bool = False  # read from the snapshot (True) or computed live (False)


# ---------------------------------------------------------------------------------------------
# Live: the figures of one month-end from the documents


def live_month(month_end: date, scope: Scope = COMPANY) -> dict[int | None, dict[str, int]]:
    """{department_id: {figure: fen}} of one month-end, computed from the documents."""
    start = rules.month_start(month_end)
    out: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for dept, (receivables, overdue) in queries.receivables_by_department(month_end, scope).items():
        out[dept]["receivables"] = receivables
        out[dept]["overdue"] = overdue
    c = items_t.c
    flows = {
        "sales": sa.select(c.department_id, sa.func.sum(fen(c.amount))).where(
            c.recognized_on >= start, c.recognized_on <= month_end
        ),
        "applied": sa.select(c.department_id, sa.func.sum(fen(apps_t.c.amount)))
        .join(items_t, c.id == apps_t.c.item_id)
        .where(apps_t.c.applied_on >= start, apps_t.c.applied_on <= month_end),
        "credited": sa.select(c.department_id, sa.func.sum(fen(adj_t.c.amount)))
        .join(items_t, c.id == adj_t.c.item_id)
        .where(
            adj_t.c.status == "approved",
            adj_t.c.dated_on >= start,
            adj_t.c.dated_on <= month_end,
        ),
    }
    for figure, query in flows.items():
        query = query.where(scope.on(c.department_id)).group_by(c.department_id)
        for dept, total in db.session.execute(query):
            out[dept][figure] = int(total or 0)
    # Receipts belong to counterparties: by the counterparty's department.
    received = (
        sa.select(parties_t.c.department_id, sa.func.sum(fen(receipts_t.c.amount)))
        .join(parties_t, parties_t.c.id == receipts_t.c.counterparty_id)
        .where(
            receipts_t.c.received_on >= start,
            receipts_t.c.received_on <= month_end,
            scope.on(parties_t.c.department_id),
        )
        .group_by(parties_t.c.department_id)
    )
    for dept, total in db.session.execute(received):
        out[dept]["received"] = int(total or 0)
    return {dept: values for dept, values in out.items() if any(values.values())}


# ---------------------------------------------------------------------------------------------
# Building and reading


def stored_month_ends() -> list[date]:
    return remembered(
        "stored",
        lambda: list(
            db.session.scalars(
                sa.select(snap_t.c.month_end).distinct().order_by(snap_t.c.month_end)
            )
        ),
    )


def last_closed_month_end(today: date) -> date:
    return rules.previous_month_end(today)


def _write_month(month_end: date) -> None:
    db.session.execute(snap_t.delete().where(snap_t.c.month_end == month_end))
    figures = live_month(month_end)
    figures.setdefault(None, dict.fromkeys(FIGURES, 0))  # one row marks the month as built
    db.session.execute(
        snap_t.insert(),
        [
            {
                "month_end": month_end,
                "department_id": dept,
                **{name: from_fen(values[name]) for name in FIGURES},
            }
            for dept, values in figures.items()
        ],
    )


def rebuild(until: date, since: date | None = None, progress=None) -> int:
    """Recompute every month-end from ``since`` (default: the month of the first item) to
    ``until`` (a month-end; default use: the last closed month). Returns the months written."""
    db.session.execute(snap_t.delete())
    return _build(until, since, progress)


def extend(until: date, progress=None) -> int:
    """Add the month-ends missing after the last one stored, up to ``until``."""
    stored = stored_month_ends()
    since = stored[-1] + timedelta(days=1) if stored else None
    return _build(until, since, progress)


def recompute_since(day: date, progress=None) -> int:
    """Recompute the stored month-ends from ``day``'s month on, from the documents: for a
    bulk write that did not announce its counterparties (will_change) — documents dated
    ``day`` or later cannot change an earlier month-end. Returns the months written."""
    months = [m for m in stored_month_ends() if m >= rules.month_end(day)]
    for done, month_end in enumerate(months, start=1):
        _write_month(month_end)
        if progress is not None:
            progress(done, len(months))
    return len(months)


def _build(until: date, since: date | None, progress) -> int:
    if since is None:
        since = db.session.scalar(sa.select(sa.func.min(items_t.c.recognized_on)))
        if since is None:
            return 0
    months = rules.month_ends_between(since, until)
    for done, month_end in enumerate(months, start=1):
        _write_month(month_end)
        if progress is not None:
            progress(done, len(months))
    return len(months)


def month_figures(month_ends: Iterable[date], scope: Scope = COMPANY) -> dict[date, MonthFigures]:
    """The figures of each month-end for the scope: from the snapshot where it holds the
    month, computed live where it does not."""
    wanted = sorted(set(month_ends))
    result: dict[date, MonthFigures] = {}
    if wanted:
        sums = [sa.func.sum(fen(snap_t.c[name])).label(name) for name in FIGURES]
        present = set(
            db.session.scalars(
                sa.select(snap_t.c.month_end).distinct().where(snap_t.c.month_end.in_(wanted))
            )
        )
        if present:
            rows = db.session.execute(
                sa.select(snap_t.c.month_end, *sums)
                .where(snap_t.c.month_end.in_(present), scope.on(snap_t.c.department_id))
                .group_by(snap_t.c.month_end)
            ).mappings()
            for month_end in present:
                result[month_end] = MonthFigures(month_end, stored=True)
            for row in rows:
                result[row["month_end"]] = MonthFigures(
                    row["month_end"],
                    **{name: from_fen(int(row[name] or 0)) for name in FIGURES},
                    stored=True,
                )
    for month_end in wanted:
        if month_end not in result:
            totals = Counter()
            for values in live_month(month_end, scope).values():
                totals.update(values)
            result[month_end] = MonthFigures(
                month_end, **{name: from_fen(totals[name]) for name in FIGURES}
            )
    return result


def receivables_at(day: date, scope: Scope = COMPANY) -> Decimal:
    """Receivables as of a date: from the snapshot when it is a stored month-end."""
    if rules.is_month_end(day):
        present = db.session.scalar(
            sa.select(snap_t.c.id).where(snap_t.c.month_end == day).limit(1)
        )
        if present is not None:
            return month_figures([day], scope)[day].receivables
    return queries.balances(day, scope).receivables


def flow_between(figure: str, date_from: date, date_to: date, scope: Scope = COMPANY) -> Decimal:
    """sales, applied, credited or received (recovered) over a period: whole months inside
    it from the snapshot (when stored), the rest live from the documents."""
    live = {
        "sales": queries.sales_between,
        "applied": queries.applied_between,
        "credited": queries.credited_between,
        "received": queries.recovered_between,
    }[figure]
    if date_from > date_to:
        return Decimal("0.00")
    first_full = date_from if date_from.day == 1 else rules.month_end(date_from) + timedelta(1)
    full_months = rules.month_ends_between(first_full, date_to) if first_full <= date_to else []
    stored = set(stored_month_ends()) & set(full_months)
    total = Decimal("0.00")
    if stored:
        figures = month_figures(stored, scope)
        total += sum((getattr(figures[m], figure) for m in stored), Decimal("0.00"))
    # The days not covered by a stored month, as ranges, each summed live.
    ranges, day = [], date_from
    for month_end in sorted(stored):
        month_first = rules.month_start(month_end)
        if day < month_first:
            ranges.append((day, month_first - timedelta(days=1)))
        day = month_end + timedelta(days=1)
    if day <= date_to:
        ranges.append((day, date_to))
    for low, high in ranges:
        total += remembered(
            (figure, low, high, scope), lambda low=low, high=high: live(low, high, scope)
        )
    return total


# ---------------------------------------------------------------------------------------------
# Maintenance by the ledger's writes


def contributions(
    counterparty_ids: Iterable[int], month_ends: list[date]
) -> dict[int, Counter[tuple[date, int | None, str]]]:
    """{counterparty: what its documents add to each (month-end, department, figure), in
    fen}: the snapshot's figures restricted to one counterparty. Read from the stored
    applications (what allocation gave) and summed in Python per item: one counterparty's
    documents are few, and this runs only for those a transaction touched."""
    ids = sorted(set(counterparty_ids))
    out: dict[int, Counter] = {cp: Counter() for cp in ids}
    if not ids or not month_ends:
        return out
    ends = sorted(month_ends)
    known = set(ends)
    month_of: dict[date, date] = {}  # day -> its month-end (the same days come back often)

    def month_of_day(day: date) -> date:
        if day not in month_of:
            month_of[day] = rules.month_end(day)
        return month_of[day]

    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        items = db.session.execute(
            sa.select(
                items_t.c.id,
                items_t.c.counterparty_id,
                items_t.c.department_id,
                fen(items_t.c.amount),
                items_t.c.recognized_on,
                items_t.c.due_on,
            ).where(items_t.c.counterparty_id.in_(chunk))
        ).all()
        reductions: dict[int, list[tuple[date, int, str]]] = defaultdict(list)
        for item_id, day, amount in db.session.execute(
            sa.select(apps_t.c.item_id, apps_t.c.applied_on, fen(apps_t.c.amount)).where(
                apps_t.c.counterparty_id.in_(chunk)
            )
        ).all():
            reductions[item_id].append((day, int(amount), "applied"))
        for item_id, day, amount in db.session.execute(
            sa.select(adj_t.c.item_id, adj_t.c.dated_on, fen(adj_t.c.amount))
            .join(items_t, items_t.c.id == adj_t.c.item_id)
            .where(items_t.c.counterparty_id.in_(chunk), adj_t.c.status == "approved")
        ).all():
            reductions[item_id].append((day, int(amount), "credited"))
        departments = dict(
            db.session.execute(
                sa.select(parties_t.c.id, parties_t.c.department_id).where(
                    parties_t.c.id.in_(chunk)
                )
            ).all()
        )
        for cp, day, amount in db.session.execute(
            sa.select(
                receipts_t.c.counterparty_id, receipts_t.c.received_on, fen(receipts_t.c.amount)
            ).where(receipts_t.c.counterparty_id.in_(chunk))
        ).all():
            month = month_of_day(day)
            if month in known:
                out[cp][(month, departments.get(cp), "received")] += int(amount)
        # Outstanding at each month-end, as steps (the item's amount from the month-end of its
        # recognition on, less each reduction from the month-end of its date on; the same for
        # overdue from the first month-end after the due date), summed per counterparty and
        # department and added up once: not one addition per item and month.
        size = len(ends)
        steps: dict[tuple[int, int | None], tuple[list[int], list[int]]] = {}
        for item_id, cp, dept, amount, recognized_on, due_on in items:
            amount, own = int(amount), reductions.get(item_id, ())
            _add_flows(out[cp], known, month_of_day, dept, amount, recognized_on, own)
            first = bisect.bisect_left(ends, recognized_on)
            if first == size:
                continue  # recognised after the last month-end
            late = max(first, bisect.bisect_right(ends, due_on))  # month-ends past the due date
            if (cp, dept) not in steps:
                steps[(cp, dept)] = ([0] * (size + 1), [0] * (size + 1))
            receivable, overdue = steps[(cp, dept)]
            receivable[first] += amount
            overdue[late] += amount
            for day, value, _kind in own:
                at = bisect.bisect_left(ends, day)
                receivable[max(first, at)] -= value
                overdue[max(late, at)] -= value
        for (cp, dept), (receivable, overdue) in steps.items():
            left = late_left = 0
            for index, month_end in enumerate(ends):
                left += receivable[index]
                late_left += overdue[index]
                if left:
                    out[cp][(month_end, dept, "receivables")] += left
                if late_left:
                    out[cp][(month_end, dept, "overdue")] += late_left
    return out


def _add_flows(out: Counter, known, month_of_day, dept, amount, recognized_on, own) -> None:
    """One item's flows: its sales month and its reductions' months."""
    month = month_of_day(recognized_on)
    if month in known:
        out[(month, dept, "sales")] += amount
    for day, value, kind in own:
        month = month_of_day(day)
        if month in known:
            out[(month, dept, kind)] += value


def apply_delta(delta: Counter) -> None:
    """Add fen amounts to the rows (creating a department's row for a month when missing)."""
    by_row: dict[tuple[date, int | None], dict[str, int]] = defaultdict(dict)
    for (month_end, dept, figure), value in delta.items():
        if value:
            by_row[(month_end, dept)][figure] = value
    for (month_end, dept), values in sorted(
        by_row.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)
    ):
        where = [snap_t.c.month_end == month_end]
        where.append(
            snap_t.c.department_id.is_(None) if dept is None else snap_t.c.department_id == dept
        )
        changes = {
            snap_t.c[name]: fen(snap_t.c[name]) + sa.literal(value, sa.BigInteger)
            for name, value in values.items()
        }
        result = db.session.execute(snap_t.update().where(*where).values(changes))
        if not result.rowcount:
            row = {name: from_fen(values.get(name, 0)) for name in FIGURES}
            db.session.execute(
                snap_t.insert().values(month_end=month_end, department_id=dept, **row)
            )


STATE = "dashboard.snapshots"


@dataclass
class _Pending:
    month_ends: list[date]
    old: dict[int, Counter] = field(default_factory=dict)  # counterparty -> contribution
    new_objects: list = field(default_factory=list)  # documents of counterparties not yet flushed


def _state(session: Session) -> _Pending | None:
    """This transaction's bookkeeping; None when no snapshot exists (nothing to maintain)."""
    state = session.info.get(STATE)
    if state is None:
        with session.no_autoflush:
            month_ends = list(
                session.scalars(
                    sa.select(snap_t.c.month_end).distinct().order_by(snap_t.c.month_end)
                )
            )
        state = _Pending(month_ends)
        session.info[STATE] = state
    return state if state.month_ends else None


def _lock(session: Session, ids: list[int]) -> None:
    """The row lock allocation takes (services.lock_counterparty), taken before reading the
    old contribution, so that two transactions on one counterparty cannot both read it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.select(Counterparty.id)
            .where(Counterparty.id.in_(ids))
            .order_by(Counterparty.id)
            .with_for_update()
        )


def _remember(session: Session, state: _Pending, counterparty_ids: Iterable[int]) -> None:
    fresh = sorted({cp for cp in counterparty_ids if cp is not None} - set(state.old))
    if not fresh:
        return
    with session.no_autoflush:
        _lock(session, fresh)
        state.old.update(contributions(fresh, state.month_ends))


def will_change(counterparty_ids: Iterable[int], session: Session | None = None) -> None:
    """Call before changing these counterparties' documents without the ORM (bulk writes):
    their snapshot contribution is read now and corrected at the commit."""
    session = session or db.session
    state = _state(session)
    if state is not None:
        _remember(session, state, counterparty_ids)


def _history_values(obj, attribute: str) -> set:
    history = inspect(obj).attrs[attribute].history
    values = set(history.added or ()) | set(history.deleted or ()) | set(history.unchanged or ())
    return {v for v in values if v is not None}


def _before_flush(session: Session, _context, _instances) -> None:
    touched: set[int] = set()
    item_ids: set[int] = set()
    changed = [*session.new, *session.dirty, *session.deleted]
    if not any(isinstance(obj, (Item, Receipt, Adjustment, Counterparty)) for obj in changed):
        return
    state = _state(session)
    if state is None:
        return
    for obj in changed:
        if isinstance(obj, Counterparty):
            # Its receipts count for its department: a move changes the rows.
            if obj.id is not None and inspect(obj).attrs.department_id.history.has_changes():
                touched.add(obj.id)
        elif isinstance(obj, (Item, Receipt)):
            ids = _history_values(obj, "counterparty_id")
            if not ids and obj.counterparty is not None and obj.counterparty.id is not None:
                ids = {obj.counterparty.id}
            if not ids:
                state.new_objects.append(obj)  # a new counterparty: contributed nothing before
            touched |= ids
        elif isinstance(obj, Adjustment):
            ids = _history_values(obj, "item_id")
            if not ids and obj.item is not None and obj.item.id is not None:
                ids = {obj.item.id}
            if not ids and obj.item is not None:
                state.new_objects.append(obj.item)
            item_ids |= ids
    if item_ids:
        with session.no_autoflush:
            touched |= set(
                session.scalars(
                    sa.select(items_t.c.counterparty_id).where(items_t.c.id.in_(item_ids))
                )
            )
    _remember(session, state, touched)


def _before_commit(session: Session) -> None:
    state = session.info.get(STATE)
    if state is None or not state.month_ends or not (state.old or state.new_objects):
        return
    session.flush()
    for obj in state.new_objects:
        cp = getattr(obj, "counterparty_id", None)
        if cp is not None and cp not in state.old:
            state.old[cp] = Counter()  # it did not exist before this transaction
    state.new_objects.clear()
    delta: Counter = Counter()
    for cp, new in contributions(list(state.old), state.month_ends).items():
        delta.update(new)
        delta.subtract(state.old[cp])
    state.old.clear()
    apply_delta(delta)


def _forget(session: Session, *_args) -> None:
    session.info.pop(STATE, None)


def _transaction_end(session: Session, transaction) -> None:
    # However the outermost transaction ended (commit, rollback, close), its notes go.
    if transaction.parent is None:
        session.info.pop(STATE, None)


_installed = False


def install() -> None:
    """Attach the listeners to every ORM session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_rollback", _forget)
    event.listen(Session, "after_transaction_end", _transaction_end)
    _installed = True
