"""The worklist's limitation sign, kept per counterparty (table ``limitation_signs``,
docs/limitation.md, "The worklist's sign, kept").

The sign of a counterparty — the earliest end of limitation among its open items within the
longest warning — depends on the day, the window, the official calendar, and the records
that can move a period: its items and their payments and credits, its activities and
promises, the events recorded on its items, its suits and installment contracts. So:

- **Writes clear it.** A session listener notes the counterparties whose such records a
  flush adds, changes or deletes; just before the commit their rows get ``version + 1`` and
  lose their sign, in the writing transaction. Writes that bypass the ORM (imports) call
  ``invalidate`` themselves.
- **Readers fill it.** ``earliest_warned`` reads, of the accounts' rows, those with a sign
  and those that do not hold; a row kept today under the same basis (window and calendar
  version) is the answer; for the others (and accounts without a row) the sign is
  computed by the full rule (recovery.limitation.queries.earliest_expiry_by_counterparty)
  and written back — only where the row's version is still the one read, so a write that
  committed meanwhile is never overwritten by a sign computed without it.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import SelectBase

from recovery.core import bulk
from recovery.core.history import attribute_values, install_session_listeners
from recovery.core.timeutil import utcnow
from recovery.extensions import db

PENDING = "limitation_signs_pending"
WRITTEN = "limitation_signs_written"
CHUNK = 1000


def _signs():
    # Imported when used: the models module installs this module's listeners at import.
    from recovery.limitation.models import LimitationSign

    return LimitationSign.__table__


def basis(within: int) -> str:
    """What a kept sign was found under besides the day: the window and the calendar."""
    return f"{within}d cal {chinese_calendar.__version__}"


# ---------------------------------------------------------------------------------------------
# Writes clear the signs


def invalidate(counterparty_ids, connection=None) -> None:
    """Clear the signs of these counterparties and bump their versions, in the current
    transaction (one lock order: by id)."""
    signs_t = _signs()
    ids = sorted({int(cp) for cp in counterparty_ids if cp is not None})
    if not ids:
        return
    connection = connection or db.session.connection()
    statement = bulk.upsert_statement(
        signs_t,
        "counterparty_id",
        (),
        set_={
            "version": signs_t.c.version + 1,
            "evaluated_on": None,
            "basis": None,
            "earliest_expiry": None,
            "evaluated_at": None,
        },
    )
    rows = [{"counterparty_id": cp, "version": 1} for cp in ids]
    for start in range(0, len(rows), CHUNK):
        connection.execute(statement, rows[start : start + CHUNK])


def _touched(session: Session) -> set[int]:
    """The counterparties whose limitation records this flush adds, changes or deletes."""
    from recovery.activities.models import Activity, Promise
    from recovery.ledger.models import Adjustment, Application, Item, Receipt
    from recovery.legal.models import Lawsuit, Referral, ReferralItem
    from recovery.limitation.models import LimitationEvent
    from recovery.parties.models import Contract

    by_counterparty = (Item, Receipt, Application, Activity, Promise, Referral, Lawsuit, Contract)
    by_item = (Adjustment, LimitationEvent, ReferralItem)
    touched: set[int] = set()
    item_ids: set[int] = set()
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, by_counterparty):
            touched |= attribute_values(session, obj, "counterparty_id")
        elif isinstance(obj, by_item):
            item_ids |= attribute_values(session, obj, "item_id")
    if item_ids:
        items_t = Item.__table__
        touched |= set(
            session.connection().scalars(
                sa.select(items_t.c.counterparty_id).where(items_t.c.id.in_(sorted(item_ids)))
            )
        )
    return touched


def _after_flush(session: Session, _context) -> None:
    touched = _touched(session)
    if not touched:
        return
    if session.info.get(WRITTEN):
        # A flush after this transaction's signs were cleared (another listener's, just
        # before the commit): clear these at once.
        invalidate(touched, session.connection())
        return
    session.info.setdefault(PENDING, set()).update(touched)


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()
    pending = session.info.pop(PENDING, set())
    if pending:
        invalidate(pending, session.connection())
    session.info[WRITTEN] = True


def _forget(session: Session, *_args) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(WRITTEN, None)


def install() -> None:
    """Attach the listeners to every ORM session (idempotent)."""
    install_session_listeners(
        "limitation signs", after_flush=_after_flush, before_commit=_before_commit, forget=_forget
    )


# ---------------------------------------------------------------------------------------------
# Readers fill them


def earliest_warned(as_of: date, within: int, accounts) -> dict[int, date]:
    """{counterparty_id: the earliest expiry} of the accounts with an open item whose
    limitation ends within ``within`` days of the date (or has ended): the kept signs where
    they were found on the date under this basis, the others computed and kept.
    ``accounts``: a SELECT of counterparty ids (one column), or a list of them."""
    return _read_or_compute(as_of, within, accounts)[0]


def keep_all(as_of: date, within: int, chunk: int = 2000) -> tuple[int, int]:
    """Keep every counterparty's sign for the day, a chunk at a time (the daily command
    ``flask limitation keep-signs``: the first worklists of the morning then read them
    instead of computing a salesperson's thousands of accounts). Returns (counterparties,
    signs computed); a second run the same day computes none."""
    from recovery.limitation.queries import cp_t

    ids = list(db.session.scalars(sa.select(cp_t.c.id).order_by(cp_t.c.id)))
    computed = 0
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        accounts = sa.select(cp_t.c.id).where(cp_t.c.id.between(part[0], part[-1]))
        computed += _read_or_compute(as_of, within, accounts)[1]
    return len(ids), computed


def _read_or_compute(as_of: date, within: int, accounts) -> tuple[dict[int, date], int]:
    """``earliest_warned``'s answer and how many signs it had to compute."""
    signs_t = _signs()
    from recovery.limitation.queries import cp_t, earliest_expiry_by_counterparty

    if not isinstance(accounts, SelectBase):
        accounts = sa.select(cp_t.c.id).where(bulk.one_of(cp_t.c.id, sorted(set(accounts))))
    wanted = basis(within)
    accounts = accounts.subquery("accounts")
    account_id = list(accounts.c)[0]
    current = sa.and_(signs_t.c.evaluated_on == as_of, signs_t.c.basis == wanted)
    found: dict[int, date] = {}
    stale: dict[int, int | None] = {}  # id -> version read (None: no row)
    # One row per account that says something — a sign found today, or a row to compute
    # again (none, cleared, or of another day or basis) — not the thousands without a sign.
    for row in db.session.execute(
        sa.select(
            account_id.label("counterparty_id"),
            signs_t.c.version,
            current.label("current"),
            signs_t.c.earliest_expiry,
        )
        .select_from(accounts.outerjoin(signs_t, signs_t.c.counterparty_id == account_id))
        .where(
            sa.or_(
                signs_t.c.earliest_expiry.is_not(None),
                sa.not_(sa.func.coalesce(current, sa.false())),
            )
        )
    ):
        if row.current:
            found[row.counterparty_id] = row.earliest_expiry
        else:
            stale[row.counterparty_id] = row.version
    if not stale:
        return found, 0
    computed = earliest_expiry_by_counterparty(
        as_of, within, sa.select(cp_t.c.id).where(bulk.one_of(cp_t.c.id, sorted(stale)))
    )
    found.update(computed)
    _keep(as_of, wanted, stale, computed)
    return found, len(stale)


def _keep(as_of: date, wanted: str, stale: dict[int, int | None], computed: dict) -> None:
    """Write the computed signs back where the version read still stands, and commit (a
    page's read: nothing else of the request is pending)."""
    signs_t = _signs()
    now = utcnow()
    values = {
        cp: {"evaluated_on": as_of, "basis": wanted, "earliest_expiry": computed.get(cp)}
        for cp in stale
    }
    known = [
        {"cp": cp, "v": version, **values[cp], "at": now}
        for cp, version in sorted(stale.items())
        if version is not None
    ]
    new = [
        {"counterparty_id": cp, "version": 0, **values[cp], "evaluated_at": now}
        for cp, version in sorted(stale.items())
        if version is None
    ]
    if known:
        statement = (
            signs_t.update()
            .where(
                signs_t.c.counterparty_id == sa.bindparam("cp"),
                signs_t.c.version == sa.bindparam("v"),
            )
            .values(
                evaluated_on=sa.bindparam("evaluated_on"),
                basis=sa.bindparam("basis"),
                earliest_expiry=sa.bindparam("earliest_expiry"),
                evaluated_at=sa.bindparam("at"),
            )
        )
        for start in range(0, len(known), CHUNK):
            db.session.execute(statement, known[start : start + CHUNK])
    if new:
        insert = bulk.dialect_insert(db.session.get_bind().dialect.name)
        insert = insert(signs_t).on_conflict_do_nothing(index_elements=[signs_t.c.counterparty_id])
        for start in range(0, len(new), CHUNK):
            db.session.execute(insert, new[start : start + CHUNK])
    db.session.commit()
