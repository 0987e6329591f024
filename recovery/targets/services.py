"""Targets (清欠指标), their completion, the rankings and the reward/penalty lists (考核奖罚).

Rules in docs/targets.md. In short:

- ``target_for(start, end, department_id=…, user_id=…)``: a target set for exactly that
  month, quarter or year; otherwise month by month — the month's own target, else a third of
  its quarter's, else a twelfth of its year's; a department with none of these for a month
  takes the sum of its sub-departments' for that month; a month only partly in the period
  counts in proportion of its days. Exact fractions, rounded once at the end (fen, half up).
  The company's target (no department, no person) is the sum of the top departments'.
- ``completion``: the figures of ``recovery.targets.queries`` against the target.
- ``rankings``: one row per person or department, ranked (order in ``_rank_key``).
- Reward lists: proposed (frozen) by a supervisor or executive, decided by another executive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from recovery.audit.models import AuditLog
from recovery.auth.models import Department, User, UserRole
from recovery.core.money import AmountError, from_fen, parse_amount
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.queries import fen
from recovery.targets import queries
from recovery.targets.models import RANK_BY, RewardEntry, RewardList, Target
from recovery.targets.periods import (
    Period,
    PeriodError,
    canonical,
    months_overlapping,
    period_of,
    require_canonical,
)
from recovery.targets.rules import RewardRule, reward

RATIO_PLACES = Decimal("0.0001")
COLLECTOR_ROLES = ("sales", "supervisor")


class TargetError(ValueError):
    """A refused target, proposal or decision; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleTarget(TargetError):
    """Somebody saved the record after this user loaded it (optimistic locking)."""


def company_today() -> date:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(zone).date()


# ---------------------------------------------------------------------------------------------
# Who may set which targets


def settable_department_ids(actor) -> list[int] | None:
    """None: every department (executives); else the departments of the supervisor's tree
    (empty for a supervisor without a department, or for anyone else)."""
    if actor.has_role("executive"):
        return None
    if not actor.has_role("supervisor") or actor.department_id is None:
        return []
    return queries.subtree(actor.department_id, queries.department_parents())


def may_set(actor, *, department_id: int | None = None, user_id: int | None = None) -> bool:
    allowed = settable_department_ids(actor)
    if allowed is None:
        return True
    if department_id is not None:
        return department_id in allowed
    person = db.session.get(User, user_id) if user_id is not None else None
    return person is not None and person.department_id in allowed


# ---------------------------------------------------------------------------------------------
# Setting a target


def _amount(value, field: str) -> Decimal:
    from recovery.parties.forms import amount_reason

    try:
        return parse_amount(value, allow_zero=True)
    except AmountError as error:
        raise TargetError(amount_reason(error), field) from error


def _stale(target: Target) -> StaleTarget:
    who = target.updated_by.display_name if target.updated_by is not None else _l("the system")
    return StaleTarget(
        _l(
            "Changed by %(who)s at %(when)s after you opened it: your changes were not saved. "
            "They are shown again below beside the current values; check them and save again.",
            who=who,
            when=format_datetime(target.updated_at, "short"),
        )
    )


def existing_target(period: Period, *, department_id=None, user_id=None) -> Target | None:
    query = sa.select(Target).where(
        Target.period_kind == period.kind, Target.period_start == period.start
    )
    if department_id is not None:
        query = query.where(Target.department_id == department_id)
    else:
        query = query.where(Target.user_id == user_id)
    return db.session.scalars(query).first()


def save_target(
    *,
    actor,
    today: date,
    recovery,
    overdue_reduction,
    period_start: date | None = None,
    period_end: date | None = None,
    department_id: int | None = None,
    user_id: int | None = None,
    reason: str | None = None,
    target: Target | None = None,
    version=None,
) -> Target:
    """Create a target (``target`` None) or change one (its amounts and reason; the scope
    and period of a target never change). Audited by the session listeners."""
    if target is not None:
        try:
            shown = int(version)
        except (TypeError, ValueError):
            shown = None
        if shown != target.version:
            raise _stale(target)
        department_id, user_id = target.department_id, target.user_id
        period = Period(target.period_kind, target.period_start, target.period_end)
    else:
        try:
            period = require_canonical(period_start, period_end)
        except PeriodError as error:
            raise TargetError(error.message, "period") from error
        if (department_id is None) == (user_id is None):
            raise TargetError(_l("Choose a department or a person (one of them)."), "department_id")
        if department_id is not None:
            department = db.session.get(Department, department_id)
            if department is None or not department.active:
                raise TargetError(_l("Choose an active department."), "department_id")
        else:
            person = db.session.get(User, user_id)
            if person is None or not person.active:
                raise TargetError(_l("Choose an active person."), "user_id")
    if not may_set(actor, department_id=department_id, user_id=user_id):
        raise TargetError(
            _l("You may set targets only for your own department and the departments below it."),
            "department_id" if department_id is not None else "user_id",
        )
    recovery = _amount(recovery, "recovery")
    overdue_reduction = _amount(overdue_reduction, "overdue_reduction")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 500:
        raise TargetError(_l("At most 500 characters."), "reason")
    if period.end < today and reason is None:
        raise TargetError(
            _l(
                "The period %(period)s is over: give the reason for setting its target now.",
                period=period.label,
            ),
            "reason",
        )
    if target is None:
        if existing_target(period, department_id=department_id, user_id=user_id) is not None:
            raise TargetError(
                _l("A target for %(period)s is set already: change that one.", period=period.label),
                "period",
            )
        target = Target(
            department_id=department_id,
            user_id=user_id,
            period_kind=period.kind,
            period_start=period.start,
            period_end=period.end,
            created_by_id=actor.id,
        )
        db.session.add(target)
    target.recovery_amount = recovery
    target.overdue_reduction_amount = overdue_reduction
    target.reason = reason
    target.updated_by_id = actor.id
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # two people setting the same target at the same moment
        raise TargetError(
            _l("A target for %(period)s is set already: change that one.", period=period.label),
            "period",
        ) from error
    except StaleDataError as error:
        raise StaleTarget(
            _l("Somebody else saved this record at the same moment; open it again.")
        ) from error
    return target


def target_history(target: Target) -> list[dict]:
    """The target's changes, newest first, from the audit trail: who, when, before → after."""
    import json

    rows = db.session.execute(
        sa.select(AuditLog.at, AuditLog.actor_name, AuditLog.action, AuditLog.changes)
        .where(AuditLog.table_name == Target.__tablename__, AuditLog.row_id == str(target.id))
        .order_by(AuditLog.id.desc())
    ).all()
    shown = ("recovery_amount", "overdue_reduction_amount", "reason")
    history = []
    for row in rows:
        changes = json.loads(row.changes or "{}")
        history.append(
            {
                "at": row.at,
                "who": row.actor_name,
                "action": row.action,
                "changes": {key: changes[key] for key in shown if key in changes},
            }
        )
    return history


def target_progress(target: Target, measures: dict) -> dict:
    """A target row of the pages: its own amounts against the figures of its period."""
    from recovery.targets.models import percent

    recovered = from_fen(measures["recovered"])
    reduction = from_fen(measures["overdue_start"] - measures["overdue_end"])
    recovery_percent = percent(recovered, target.recovery_amount)
    overdue_percent = percent(reduction, target.overdue_reduction_amount)
    return {
        "target": target,
        "period": Period(target.period_kind, target.period_start, target.period_end),
        "recovered": recovered,
        "overdue_start": from_fen(measures["overdue_start"]),
        "overdue_end": from_fen(measures["overdue_end"]),
        "overdue_reduction": reduction,
        "recovery_percent": recovery_percent,
        "overdue_percent": overdue_percent,
        "recovery_bar": _bar(recovery_percent),
        "overdue_bar": _bar(overdue_percent),
    }


def _bar(value: Decimal | None) -> int:
    """A progress bar's fill, 0–100 (a completion above 100 % fills it)."""
    if value is None:
        return 0
    return max(0, min(100, int(value)))


# ---------------------------------------------------------------------------------------------
# Target of any period


def _fen(value: Fraction) -> int:
    """A non-negative exact amount of fen, rounded half up to a whole fen."""
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


class TargetResolver:
    """The targets of one period (any start and end), for any number of departments and
    people, from one query of the target rows that overlap it."""

    def __init__(self, start: date, end: date):
        self.start, self.end = start, end
        self.own: dict[tuple[str, int], dict[tuple[str, date], tuple[int, int]]] = {}
        rows = db.session.execute(
            sa.select(
                Target.department_id,
                Target.user_id,
                Target.period_kind,
                Target.period_start,
                fen(Target.recovery_amount),
                fen(Target.overdue_reduction_amount),
            ).where(Target.period_start <= end, Target.period_end >= start)
        )
        for dept_id, user_id, kind, first, recovery, overdue in rows:
            scope = ("department", dept_id) if dept_id is not None else ("user", user_id)
            self.own.setdefault(scope, {})[(kind, first)] = (int(recovery), int(overdue))
        self.parents = queries.department_parents()
        self.children: dict[int | None, list[int]] = {}
        for dept_id, parent_id in self.parents.items():
            self.children.setdefault(parent_id, []).append(dept_id)
        self._months: dict = {}

    def has_own(self, scope) -> bool:
        return bool(self.own.get(scope))

    def _month(self, scope, month: Period) -> tuple[Fraction, Fraction, bool]:
        memo = (scope, month.start)
        if memo in self._months:
            return self._months[memo]
        own = self.own.get(scope, {})
        result = None
        for kind, share in (("month", 1), ("quarter", 3), ("year", 12)):
            found = own.get((kind, period_of(kind, month.start).start))
            if found is not None:
                result = (Fraction(found[0], share), Fraction(found[1], share), True)
                break
        if result is None and scope[0] == "department":
            recovery, overdue, any_found = Fraction(0), Fraction(0), False
            for child in self.children.get(scope[1], ()):
                r, o, f = self._month(("department", child), month)
                recovery, overdue, any_found = recovery + r, overdue + o, any_found or f
            result = (recovery, overdue, any_found)
        result = result or (Fraction(0), Fraction(0), False)
        self._months[memo] = result
        return result

    def _exact(self, scope, start: date, end: date) -> tuple[Fraction, Fraction, bool]:
        period = canonical(start, end)
        if period is not None:
            found = self.own.get(scope, {}).get((period.kind, period.start))
            if found is not None:
                return Fraction(found[0]), Fraction(found[1]), True
        recovery, overdue, any_found = Fraction(0), Fraction(0), False
        for month in months_overlapping(start, end):
            first, last = max(start, month.start), min(end, month.end)
            share = Fraction((last - first).days + 1, month.days)
            r, o, f = self._month(scope, month)
            recovery, overdue = recovery + r * share, overdue + o * share
            any_found = any_found or f
        return recovery, overdue, any_found

    def target(self, *, department_id: int | None = None, user_id: int | None = None) -> dict:
        if user_id is not None:
            scopes = [("user", user_id)]
        elif department_id is not None:
            scopes = [("department", department_id)]
        else:  # the company: its top departments
            scopes = [("department", d) for d in self.children.get(None, ())]
        recovery, overdue, any_found = Fraction(0), Fraction(0), False
        for scope in scopes:
            r, o, f = self._exact(scope, self.start, self.end)
            recovery, overdue, any_found = recovery + r, overdue + o, any_found or f
        return {
            "recovery": from_fen(_fen(recovery)),
            "overdue_reduction": from_fen(_fen(overdue)),
            "has_target": any_found,
        }


def target_for(
    period_start: date,
    period_end: date,
    *,
    department_id: int | None = None,
    user_id: int | None = None,
) -> dict:
    """{recovery, overdue_reduction: Decimal, has_target: bool} of a department, a person, or
    (neither) the company, for any period (rules in the module docstring)."""
    resolver = TargetResolver(period_start, period_end)
    return resolver.target(department_id=department_id, user_id=user_id)


def recovery_targets(
    period_start: date, period_end: date, *, user_ids=(), department_ids=()
) -> dict[tuple[str, int], dict]:
    """target_for of many people and departments at once: {("user"|"department", id): …}."""
    resolver = TargetResolver(period_start, period_end)
    result = {("user", u): resolver.target(user_id=u) for u in user_ids}
    result.update({("department", d): resolver.target(department_id=d) for d in department_ids})
    return result


# ---------------------------------------------------------------------------------------------
# Completion


def ratio(actual: Decimal, target: Decimal) -> Decimal | None:
    if not target:
        return None
    return (actual / target).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def no_ratio_reason(target: dict) -> str:
    if not target["has_target"]:
        return str(_l("No target is set for this period: there is nothing to compare with."))
    return str(_l("The target is zero: a completion cannot be computed."))


def completion(
    period_start: date,
    period_end: date,
    *,
    department_id: int | None = None,
    user_id: int | None = None,
    as_of: date | None = None,
) -> dict:
    """The target, what was achieved (as of ``as_of``, default today) and the ratio
    actual ÷ target (a Decimal with four places, None with an explanation when the target is
    zero or absent), for the recovery and the overdue-reduction targets."""
    as_of = as_of or company_today()
    target = target_for(period_start, period_end, department_id=department_id, user_id=user_id)
    if user_id is not None:
        figures = queries.person_figures(period_start, period_end, as_of, conduct=False).of(user_id)
    else:
        found = queries.department_figures(period_start, period_end, as_of, conduct=False)
        figures = found.total if department_id is None else found.of(department_id)
    actual = {
        "recovery": from_fen(figures["recovered"]),
        "overdue_start": from_fen(figures["overdue_start"]),
        "overdue_end": from_fen(figures["overdue_end"]),
        "overdue_reduction": from_fen(figures["overdue_start"] - figures["overdue_end"]),
    }
    ratios, explanations = {}, {}
    for measure in ("recovery", "overdue_reduction"):
        ratios[measure] = ratio(actual[measure], target[measure])
        explanations[measure] = no_ratio_reason(target) if ratios[measure] is None else None
    return {
        "period_start": period_start,
        "period_end": period_end,
        "as_of": as_of,
        "target": target,
        "actual": actual,
        "ratio": ratios,
        "explanation": explanations,
    }


# ---------------------------------------------------------------------------------------------
# Rankings


@dataclass
class RankingRow:
    key: int
    name: str
    department: str | None
    recovered: Decimal
    recovery_target: Decimal | None  # None: no target for the period
    overdue_start: Decimal
    overdue_end: Decimal
    overdue_target: Decimal | None
    broken_promises: int
    breaches: int
    rank: int = 0

    @property
    def overdue_reduction(self) -> Decimal:
        return self.overdue_start - self.overdue_end

    @property
    def completion(self) -> Decimal | None:
        return ratio(self.recovered, self.recovery_target) if self.recovery_target else None

    @property
    def overdue_completion(self) -> Decimal | None:
        return ratio(self.overdue_reduction, self.overdue_target) if self.overdue_target else None

    @property
    def completion_percent(self) -> Decimal | None:
        from recovery.targets.models import percent

        return percent(self.recovered, self.recovery_target)

    @property
    def overdue_completion_percent(self) -> Decimal | None:
        from recovery.targets.models import percent

        return percent(self.overdue_reduction, self.overdue_target)

    @property
    def completion_fill(self) -> int:
        return _bar(self.completion_percent)


def _rank_key(row: RankingRow) -> tuple:
    """Rank order: rows with a recovery target above zero first, by completion (exact,
    highest first); then recovered (most first), overdue reduction (most first), broken
    promises (fewest first), service-level breaches (fewest first). Rows equal on all of
    these share a rank; the name only orders them on the page."""
    completion = (
        Fraction(int(row.recovered * 100), int(row.recovery_target * 100))
        if row.recovery_target
        else Fraction(0)
    )
    return (
        0 if row.recovery_target else 1,
        -completion,
        -row.recovered,
        -row.overdue_reduction,
        row.broken_promises,
        row.breaches,
    )


def _people_listed(figures: queries.Figures, resolver: TargetResolver) -> list[int]:
    collectors = sa.select(UserRole.user_id).where(UserRole.role.in_(COLLECTOR_ROLES))
    active_collectors = set(
        db.session.scalars(sa.select(User.id).where(User.id.in_(collectors), User.active.is_(True)))
    )
    with_figures = {
        key for key, measures in figures.values.items() if key and any(measures.values())
    }
    with_target = {scope[1] for scope in resolver.own if scope[0] == "user"}
    return sorted(active_collectors | with_figures | with_target)


def rankings(
    period_start: date, period_end: date, *, by: str = "person", as_of: date | None = None
) -> list[RankingRow]:
    """One row per person (active collectors, and anyone with a figure or a target in the
    period) or per department (active departments and subsidiaries, not the company
    itself), ranked."""
    if by not in RANK_BY:
        raise ValueError(f"unknown ranking {by}")
    as_of = as_of or company_today()
    resolver = TargetResolver(period_start, period_end)
    if by == "person":
        figures = queries.person_figures(period_start, period_end, as_of)
        keys = _people_listed(figures, resolver)
        names = {
            row.id: (row.display_name, row.department)
            for row in db.session.execute(
                sa.select(User.id, User.display_name, Department.name.label("department"))
                .outerjoin(Department, Department.id == User.department_id)
                .where(User.id.in_(keys))
            )
        }
    else:
        figures = queries.department_figures(period_start, period_end, as_of)
        departments = db.session.scalars(
            sa.select(Department).where(Department.active.is_(True), Department.kind != "company")
        ).all()
        keys = [d.id for d in departments]
        names = {
            d.id: (d.name, d.parent.path if d.parent is not None else None) for d in departments
        }
    rows = []
    for key in keys:
        measures = figures.of(key)
        target = (
            resolver.target(user_id=key) if by == "person" else resolver.target(department_id=key)
        )
        name, department = names.get(key, ("—", None))
        rows.append(
            RankingRow(
                key=key,
                name=name,
                department=department,
                recovered=from_fen(measures["recovered"]),
                recovery_target=target["recovery"] if target["has_target"] else None,
                overdue_start=from_fen(measures["overdue_start"]),
                overdue_end=from_fen(measures["overdue_end"]),
                overdue_target=target["overdue_reduction"] if target["has_target"] else None,
                broken_promises=measures["broken_promises"],
                breaches=measures["breaches"],
            )
        )
    rows.sort(key=lambda r: (_rank_key(r), r.name, r.key))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        key = _rank_key(row)
        if key != previous:
            rank, previous = position, key
        row.rank = rank
    return rows


# ---------------------------------------------------------------------------------------------
# Reward lists


def standing_list(by: str, period: Period) -> RewardList | None:
    """The list of that period and ranking that is proposed or approved, if any."""
    return db.session.scalars(
        sa.select(RewardList).where(
            RewardList.ranked_by == by,
            RewardList.period_start == period.start,
            RewardList.period_end == period.end,
            RewardList.status != "rejected",
        )
    ).first()


# What a reward list's status is called on screen (the same words as the list pages').
LIST_STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


def _standing_refusal(existing: RewardList) -> TargetError:
    return TargetError(
        _l(
            "List no. %(id)s for this period already exists (status: %(status)s): a new one "
            "can be proposed only after it is rejected.",
            id=existing.id,
            status=LIST_STATUS_LABELS.get(existing.status, existing.status),
        )
    )


def propose_list(*, by: str, period: Period, actor, today: date) -> RewardList:
    """Freeze the rankings of a period that is over, with the reward rule of the settings,
    as a proposed list."""
    if not actor.has_role("supervisor", "executive"):
        raise TargetError(_l("Only a supervisor or an executive proposes a list."))
    if by not in RANK_BY:
        raise TargetError(_l("Choose a ranking by person or by department."))
    if period.end >= today:
        raise TargetError(
            _l(
                "The period %(period)s is not over yet: its list can be proposed from %(day)s.",
                period=period.label,
                day=(period.end + timedelta(days=1)).isoformat(),
            )
        )
    existing = standing_list(by, period)
    if existing is not None:
        raise _standing_refusal(existing)
    rule = RewardRule.from_settings()
    reward_list = RewardList(
        ranked_by=by,
        period_kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        status="proposed",
        bonus_unit=rule.bonus_unit,
        bonus_per_unit=rule.bonus_per_unit,
        threshold_percent=rule.threshold_percent,
        below_threshold_deduction=rule.below_threshold_deduction,
        broken_promise_deduction=rule.broken_promise_deduction,
        proposed_by_id=actor.id,
        proposed_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(reward_list)
            db.session.flush()
    except IntegrityError as error:  # proposed by someone else at the same moment
        raise _standing_refusal(standing_list(by, period) or reward_list) from error
    rows = rankings(period.start, period.end, by=by, as_of=today)
    for position, row in enumerate(rows, start=1):
        result = reward(
            rule,
            recovered=row.recovered,
            target=row.recovery_target,
            broken_promises=row.broken_promises,
        )
        db.session.add(
            RewardEntry(
                list_id=reward_list.id,
                position=position,
                rank=row.rank,
                user_id=row.key if by == "person" else None,
                department_id=row.key if by == "department" else None,
                name=row.name[:200],
                department_name=(row.department or "")[:200] or None,
                recovered=row.recovered,
                recovery_target=row.recovery_target,
                overdue_reduction=row.overdue_reduction,
                overdue_target=row.overdue_target,
                broken_promises=row.broken_promises,
                breaches=row.breaches,
                bonus_units=result.bonus_units,
                bonus=result.bonus,
                threshold_deduction=result.threshold_deduction,
                promise_deduction=result.promise_deduction,
                net=result.net,
            )
        )
    db.session.flush()
    return reward_list


def list_period(reward_list: RewardList) -> Period:
    return Period(reward_list.period_kind, reward_list.period_start, reward_list.period_end)


def rule_of(reward_list: RewardList) -> RewardRule:
    """The rule a list was computed with (frozen on the list)."""
    return RewardRule(
        bonus_unit=reward_list.bonus_unit,
        bonus_per_unit=reward_list.bonus_per_unit,
        threshold_percent=Decimal(reward_list.threshold_percent),
        below_threshold_deduction=reward_list.below_threshold_deduction,
        broken_promise_deduction=reward_list.broken_promise_deduction,
    )


def decide_list(
    reward_list: RewardList, *, approve: bool, note: str | None, actor, version
) -> RewardList:
    """An executive other than the proposer approves or rejects (with a reason) a list."""
    try:
        shown = int(version)
    except (TypeError, ValueError):
        shown = None
    if shown != reward_list.version:
        who = reward_list.decided_by.display_name if reward_list.decided_by else _l("somebody")
        raise StaleTarget(
            _l(
                "Changed by %(who)s after you opened it: nothing was done. Look at the "
                "current state and try again.",
                who=who,
            )
        )
    if not actor.has_role("executive"):
        raise TargetError(_l("Only an executive approves or rejects a list."))
    if reward_list.proposed_by_id == actor.id:
        raise TargetError(_l("You proposed this list: another executive decides on it."))
    if reward_list.status != "proposed":
        raise TargetError(_l("This list has been decided already."))
    note = (note or "").strip() or None
    if not approve and note is None:
        raise TargetError(_l("Give the reason for rejecting the list."), "note")
    if note is not None and len(note) > 500:
        raise TargetError(_l("At most 500 characters."), "note")
    reward_list.status = "approved" if approve else "rejected"
    reward_list.decided_by_id = actor.id
    reward_list.decided_at = utcnow()
    reward_list.decision_note = note
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleTarget(
            _l("Somebody else saved this record at the same moment; open it again.")
        ) from error
    return reward_list


def list_totals(reward_list: RewardList) -> dict:
    """The sums of a list's entries (SQL)."""
    row = db.session.execute(
        sa.select(
            sa.func.sum(fen(RewardEntry.bonus)),
            sa.func.sum(fen(RewardEntry.threshold_deduction) + fen(RewardEntry.promise_deduction)),
            sa.func.sum(fen(RewardEntry.net)),
        ).where(RewardEntry.list_id == reward_list.id)
    ).one()
    return {
        "bonus": from_fen(int(row[0] or 0)),
        "deduction": from_fen(int(row[1] or 0)),
        "net": from_fen(int(row[2] or 0)),
    }


EXPORT_COLUMNS = (
    ("rank", _l("Rank")),
    ("name", _l("Name")),
    ("department", _l("Department")),
    ("recovered", _l("Recovered")),
    ("recovery_target", _l("Recovery target")),
    ("completion", _l("Completion %")),
    ("overdue_reduction", _l("Overdue reduction")),
    ("overdue_target", _l("Overdue reduction target")),
    ("overdue_completion", _l("Overdue reduction completion %")),
    ("broken_promises", _l("Broken promises")),
    ("breaches", _l("Service-level breaches")),
    ("bonus", _l("Bonus")),
    ("deduction", _l("Deduction")),
    ("net", _l("Net")),
    ("explanation", _l("How it was computed")),
)


def export_table(reward_list: RewardList) -> tuple[list[str], list[list]]:
    """The list as a table (write_table): the frozen figures, in the reader's language."""
    from recovery.targets.rules import explain

    rule = rule_of(reward_list)
    rows = []
    for entry in reward_list.entries:
        rows.append(
            [
                entry.rank,
                entry.name,
                entry.department_name or "",
                entry.recovered,
                entry.recovery_target if entry.recovery_target is not None else "",
                entry.completion_percent if entry.completion_percent is not None else "—",
                entry.overdue_reduction,
                entry.overdue_target if entry.overdue_target is not None else "",
                (
                    entry.overdue_completion_percent
                    if entry.overdue_completion_percent is not None
                    else "—"
                ),
                entry.broken_promises,
                entry.breaches,
                entry.bonus,
                entry.threshold_deduction + entry.promise_deduction,
                entry.net,
                " ".join(
                    explain(
                        rule,
                        recovered=entry.recovered,
                        target=entry.recovery_target,
                        broken_promises=entry.broken_promises,
                    )
                ),
            ]
        )
    return [str(label) for _key, label in EXPORT_COLUMNS], rows
