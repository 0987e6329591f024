"""Closing, archiving and, five years after the agreement ended, purging a counterparty.

Nothing is hard-deleted in normal use. A counterparty whose business is over is CLOSED and
ARCHIVED (``archive``): refused while anything is outstanding on it (an open item, money
received but not applied), or a recovery case or lawsuit on it is not closed. Archived
counterparties leave the default lists and stay findable.

``purge(as_of)`` removes an archived counterparty with every row that depends on it (items,
receipts, applications, contracts, contacts, cases, letters, ... — found from the schema's
foreign keys) once the retention period (setting ``retention.years``, five years, 篇三) has
run since its agreement ENDED, which is the latest of:

- the day it was archived, and the day it was closed;
- its last movement: an item recognised or due, an item's last movement, a receipt, a credit
  note or write-off;
- its contracts' signing dates (contracts carry no end date here);
- the day its last recovery case or lawsuit was closed.

Everything else is refused with the reason. Each removed row is recorded in the audit trail
as a deletion that names the purge (not its contents: the trail does not copy back what the
purge removes), and the purge itself is a RetentionPurge row (audited). The audit rows of the
purged records are KEPT: they are chained by hash, and removing one would break
``flask audit verify`` — see docs/retention.md.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from recovery.audit.context import current_actor
from recovery.audit.services import record_rows
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.parties.models import Counterparty, RetentionPurge

RETENTION_SETTING = "retention.years"
# Never removed by a purge even if a foreign key leads there: the audit trail and the purge
# records themselves, users and departments.
KEPT_TABLES = {"audit_log", "retention_purges", "users", "departments", "user_roles"}


class RetentionError(ValueError):
    """A refused close/archive; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def retention_years() -> int:
    from recovery.settings.services import get_setting

    return int(get_setting(RETENTION_SETTING))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------------------------------------
# What is still open


def _table(name: str) -> sa.Table:
    return db.metadata.tables[name]


def open_reasons(counterparty_id: int) -> list:
    """Why the counterparty cannot be closed now ([] when it can)."""
    reasons = []
    items, receipts, apps = _table("items"), _table("receipts"), _table("applications")
    open_items = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(items)
        .where(items.c.counterparty_id == counterparty_id, items.c.open_amount != 0)
    )
    if open_items:
        reasons.append(_l("%(n)s item(s) are still outstanding.", n=open_items))
    received = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(receipts.c.amount), 0)).where(
            receipts.c.counterparty_id == counterparty_id
        )
    )
    applied = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(apps.c.amount), 0)).where(
            apps.c.counterparty_id == counterparty_id
        )
    )
    if received != applied:
        reasons.append(_l("Money received is not applied (unapplied credit): settle it first."))
    cases = _table("recovery_cases")
    if db.session.scalar(
        sa.select(sa.func.count())
        .select_from(cases)
        .where(cases.c.counterparty_id == counterparty_id, cases.c.status != "closed")
    ):
        reasons.append(_l("A recovery case on it is not closed."))
    lawsuits = _table("lawsuits")
    if db.session.scalar(
        sa.select(sa.func.count())
        .select_from(lawsuits)
        .where(lawsuits.c.counterparty_id == counterparty_id, lawsuits.c.stage != "closed")
    ):
        reasons.append(_l("A lawsuit on it is not closed."))
    return reasons


def archive(counterparty: Counterparty, *, reason: str, actor, closed_on: date) -> Counterparty:
    """Close and archive a counterparty (audited); refused while anything is open on it."""
    from recovery.ledger.services import lock_counterparty

    lock_counterparty(counterparty.id)  # no receipt allocates for it meanwhile
    if counterparty.archived_at is not None:
        raise RetentionError(_l("This counterparty is already archived."))
    reason = (reason or "").strip()
    if not reason:
        raise RetentionError(_l("Give the reason."), field="reason")
    reasons = open_reasons(counterparty.id)
    if reasons:
        raise RetentionError(" ".join(str(r) for r in reasons))
    counterparty.closed_on = closed_on
    counterparty.archived_at = utcnow()
    counterparty.archived_by_id = actor.id if actor is not None else None
    counterparty.archive_reason = reason[:500]
    counterparty.active = False
    db.session.flush()
    return counterparty


def restore(counterparty: Counterparty) -> Counterparty:
    """Take a counterparty out of the archive (business with it resumes)."""
    if counterparty.archived_at is None:
        raise RetentionError(_l("This counterparty is not archived."))
    counterparty.archived_at = None
    counterparty.archived_by_id = None
    counterparty.archive_reason = None
    counterparty.closed_on = None
    counterparty.active = True
    db.session.flush()
    return counterparty


# ---------------------------------------------------------------------------------------------
# When the agreement ended


def ended_on(counterparty_id: int) -> date | None:
    """The latest of the dates the module docstring lists (None if it has none)."""
    cp = _table("counterparties")
    items, receipts, adjustments = _table("items"), _table("receipts"), _table("adjustments")
    contracts, cases, lawsuits = _table("contracts"), _table("recovery_cases"), _table("lawsuits")
    days: list = []
    archived_at, closed_on = db.session.execute(
        sa.select(cp.c.archived_at, cp.c.closed_on).where(cp.c.id == counterparty_id)
    ).one()
    days += [archived_at.date() if archived_at else None, closed_on]
    days += db.session.execute(
        sa.select(
            sa.func.max(items.c.recognized_on),
            sa.func.max(items.c.due_on),
            sa.func.max(items.c.last_movement_on),
        ).where(items.c.counterparty_id == counterparty_id)
    ).one()
    days.append(
        db.session.scalar(
            sa.select(sa.func.max(receipts.c.received_on)).where(
                receipts.c.counterparty_id == counterparty_id
            )
        )
    )
    days.append(
        db.session.scalar(
            sa.select(sa.func.max(adjustments.c.dated_on))
            .join(items, items.c.id == adjustments.c.item_id)
            .where(items.c.counterparty_id == counterparty_id)
        )
    )
    days.append(
        db.session.scalar(
            sa.select(sa.func.max(contracts.c.signed_on)).where(
                contracts.c.counterparty_id == counterparty_id
            )
        )
    )
    case_closed = db.session.scalar(
        sa.select(sa.func.max(cases.c.closed_at)).where(cases.c.counterparty_id == counterparty_id)
    )
    days.append(case_closed.date() if case_closed else None)
    days.append(
        db.session.scalar(
            sa.select(sa.func.max(lawsuits.c.closed_on)).where(
                lawsuits.c.counterparty_id == counterparty_id
            )
        )
    )
    days = [d.date() if hasattr(d, "date") and callable(d.date) else d for d in days if d]
    return max(days) if days else None


# ---------------------------------------------------------------------------------------------
# The rows that go with a counterparty


def _dependants(ids: dict[str, set]) -> dict[str, set]:
    """Close ``ids`` ({table: {id, ...}}) under "refers to a collected row" by foreign key."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
    changed = True
    while changed:
        changed = False
        for table in tables:
            if "id" not in table.c:
                continue
            for fk in table.foreign_keys:
                target = fk.column.table.name
                wanted = ids.get(target)
                if not wanted or fk.parent.table is not table:
                    continue
                found = set(
                    db.session.scalars(sa.select(table.c.id).where(fk.parent.in_(sorted(wanted))))
                )
                fresh = found - ids.get(table.name, set())
                if fresh:
                    ids.setdefault(table.name, set()).update(fresh)
                    changed = True
    return ids


def _keyless(collected: dict[str, set]) -> list[tuple[sa.Table, sa.Column, list[int]]]:
    """Tables without an id column whose rows refer to collected rows (derived state such as
    a counterparty's credit status): removed by that reference."""
    found = []
    for table in db.metadata.sorted_tables:
        if "id" in table.c or table.name in KEPT_TABLES:
            continue
        for fk in table.foreign_keys:
            wanted = collected.get(fk.column.table.name)
            if wanted:
                found.append((table, fk.parent, sorted(wanted)))
    return found


def _foreign_rows(collected: dict[str, set], purged: set[int]) -> list[str]:
    """Tables where a collected row belongs to a counterparty that is not being purged (a
    project whose employer it is, holding another counterparty's items...)."""
    found = []
    for name, row_ids in collected.items():
        table = _table(name)
        for column in ("counterparty_id", "employer_id"):
            if column in table.c and name != "counterparties":
                other = db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(
                        table.c.id.in_(sorted(row_ids)),
                        table.c[column].is_not(None),
                        table.c[column].not_in(sorted(purged)),
                    )
                )
                if other:
                    found.append(name)
    return sorted(set(found))


# ---------------------------------------------------------------------------------------------
# The purge


@dataclass
class Decision:
    code: str
    name: str
    ended: date | None
    keep_until: date | None
    reason: str | None = None  # None: removed (or would be, on a dry run)
    rows: dict[str, int] = field(default_factory=dict)


@dataclass
class PurgeReport:
    as_of: date
    years: int
    dry_run: bool
    removed: list[Decision] = field(default_factory=list)
    refused: list[Decision] = field(default_factory=list)
    purge_id: int | None = None

    @property
    def rows(self) -> dict[str, int]:
        total: dict[str, int] = defaultdict(int)
        for decision in self.removed:
            for name, count in decision.rows.items():
                total[name] += count
        return dict(sorted(total.items()))


def purge(as_of: date, *, dry_run: bool = False) -> PurgeReport:
    """Remove what is past the retention period on ``as_of``; refuse the rest with the reason.
    The caller commits (or, on a dry run, nothing was written)."""
    years = retention_years()
    report = PurgeReport(as_of, years, dry_run)
    cp = _table("counterparties")
    candidates = db.session.execute(
        sa.select(cp.c.id, cp.c.code, cp.c.name, cp.c.archived_at).order_by(cp.c.code)
    ).all()
    eligible: list[tuple[int, Decision]] = []
    for cp_id, code, name, archived_at in candidates:
        ended = ended_on(cp_id)
        keep_until = add_years(ended, years) if ended else None
        decision = Decision(code, name, ended, keep_until)
        if archived_at is None:
            decision.reason = "not closed and archived (in use)"
            report.refused.append(decision)
            continue
        still_open = open_reasons(cp_id)
        if still_open:
            decision.reason = "still open: " + " ".join(str(r) for r in still_open)
            report.refused.append(decision)
            continue
        if keep_until is None or keep_until > as_of:
            decision.reason = (
                f"within the {years}-year retention period: the agreement ended on {ended},"
                f" kept until {keep_until}"
            )
            report.refused.append(decision)
            continue
        eligible.append((cp_id, decision))

    purged_ids = {cp_id for cp_id, _ in eligible}
    plans: list[tuple[int, Decision, dict[str, set]]] = []
    for cp_id, decision in eligible:
        collected = _dependants({"counterparties": {cp_id}})
        shared = _foreign_rows(collected, purged_ids)
        if shared:
            decision.reason = (
                "its records are shared with counterparties that are kept ("
                + ", ".join(shared)
                + "): purge those first or detach them"
            )
            report.refused.append(decision)
            continue
        decision.rows = {name: len(row_ids) for name, row_ids in sorted(collected.items())}
        report.removed.append(decision)
        plans.append((cp_id, decision, collected))

    if dry_run or not plans:
        return report

    record = RetentionPurge(
        as_of=as_of,
        run_by=current_actor().name,
        counterparties=len(plans),
        rows=sum(report.rows.values()),
        detail=json.dumps(
            {"counterparties": [d.code for _, d, _ in plans], "rows": report.rows},
            ensure_ascii=False,
        ),
    )
    db.session.add(record)
    db.session.flush()
    report.purge_id = record.id
    everything: dict[str, set] = defaultdict(set)
    for _, _, collected in plans:
        for name, row_ids in collected.items():
            everything[name].update(row_ids)
    # The month-end snapshots include these counterparties' past: recomputed without them.
    from recovery.dashboard import snapshots

    snapshots.will_change([cp_id for cp_id, _, _ in plans])
    connection = db.session.connection()
    for table, column, row_ids in _keyless(everything):  # e.g. credit_status, keyed by cp
        connection.execute(table.delete().where(column.in_(row_ids)))
    order = [t for t in reversed(db.metadata.sorted_tables) if t.name in everything]
    audit_entries = []
    for table in order:
        row_ids = sorted(everything[table.name])
        _null_self_references(connection, table, row_ids)
        for start in range(0, len(row_ids), 1000):
            chunk = row_ids[start : start + 1000]
            connection.execute(table.delete().where(table.c.id.in_(chunk)))
        audit_entries += [
            (table.name, row_id, "delete", {"retention_purge": [None, record.id]})
            for row_id in row_ids
        ]
    record_rows(connection, audit_entries)
    db.session.expire_all()
    return report


def _null_self_references(connection, table: sa.Table, row_ids: list[int]) -> None:
    """A table referring to itself (a job retrying a job...): unlink before deleting."""
    for fk in table.foreign_keys:
        if fk.column.table is table and fk.parent.nullable:
            connection.execute(
                table.update().where(fk.parent.in_(row_ids)).values({fk.parent.name: None})
            )
