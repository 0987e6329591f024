"""Reports of the routine (篇三): the weekly progress report per collector and the monthly
report per person and per department. Every figure is an SQL aggregate.

Definitions (also in docs/recovery-work.md):

- contacts: activities the person logged with their time in the period (Beijing days), by
  kind; cases worked: distinct cases those activities were logged on;
- promises made: promises the person recorded with a promise date in the period (count and
  amount); kept / broken: promises the person recorded that fell due in the period, judged
  from the receipts (recovery.activities.promises) as of the day after the period, or today
  if that is earlier (a promise falling due today is not broken yet);
- recovered: receipts dated in the period credited to the person — each receipt to whoever
  was its counterparty's first-responsible person on the receipt's date (Beijing day; read
  from the responsibility history, so a later reassignment does not change a past report),
  and to the collector of the counterparty's case assigned to them and open during the period
  (the case's collector now: cases keep no assignment history). A department (the person's
  department now: departments keep no history) counts each receipt once, even when two of
  its people are credited with it; the total row counts each once across the report;
- cases (monthly): cases assigned to the person that were open at some time in the month;
  closed: those of them closed in the month;
- target (monthly): the recovery target of the month (清欠指标, recovery.targets.services
  .target_for) — a person's own, a department's own (else its sub-departments'); the total
  row adds the targets of the departments listed that have no listed department above them.
- breaches (weekly): service-level breaches of the person's cases whose deadline fell in the
  week (recovery/worklist/service_levels).

Who is listed: people holding the sales or supervisor role, and anyone else who logged an
activity or recorded a promise in the period, within the scope the viewer may see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.activities.models import ACTIVITY_KINDS, Activity, Promise
from recovery.auth.models import Department, User, UserRole
from recovery.cases.models import RecoveryCase
from recovery.core.money import ZERO, from_fen
from recovery.core.sqltime import day_end_utc
from recovery.extensions import db
from recovery.ledger.models import Receipt
from recovery.ledger.queries import fen
from recovery.responsibility.queries import responsible_at
from recovery.worklist.service_levels import COMPANY_ZONE, find_breaches, to_utc

COLLECTOR_ROLES = ("sales", "supervisor")
# China keeps no daylight-saving time: one offset turns a Beijing day into UTC moments in SQL.
COMPANY_UTC_OFFSET = int(COMPANY_ZONE.utcoffset(datetime(2000, 1, 1)).total_seconds())

users_t = User.__table__
dept_t = Department.__table__
activity_t = Activity.__table__
promise_t = Promise.__table__
case_t = RecoveryCase.__table__
receipt_t = Receipt.__table__


class PeriodError(ValueError):
    """A week or month that cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class Period:
    kind: str  # week | month
    first: date
    last: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return self.first.strftime("%Y-%m")

    @property
    def start_utc(self) -> datetime:
        return to_utc(datetime.combine(self.first, time()), COMPANY_ZONE)

    @property
    def end_utc(self) -> datetime:
        """The first moment after the period (exclusive bound), naive UTC."""
        return to_utc(datetime.combine(self.last + timedelta(days=1), time()), COMPANY_ZONE)

    def previous(self) -> Period:
        if self.kind == "week":
            return week_of(self.first - timedelta(days=7))
        return month_of(self.first - timedelta(days=1))

    def next(self) -> Period:
        if self.kind == "week":
            return week_of(self.first + timedelta(days=7))
        return month_of(self.last + timedelta(days=1))


def week_of(day: date) -> Period:
    first = day - timedelta(days=day.weekday())
    return Period("week", first, first + timedelta(days=6))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", first, following - timedelta(days=1))


_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_week(text: str | None, today: date) -> Period:
    """``2026-W10`` (ISO week) or a date inside the week; empty: this week."""
    text = (text or "").strip()
    if not text:
        return week_of(today)
    match = _WEEK.match(text)
    try:
        if match:
            return week_of(date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1))
        return week_of(date.fromisoformat(text))
    except ValueError as exc:
        raise PeriodError(text) from exc


def parse_month(text: str | None, today: date) -> Period:
    """``2026-03`` or a date inside the month; empty: this month."""
    text = (text or "").strip()
    if not text:
        return month_of(today)
    match = _MONTH.match(text)
    try:
        if match:
            return month_of(date(int(match.group(1)), int(match.group(2)), 1))
        return month_of(date.fromisoformat(text))
    except ValueError as exc:
        raise PeriodError(text) from exc


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass
class ReportRow:
    key: int | None  # user id or department id (None: no department / the total row)
    name: str
    department: str | None = None
    contacts: dict[str, int] = field(default_factory=dict)
    cases_worked: int = 0
    promises_made: int = 0
    promised_amount: Decimal = ZERO
    promises_kept: int = 0
    promises_broken: int = 0
    recovered: Decimal = ZERO
    cases: int = 0
    cases_closed: int = 0
    target: Decimal = ZERO
    breaches: int = 0

    @property
    def contacts_total(self) -> int:
        return sum(self.contacts.values())

    @property
    def percent_of_target(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.recovered * 100 / self.target).quantize(Decimal("0.1"))

    def is_empty(self) -> bool:
        return not (
            self.contacts_total
            or self.cases_worked
            or self.promises_made
            or self.promises_kept
            or self.promises_broken
            or self.recovered
            or self.cases
            or self.target
            or self.breaches
        )


@dataclass
class Report:
    period: Period
    as_of: date
    people: list[ReportRow]
    departments: list[ReportRow]
    total: ReportRow


def _grouped(group: str):
    """The column a metric is grouped by: the person, or the person's department."""
    return users_t.c.id if group == "person" else users_t.c.department_id


def _contacts(period: Period, people: list[int], group: str) -> dict:
    key = _grouped(group)
    query = (
        sa.select(key.label("key"), activity_t.c.kind, sa.func.count().label("n"))
        .select_from(activity_t)
        .join(users_t, users_t.c.id == activity_t.c.user_id)
        .where(
            activity_t.c.user_id.in_(people),
            activity_t.c.occurred_at >= period.start_utc,
            activity_t.c.occurred_at < period.end_utc,
        )
        .group_by(key, activity_t.c.kind)
    )
    result: dict = {}
    for row in db.session.execute(query):
        result.setdefault(row.key, {})[row.kind] = int(row.n)
    return result


def _cases_worked(period: Period, people: list[int], group: str) -> dict:
    key = _grouped(group)
    # Distinct (person, case) pairs first, so a department counts a case each of its people
    # worked on — the cases a department worked is the distinct count of cases.
    query = (
        sa.select(key.label("key"), sa.func.count(sa.distinct(activity_t.c.case_id)))
        .select_from(activity_t)
        .join(users_t, users_t.c.id == activity_t.c.user_id)
        .where(
            activity_t.c.user_id.in_(people),
            activity_t.c.case_id.is_not(None),
            activity_t.c.occurred_at >= period.start_utc,
            activity_t.c.occurred_at < period.end_utc,
        )
        .group_by(key)
    )
    return {row[0]: int(row[1]) for row in db.session.execute(query)}


def _promises_made(period: Period, people: list[int], group: str) -> dict:
    key = _grouped(group)
    query = (
        sa.select(
            key.label("key"),
            sa.func.count().label("n"),
            sa.func.sum(fen(promise_t.c.amount)).label("fen"),
        )
        .select_from(promise_t)
        .join(users_t, users_t.c.id == promise_t.c.recorded_by_id)
        .where(
            promise_t.c.recorded_by_id.in_(people),
            promise_t.c.cancelled.is_(False),
            promise_t.c.promised_on >= period.first,
            promise_t.c.promised_on <= period.last,
        )
        .group_by(key)
    )
    return {row.key: (int(row.n), from_fen(int(row.fen or 0))) for row in db.session.execute(query)}


def _promise_outcomes(period: Period, as_of: date, people: list[int], group: str) -> dict:
    from recovery.activities.promises import promise_status_rows

    status = promise_status_rows(as_of).subquery("status")
    key = _grouped(group)
    query = (
        sa.select(
            key.label("key"),
            sa.func.sum(sa.case((status.c.status == "kept", 1), else_=0)).label("kept"),
            sa.func.sum(sa.case((status.c.status == "broken", 1), else_=0)).label("broken"),
        )
        .select_from(status)
        .join(promise_t, promise_t.c.id == status.c.promise_id)
        .join(users_t, users_t.c.id == promise_t.c.recorded_by_id)
        .where(
            promise_t.c.recorded_by_id.in_(people),
            status.c.due_on >= period.first,
            status.c.due_on <= period.last,
        )
        .group_by(key)
    )
    return {
        row.key: (int(row.kept or 0), int(row.broken or 0)) for row in db.session.execute(query)
    }


def _in_period(period: Period):
    return sa.and_(receipt_t.c.received_on >= period.first, receipt_t.c.received_on <= period.last)


def _credits(period: Period, people: list[int]):
    """(user_id, receipt_id) pairs: the receipts of the period each person is credited with.

    A receipt goes to whoever was the counterparty's first-responsible person on its date
    (from the responsibility history, so a later reassignment does not rewrite a past
    report), and to the collector of the counterparty's case assigned to them and open
    during the period (cases keep no assignment history: their collector now)."""
    day_end = day_end_utc(receipt_t.c.received_on, COMPANY_UTC_OFFSET)
    holders = (
        sa.select(
            receipt_t.c.id.label("receipt_id"),
            responsible_at(receipt_t.c.counterparty_id, day_end).label("user_id"),
        )
        .where(_in_period(period))
        .subquery("holders")
    )
    by_responsibility = sa.select(holders.c.user_id, holders.c.receipt_id).where(
        holders.c.user_id.in_(people)
    )
    by_case = (
        sa.select(case_t.c.assignee_id, receipt_t.c.id)
        .select_from(receipt_t)
        .join(case_t, case_t.c.counterparty_id == receipt_t.c.counterparty_id)
        .where(
            _in_period(period),
            case_t.c.assignee_id.in_(people),
            case_t.c.opened_on <= period.last,
            sa.or_(case_t.c.closed_at.is_(None), case_t.c.closed_at >= period.start_utc),
        )
    )
    return sa.union(by_responsibility, by_case).subquery("credits")


def _recovered(period: Period, people: list[int], group: str) -> dict:
    """Receipts of the period credited to each person (or department); a receipt counted
    once per group."""
    credits = _credits(period, people)
    key = _grouped(group)
    pairs = (
        sa.select(key.label("key"), credits.c.receipt_id)
        .select_from(credits)
        .join(users_t, users_t.c.id == credits.c.user_id)
        .distinct()
        .subquery("pairs")
    )
    query = (
        sa.select(pairs.c.key, sa.func.sum(fen(receipt_t.c.amount)))
        .select_from(pairs)
        .join(receipt_t, receipt_t.c.id == pairs.c.receipt_id)
        .group_by(pairs.c.key)
    )
    return {row[0]: from_fen(int(row[1] or 0)) for row in db.session.execute(query)}


def _recovered_total(period: Period, people: list[int]) -> Decimal:
    credits = _credits(period, people)
    total = db.session.scalar(
        sa.select(sa.func.sum(fen(receipt_t.c.amount))).where(
            receipt_t.c.id.in_(sa.select(credits.c.receipt_id))
        )
    )
    return from_fen(int(total or 0))


def _cases(period: Period, people: list[int], group: str) -> dict:
    key = _grouped(group)
    closed_in_period = sa.and_(
        case_t.c.closed_at.is_not(None),
        case_t.c.closed_at >= period.start_utc,
        case_t.c.closed_at < period.end_utc,
    )
    query = (
        sa.select(
            key.label("key"),
            sa.func.count().label("n"),
            sa.func.sum(sa.case((closed_in_period, 1), else_=0)).label("closed"),
        )
        .select_from(case_t)
        .join(users_t, users_t.c.id == case_t.c.assignee_id)
        .where(
            case_t.c.assignee_id.in_(people),
            case_t.c.opened_on <= period.last,
            sa.or_(case_t.c.closed_at.is_(None), case_t.c.closed_at >= period.start_utc),
        )
        .group_by(key)
    )
    return {row.key: (int(row.n), int(row.closed or 0)) for row in db.session.execute(query)}


def _targets(period: Period, people: list[int], group: str) -> dict:
    """The month's recovery targets (recovery.targets): per person, or per department."""
    from recovery.targets.services import recovery_targets

    if group == "person":
        found = recovery_targets(period.first, period.last, user_ids=people)
    else:
        found = recovery_targets(period.first, period.last, department_ids=_departments_of(people))
    return {key: target["recovery"] for (_kind, key), target in found.items()}


def _departments_of(people: list[int]) -> list[int]:
    return sorted(
        set(
            db.session.scalars(
                sa.select(users_t.c.department_id).where(
                    users_t.c.id.in_(people), users_t.c.department_id.is_not(None)
                )
            )
        )
    )


def _total_target(period: Period, people: list[int]) -> Decimal:
    """The departments' targets, each once: a department below another listed one is
    inside that one's target already."""
    from recovery.targets.queries import ancestors_and_self, department_parents
    from recovery.targets.services import recovery_targets

    listed = _departments_of(people)
    parents = department_parents()
    top = [d for d in listed if not set(ancestors_and_self(d, parents)[1:]) & set(listed)]
    found = recovery_targets(period.first, period.last, department_ids=top)
    return sum((target["recovery"] for target in found.values()), ZERO)


def _breaches(period: Period, people: list[int], as_of_moment: datetime, group: str) -> dict:
    cases = sa.select(case_t.c.id).where(case_t.c.assignee_id.in_(people))
    found = find_breaches(as_of_moment, case_ids=cases, since=period.start_utc)
    in_period = [b for b in found if period.start_utc <= b.deadline < period.end_utc]
    if group == "person":
        keys = {b.assignee_id for b in in_period}
        mapping = {k: k for k in keys}
    else:
        mapping = dict(
            db.session.execute(
                sa.select(users_t.c.id, users_t.c.department_id).where(
                    users_t.c.id.in_({b.assignee_id for b in in_period})
                )
            ).all()
        )
    counts: dict = {}
    for breach in in_period:
        key = mapping.get(breach.assignee_id)
        counts[key] = counts.get(key, 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------
# The people in scope


def people_in_scope(period: Period, scope_ids: list[int] | None) -> list[int]:
    """Collectors (sales, supervisor) and anyone with an activity or promise in the period;
    ``scope_ids``: only these users (None: everyone)."""
    roles = sa.select(UserRole.user_id).where(UserRole.role.in_(COLLECTOR_ROLES))
    active_in_period = sa.union(
        sa.select(activity_t.c.user_id).where(
            activity_t.c.occurred_at >= period.start_utc,
            activity_t.c.occurred_at < period.end_utc,
        ),
        sa.select(promise_t.c.recorded_by_id).where(
            promise_t.c.cancelled.is_(False),
            promise_t.c.promised_on >= period.first,
            promise_t.c.promised_on <= period.last,
        ),
    )
    query = sa.select(users_t.c.id).where(
        sa.or_(
            sa.and_(users_t.c.id.in_(roles), users_t.c.active.is_(True)),
            users_t.c.id.in_(active_in_period),
        )
    )
    if scope_ids is not None:
        query = query.where(users_t.c.id.in_(scope_ids))
    return list(db.session.scalars(query))


def _as_of(period: Period, today: date) -> date:
    return min(period.last + timedelta(days=1), today)


def build_report(
    period: Period, today: date, *, scope_ids: list[int] | None = None, now=None
) -> Report:
    """The report of a week or a month: a row per person, per department and a total."""
    people = people_in_scope(period, scope_ids)
    as_of = _as_of(period, today)
    names = {
        row.id: row
        for row in db.session.execute(
            sa.select(
                users_t.c.id,
                users_t.c.display_name,
                users_t.c.department_id,
                dept_t.c.name.label("department"),
            )
            .outerjoin(dept_t, dept_t.c.id == users_t.c.department_id)
            .where(users_t.c.id.in_(people))
        )
    }
    moment = min(period.end_utc, now) if now is not None else period.end_utc
    rows_by_group = {}
    for group in ("person", "department"):
        contacts = _contacts(period, people, group)
        worked = _cases_worked(period, people, group)
        made = _promises_made(period, people, group)
        outcomes = _promise_outcomes(period, as_of, people, group)
        recovered = _recovered(period, people, group)
        cases = _cases(period, people, group)
        targets = _targets(period, people, group)
        breaches = _breaches(period, people, moment, group) if period.kind == "week" else {}
        if group == "person":
            keys = list(names)
        else:
            keys = sorted({row.department_id for row in names.values()}, key=lambda k: k or 0)
        department_names = {row.department_id: row.department for row in names.values()}
        rows = []
        for key in keys:
            count_made, amount_made = made.get(key, (0, ZERO))
            kept, broken = outcomes.get(key, (0, 0))
            open_cases, closed = cases.get(key, (0, 0))
            if group == "person":
                name, department = names[key].display_name, names[key].department
            else:
                name, department = department_names.get(key) or "—", None
            rows.append(
                ReportRow(
                    key=key,
                    name=name,
                    department=department,
                    contacts=contacts.get(key, {}),
                    cases_worked=worked.get(key, 0),
                    promises_made=count_made,
                    promised_amount=amount_made,
                    promises_kept=kept,
                    promises_broken=broken,
                    recovered=recovered.get(key, ZERO),
                    cases=open_cases,
                    cases_closed=closed,
                    target=targets.get(key, ZERO),
                    breaches=breaches.get(key, 0),
                )
            )
        rows.sort(key=lambda r: (r.department or "", r.name))
        rows_by_group[group] = rows
    people_rows = rows_by_group["person"]
    total = ReportRow(key=None, name="")
    for row in rows_by_group["department"]:
        for kind, count in row.contacts.items():
            total.contacts[kind] = total.contacts.get(kind, 0) + count
        for name in (
            "promises_made",
            "promised_amount",
            "promises_kept",
            "promises_broken",
            "cases",
            "cases_closed",
            "breaches",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    total.target = _total_target(period, people)
    total.cases_worked = _distinct_cases_worked(period, people)
    total.recovered = _recovered_total(period, people)
    return Report(period, as_of, people_rows, rows_by_group["department"], total)


def _distinct_cases_worked(period: Period, people: list[int]) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(activity_t.c.case_id))).where(
                activity_t.c.user_id.in_(people),
                activity_t.c.case_id.is_not(None),
                activity_t.c.occurred_at >= period.start_utc,
                activity_t.c.occurred_at < period.end_utc,
            )
        )
        or 0
    )


# ---------------------------------------------------------------------------------------------
# As a table (XLSX) — the same columns as the screen and the PDF


def weekly_table(report: Report, labels: dict) -> tuple[list[str], list[list]]:
    columns = [
        labels["collector"],
        labels["department"],
        labels["cases_worked"],
        *(labels["kinds"][kind] for kind in ACTIVITY_KINDS),
        labels["contacts"],
        labels["promises_made"],
        labels["promised_amount"],
        labels["kept"],
        labels["broken"],
        labels["recovered"],
        labels["breaches"],
    ]

    def cells(row: ReportRow, name: str, department: str | None):
        return [
            name,
            department or "",
            row.cases_worked,
            *(row.contacts.get(kind, 0) for kind in ACTIVITY_KINDS),
            row.contacts_total,
            row.promises_made,
            row.promised_amount,
            row.promises_kept,
            row.promises_broken,
            row.recovered,
            row.breaches,
        ]

    rows = [cells(r, r.name, r.department) for r in report.people]
    rows.append(cells(report.total, str(labels["total"]), ""))
    return [str(c) for c in columns], rows


def monthly_table(report: Report, labels: dict, by: str) -> tuple[list[str], list[list]]:
    first = [labels["person"], labels["department"]] if by == "person" else [labels["department"]]
    columns = [
        *first,
        labels["cases"],
        labels["cases_closed"],
        labels["contacts"],
        labels["promises_made"],
        labels["kept"],
        labels["broken"],
        labels["recovered"],
        labels["target"],
        labels["percent"],
    ]

    def cells(row: ReportRow, lead: list):
        percent = row.percent_of_target
        return [
            *lead,
            row.cases,
            row.cases_closed,
            row.contacts_total,
            row.promises_made,
            row.promises_kept,
            row.promises_broken,
            row.recovered,
            row.target,
            percent if percent is not None else "",
        ]

    source = report.people if by == "person" else report.departments
    rows = [cells(r, [r.name, r.department or ""] if by == "person" else [r.name]) for r in source]
    rows.append(
        cells(
            report.total, [str(labels["total"]), ""] if by == "person" else [str(labels["total"])]
        )
    )
    return [str(c) for c in columns], rows
