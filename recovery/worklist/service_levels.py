"""The service levels of the collection routine (DOMAIN §6) and their breaches.

Three clocks, each a setting:

(a) assignment — a case must be assigned by the end of the ``service.assign_working_days``-th
    working day after the day it was opened (opened Friday, one working day: by Monday 24:00;
    opened on a Saturday: also by Monday 24:00; 0: by the end of the day it was opened);
(b) first action — the first collection action must follow the assignment within
    ``service.first_action_hours`` *working hours*: hours inside the contact window
    (``conduct.contact_from`` – ``conduct.contact_until``, 08:00–22:00 by default) on working
    days. Assigned at 21:00 on a Friday with two hours: one hour runs on Friday, the second on
    Monday from 08:00, so the deadline is Monday 09:00. The clock stops when nobody may call
    the debtor (DOMAIN §7), which is what a supervisor expects: a case assigned late at night
    is not "late" at 01:00;
(c) field visit — once phone collection hands a case to a field visit
    (``visit_requested_at``), a visit (an activity of kind ``visit``) must happen by the end of
    the ``service.visit_working_days``-th working day after that day, unless an extension was
    asked for before that deadline: while it waits for a decision the clock is held; approved,
    the deadline moves to the end of its ``until_on`` day (if later); rejected, the original
    deadline stands. An extension asked for after the deadline does not undo the breach.

Working days follow the official calendar (recovery/core/workdays.py); days are the company's
days (Beijing time) while the database keeps naive UTC timestamps: everything here takes and
returns naive UTC and converts at the edges.

A breach as of a moment ``now``: the deadline has passed and the thing is still not done (an
*open* breach), or it was done after the deadline (*late*). A case closed without it being done
stops the clock at closing: a breach if it closed after the deadline.

The functions in the first part are pure (tested on their own); ``find_breaches`` reads the
candidates in SQL — narrowed to the cases that can possibly be in breach — and applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from recovery.core.workdays import add_working_days, is_working_day
from recovery.extensions import db

RULES = ("assignment", "first_action", "visit")
COMPANY_ZONE = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------------------------------------
# Time zones at the edges: naive UTC (stored) ↔ naive company-local (calendar arithmetic).
# China keeps no daylight-saving time, so naive local arithmetic is exact.


def to_local(moment: datetime, zone: ZoneInfo = COMPANY_ZONE) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def to_utc(local: datetime, zone: ZoneInfo = COMPANY_ZONE) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def end_of_local_day(day: date, zone: ZoneInfo = COMPANY_ZONE) -> datetime:
    """The first moment after ``day`` (its 24:00) in the company's zone, as naive UTC."""
    return to_utc(datetime.combine(day + timedelta(days=1), time()), zone)


# ---------------------------------------------------------------------------------------------
# Deadlines


@dataclass(frozen=True)
class Levels:
    """The settings the clocks run on."""

    assign_working_days: int = 1
    first_action_hours: int = 2
    visit_working_days: int = 2
    window_from: time = time(8, 0)
    window_until: time = time(22, 0)
    zone: ZoneInfo = COMPANY_ZONE

    @classmethod
    def from_settings(cls, zone: ZoneInfo = COMPANY_ZONE) -> Levels:
        from recovery.settings.services import get_setting

        return cls(
            assign_working_days=get_setting("service.assign_working_days"),
            first_action_hours=get_setting("service.first_action_hours"),
            visit_working_days=get_setting("service.visit_working_days"),
            window_from=get_setting("conduct.contact_from"),
            window_until=get_setting("conduct.contact_until"),
            zone=zone,
        )

    @property
    def window_minutes(self) -> int:
        """Minutes of contact window per working day (a whole day when mistyped, as _window)."""
        start = self.window_from.hour * 60 + self.window_from.minute
        end = self.window_until.hour * 60 + self.window_until.minute
        return end - start if end > start else 24 * 60


def working_days_deadline(start: datetime, working_days: int, zone=COMPANY_ZONE) -> datetime:
    """End of the n-th working day after the (local) day of ``start``; naive UTC."""
    return end_of_local_day(add_working_days(to_local(start, zone).date(), working_days), zone)


def _window(day: date, levels: Levels) -> tuple[datetime, datetime]:
    """The contact window of a day, local. A window that does not end after it starts
    (a mistyped setting) counts the whole day rather than none of it."""
    opens = datetime.combine(day, levels.window_from)
    closes = datetime.combine(day, levels.window_until)
    if closes <= opens:
        return datetime.combine(day, time()), datetime.combine(day + timedelta(days=1), time())
    return opens, closes


def add_working_hours(start: datetime, hours: int, levels: Levels) -> datetime:
    """``start`` (naive UTC) plus ``hours`` counted only inside the contact window on working
    days; naive UTC. A start outside the window begins counting when the next window opens."""
    remaining = timedelta(hours=hours)
    moment = to_local(start, levels.zone)
    while True:
        day = moment.date()
        if is_working_day(day):
            opens, closes = _window(day, levels)
            moment = max(moment, opens)
            if moment < closes:
                available = closes - moment
                if remaining <= available:
                    return to_utc(moment + remaining, levels.zone)
                remaining -= available
        moment = datetime.combine(day + timedelta(days=1), time())


def assignment_deadline(opened_at: datetime, levels: Levels) -> datetime:
    return working_days_deadline(opened_at, levels.assign_working_days, levels.zone)


def first_action_deadline(assigned_at: datetime, levels: Levels) -> datetime:
    return add_working_hours(assigned_at, levels.first_action_hours, levels)


@dataclass(frozen=True)
class Extension:
    """An extension request as the visit clock sees it."""

    requested_at: datetime
    status: str  # pending | approved | rejected
    until_on: date
    decided_at: datetime | None = None

    def status_at(self, now: datetime) -> str | None:
        """Its status as of ``now`` (None: not yet asked for)."""
        if self.requested_at > now:
            return None
        if self.status == "pending" or self.decided_at is None or self.decided_at > now:
            return "pending"
        return self.status


def visit_deadline(
    requested_at: datetime,
    levels: Levels,
    extensions: Sequence[Extension] = (),
    now: datetime | None = None,
) -> datetime | None:
    """The visit deadline as of ``now``; None while an extension in time awaits a decision."""
    deadline = working_days_deadline(requested_at, levels.visit_working_days, levels.zone)
    for extension in sorted(extensions, key=lambda e: e.requested_at):
        status = extension.status_at(now) if now is not None else extension.status
        if status is None or extension.requested_at > deadline:
            continue  # not asked yet, or asked too late: the breach already happened
        if status == "pending":
            return None
        if status == "approved":
            deadline = max(deadline, end_of_local_day(extension.until_on, levels.zone))
    return deadline


# ---------------------------------------------------------------------------------------------
# Breaches


@dataclass(frozen=True)
class Breach:
    rule: str  # assignment | first_action | visit
    started_at: datetime  # when the clock started (naive UTC)
    deadline: datetime
    met_at: datetime | None  # done late at this moment; None: still not done
    closed_at: datetime | None = None  # the case closed without it being done
    case_id: int | None = None
    case_number: str | None = None
    counterparty_id: int | None = None
    assignee_id: int | None = None

    @property
    def open(self) -> bool:
        return self.met_at is None and self.closed_at is None

    def late_by(self, now: datetime) -> timedelta:
        end = self.met_at or self.closed_at or now
        return end - self.deadline


def _breach(rule, started_at, deadline, met_at, now, closed_at) -> Breach | None:
    """The common rule: past the deadline and not done by then, as of ``now``."""
    if deadline is None:
        return None
    if met_at is not None and met_at <= now:
        if met_at > deadline:
            return Breach(rule, started_at, deadline, met_at)
        return None
    if closed_at is not None and closed_at <= now:
        if closed_at > deadline:
            return Breach(rule, started_at, deadline, None, closed_at)
        return None
    if now > deadline:
        return Breach(rule, started_at, deadline, None)
    return None


def assignment_breach(
    opened_at: datetime,
    assigned_at: datetime | None,
    now: datetime,
    levels: Levels,
    closed_at: datetime | None = None,
) -> Breach | None:
    if opened_at > now:
        return None
    return _breach(
        "assignment", opened_at, assignment_deadline(opened_at, levels), assigned_at, now, closed_at
    )


def first_action_breach(
    assigned_at: datetime | None,
    first_action_at: datetime | None,
    now: datetime,
    levels: Levels,
    closed_at: datetime | None = None,
) -> Breach | None:
    if assigned_at is None or assigned_at > now:
        return None
    deadline = first_action_deadline(assigned_at, levels)
    return _breach("first_action", assigned_at, deadline, first_action_at, now, closed_at)


def visit_breach(
    requested_at: datetime | None,
    visited_at: datetime | None,
    now: datetime,
    levels: Levels,
    extensions: Sequence[Extension] = (),
    closed_at: datetime | None = None,
) -> Breach | None:
    if requested_at is None or requested_at > now:
        return None
    deadline = visit_deadline(requested_at, levels, extensions, now)
    return _breach("visit", requested_at, deadline, visited_at, now, closed_at)


# ---------------------------------------------------------------------------------------------
# Finding breaches in the database


def longest_span(rule: str, levels: Levels) -> timedelta:
    """An upper bound of deadline − start: a case that started earlier than ``since`` minus
    this cannot have its deadline on or after ``since``. Working days: at least three in any
    seven calendar days, even across the Spring Festival week, plus a margin."""
    if rule == "first_action":
        days = -(-levels.first_action_hours * 60 // levels.window_minutes)  # rounded up
    elif rule == "assignment":
        days = levels.assign_working_days
    else:
        days = levels.visit_working_days
    return timedelta(days=3 * days + 20)


def shortest_span(rule: str, levels: Levels) -> timedelta:
    """A lower bound of deadline − start: nothing that started later can be late yet."""
    if rule == "first_action":
        return timedelta(hours=levels.first_action_hours)
    if rule == "assignment":
        return timedelta(0)
    return timedelta(days=levels.visit_working_days)


def find_breaches(
    now: datetime,
    *,
    levels: Levels | None = None,
    case_ids=None,
    cases=None,
    since: datetime | None = None,
    rules: Iterable[str] = RULES,
) -> list[Breach]:
    """Every breach as of ``now`` of the cases in ``case_ids`` (a SELECT of case ids; None:
    every case) and meeting ``cases`` (a condition on the recovery_cases columns, tested on
    each candidate row: cheaper than a list of ids read again for each rule): the open ones
    always; with ``since``, also those done late or closed unmet whose deadline is on or after
    ``since``.

    SQL narrows the cases to those that can be in breach (started long enough ago and not done,
    or, with ``since``, started in the window where a deadline can fall after it); the deadline
    itself needs the official calendar, so it is computed here for those few rows."""
    from recovery.activities.models import Activity
    from recovery.cases.models import ExtensionRequest, RecoveryCase

    levels = levels or Levels.from_settings()
    rules = tuple(rules)
    case = RecoveryCase.__table__
    found: list[Breach] = []

    def narrowed(query):
        if case_ids is not None:
            query = query.where(case.c.id.in_(case_ids))
        if cases is not None:
            query = query.where(cases)
        return query

    def candidates(start_column, done, rule):
        """Cases whose clock ``start_column`` ran long enough without ``done`` (open
        breaches), or, with ``since``, whose deadline can fall on or after ``since``."""
        latest_start = now - shortest_span(rule, levels)
        still_open = sa.and_(
            done.is_(None), case.c.status != "closed", start_column <= latest_start
        )
        condition = still_open
        if since is not None:
            window = sa.and_(
                start_column >= since - longest_span(rule, levels), start_column <= now
            )
            condition = sa.or_(still_open, window)
        query = sa.select(case, done.label("done_at"))
        return narrowed(query.where(start_column.is_not(None), condition))

    def keep(row, breach: Breach | None) -> None:
        if breach is None:
            return
        if not breach.open and (since is None or breach.deadline < since):
            return
        found.append(
            Breach(
                breach.rule,
                breach.started_at,
                breach.deadline,
                breach.met_at,
                breach.closed_at,
                row.id,
                row.number,
                row.counterparty_id,
                row.assignee_id,
            )
        )

    def closed_at(row):
        return row.closed_at if row.status == "closed" else None

    if "assignment" in rules:
        query = candidates(case.c.opened_at, case.c.assigned_at, "assignment")
        for row in db.session.execute(query):
            keep(
                row,
                assignment_breach(row.opened_at, row.assigned_at, now, levels, closed_at(row)),
            )
    if "first_action" in rules:
        query = candidates(case.c.assigned_at, case.c.first_action_at, "first_action")
        for row in db.session.execute(query):
            breach = first_action_breach(
                row.assigned_at, row.first_action_at, now, levels, closed_at(row)
            )
            keep(row, breach)
    if "visit" in rules:
        activity = Activity.__table__
        # The first visit of the case (or of its counterparty, logged without the case) made
        # on or after the hand-over to field collection.
        visited = (
            sa.select(sa.func.min(activity.c.occurred_at))
            .where(
                activity.c.kind == "visit",
                activity.c.occurred_at >= case.c.visit_requested_at,
                activity.c.occurred_at <= now,
                sa.or_(
                    activity.c.case_id == case.c.id,
                    sa.and_(
                        activity.c.case_id.is_(None),
                        activity.c.counterparty_id == case.c.counterparty_id,
                    ),
                ),
            )
            .correlate(case)
            .scalar_subquery()
        )
        rows = db.session.execute(candidates(case.c.visit_requested_at, visited, "visit")).all()
        extensions: dict[int, list[Extension]] = {}
        if rows:
            ext = ExtensionRequest.__table__
            for e in db.session.execute(
                sa.select(ext).where(ext.c.case_id.in_([r.id for r in rows]))
            ):
                extensions.setdefault(e.case_id, []).append(
                    Extension(e.requested_at, e.status, e.until_on, e.decided_at)
                )
        for row in rows:
            breach = visit_breach(
                row.visit_requested_at,
                row.done_at,
                now,
                levels,
                extensions.get(row.id, ()),
                closed_at(row),
            )
            keep(row, breach)
    found.sort(key=lambda b: (b.deadline, b.case_id or 0, RULES.index(b.rule)))
    return found
