"""The worklist (我的待办): a person's accounts ranked by what needs doing, in SQL.

An account is a counterparty the person is the first-responsible person for, or whose open
recovery case is assigned to them. A line is shown when the account has something overdue,
an open case, or something needing attention. The ranking (documented in
docs/recovery-work.md):

1. the number of attention signs, most first — each counts once:
   - a service-level breach still open on the account's case (recovery/worklist/service_levels),
   - a broken promise not followed up (no activity logged for the counterparty on a day after
     the promise's due date),
   - a next step due today or earlier (the next step of the counterparty's latest activity),
   - limitation approaching: an open item whose limitation (the full rule of
     recovery/limitation, interruptions and the official calendar included) ends within the
     longest ``limitation.warning_days`` from today, or has ended,
   - a strategy of the account waiting for the person's approval;
2. then the overdue amount × days past due (yuan-days, summed over the overdue items): a large
   debt that is long overdue before a small or recent one;
3. then the overdue amount, then the counterparty code.

Everything but the breaches and the limitation is computed in the database; those need the
official calendar, so they are found first (few rows) and passed in as counterparty ids.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from recovery.activities.models import Activity, Dispute
from recovery.auth.models import Department, User
from recovery.cases.models import ExtensionRequest, RecoveryCase, Strategy
from recovery.core.bulk import one_of
from recovery.core.money import from_fen
from recovery.core.pagination import PER_PAGE, Page
from recovery.core.sqltime import as_date, days_between
from recovery.extensions import db
from recovery.ledger import overdue
from recovery.ledger.queries import nothing_moved_after
from recovery.parties.models import Counterparty
from recovery.worklist.service_levels import Breach, Levels, find_breaches

cp_t = Counterparty.__table__
case_t = RecoveryCase.__table__
activity_t = Activity.__table__
users_t = User.__table__


# ---------------------------------------------------------------------------------------------
# Whose accounts


def department_subtree(department_id: int | None) -> list[int]:
    """The department and every department below it (the organisation tree is small)."""
    if department_id is None:
        return []
    children: dict[int | None, list[int]] = {}
    for dept_id, parent_id in db.session.execute(sa.select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    found, pending = [], [department_id]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, ()))
    return found


def team_user_ids(user) -> list[int]:
    """A supervisor's team: the active users of their department and its sub-departments
    (themself included); nobody else when they have no department."""
    departments = department_subtree(user.department_id)
    if not departments:
        return [user.id]
    ids = db.session.scalars(
        sa.select(User.id).where(User.department_id.in_(departments), User.active.is_(True))
    ).all()
    return sorted(set(ids) | {user.id})


def account_ids(owner_ids):
    """A SELECT of the counterparties the owners answer for: responsible for, or assigned
    the open case of."""
    return sa.union(
        sa.select(cp_t.c.id.label("id")).where(cp_t.c.responsible_id.in_(owner_ids)),
        sa.select(case_t.c.counterparty_id).where(
            case_t.c.assignee_id.in_(owner_ids), case_t.c.status != "closed"
        ),
    )


def _accounts_with_codes(owner_ids):
    """``account_ids`` with each counterparty's code (what the ranking ends on)."""
    return sa.union(
        sa.select(cp_t.c.id, cp_t.c.code).where(cp_t.c.responsible_id.in_(owner_ids)),
        sa.select(cp_t.c.id, cp_t.c.code)
        .join(case_t, case_t.c.counterparty_id == cp_t.c.id)
        .where(case_t.c.assignee_id.in_(owner_ids), case_t.c.status != "closed"),
    )


def account_cases(owner_ids, *, departments=None, unassigned: bool = False):
    """The condition on a case (recovery_cases columns) of being on the owners' accounts; for
    a team also of being a case of its departments' counterparties and, with ``unassigned``,
    of being assigned to nobody (assigning is a supervisor's job, so every supervisor sees
    that pool)."""
    condition = sa.or_(
        case_t.c.assignee_id.in_(owner_ids),
        case_t.c.counterparty_id.in_(
            sa.select(cp_t.c.id).where(cp_t.c.responsible_id.in_(owner_ids))
        ),
    )
    if departments:
        condition = sa.or_(
            condition,
            case_t.c.counterparty_id.in_(
                sa.select(cp_t.c.id).where(cp_t.c.department_id.in_(departments))
            ),
        )
    if unassigned:
        condition = sa.or_(condition, case_t.c.assignee_id.is_(None))
    return condition


def account_case_ids(owner_ids, *, departments=None, unassigned: bool = False):
    """A SELECT of the cases ``account_cases`` names."""
    condition = account_cases(owner_ids, departments=departments, unassigned=unassigned)
    return sa.select(case_t.c.id).where(condition)


def user_names(ids) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(users_t.c.id, users_t.c.display_name).where(users_t.c.id.in_(list(ids)))
        ).all()
    )


# ---------------------------------------------------------------------------------------------
# The lines


@dataclass
class WorkLine:
    counterparty_id: int
    code: str
    name: str
    responsible_id: int | None
    responsible: str | None
    case_id: int | None
    case_number: str | None
    case_status: str | None
    assignee: str | None
    overdue: Decimal
    days_overdue: int
    exposure: Decimal  # overdue yuan × days
    broken_promises: int
    next_step: str | None
    next_step_on: date | None
    oldest_due_on: date | None
    limitation_flag: bool
    approvals: int
    attention: int
    breaches: list[Breach] = field(default_factory=list)
    limitation_on: date | None = None  # the earliest expiry among the warned items


def _approval_counts(approver):
    """A subquery (counterparty_id, approvals) of strategies waiting for ``approver``."""
    try:
        from recovery.cases.services import pending_approvals_for
    except ImportError:  # the approvals part of the cases module is not installed
        return None
    # Only the case of each: a subquery of every strategy column costs its building.
    waiting = (
        pending_approvals_for(approver)
        .order_by(None)
        .with_only_columns(Strategy.case_id, maintain_column_froms=True)
        .subquery("waiting")
    )
    return (
        sa.select(case_t.c.counterparty_id, sa.func.count().label("approvals"))
        .select_from(waiting)
        .join(case_t, case_t.c.id == waiting.c.case_id)
        .group_by(case_t.c.counterparty_id)
        .subquery("approvals")
    )


def _flag(column, ids):
    """1 when ``column`` is one of ``ids`` (one array parameter on PostgreSQL), else 0."""
    ids = sorted(ids)
    if not ids:
        return sa.literal(0)
    return sa.case((one_of(column, ids), 1), else_=0)


def ranked_query(
    owner_ids, as_of: date, *, breach_counterparties=(), approver=None, limitation_counterparties=()
):
    """The SELECT of the owners' worklist lines, ranked: the ranking figures and signs of each
    account, without names (``lines_query`` adds them to the lines of one page).

    The accounts are a materialised CTE read once; each aggregate reads only the accounts'
    rows through an index (open items by counterparty, activities by counterparty and time,
    promises by counterparty)."""
    from recovery.activities.promises import promise_status_rows

    accounts = _accounts_with_codes(owner_ids).cte("accounts").prefix_with("MATERIALIZED")
    in_accounts = sa.select(accounts.c.id)

    # Overdue amount, amount × days, the oldest due date: kept per counterparty by the
    # ledger's writes, summed from the open items only where the kept figures do not hold.
    debts = overdue.figures(as_of, in_accounts).subquery("debts")

    # Broken promises nobody has acted on since they fell due.
    promises = promise_status_rows(as_of, counterparty_ids=in_accounts).subquery("promises")
    followed_up = (
        sa.select(activity_t.c.id)
        .where(
            activity_t.c.counterparty_id == promises.c.counterparty_id,
            days_between(activity_t.c.occurred_at, promises.c.due_on) >= 1,
        )
        .exists()
    )
    broken = (
        sa.select(promises.c.counterparty_id, sa.func.count().label("broken"))
        .where(promises.c.status == "broken", ~followed_up)
        .group_by(promises.c.counterparty_id)
        .subquery("broken")
    )

    # The next step of each counterparty's latest activity (by time, then id), when it is due.
    # The latest is looked up per candidate row, newest first, on the index of activities by
    # counterparty and time (ix_activities_counterparty_time): a few index entries per account,
    # where an anti-join against every later activity hashed the whole table.
    later = activity_t.alias("later")
    latest_id = (
        sa.select(later.c.id)
        .where(later.c.counterparty_id == activity_t.c.counterparty_id)
        .order_by(later.c.occurred_at.desc(), later.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest = activity_t.c.id == latest_id
    steps = (
        sa.select(
            activity_t.c.counterparty_id,
            sa.func.min(activity_t.c.next_step_on).label("next_step_on"),
            sa.func.max(activity_t.c.next_step).label("next_step"),
        )
        .where(
            activity_t.c.counterparty_id.in_(in_accounts),
            activity_t.c.next_step_on <= as_of,
            latest,
        )
        .group_by(activity_t.c.counterparty_id)
        .subquery("steps")
    )

    open_case = (
        sa.select(case_t.c.id, case_t.c.counterparty_id)
        .where(case_t.c.status != "closed", case_t.c.counterparty_id.in_(in_accounts))
        .subquery("open_case")
    )
    approvals = _approval_counts(approver) if approver is not None else None
    approvals_count = (
        sa.func.coalesce(approvals.c.approvals, 0) if approvals is not None else sa.literal(0)
    )
    signs = (
        sa.select(
            accounts.c.id.label("counterparty_id"),
            accounts.c.code,
            open_case.c.id.label("case_id"),
            sa.func.coalesce(debts.c.overdue_fen, 0).label("overdue_fen"),
            sa.func.coalesce(debts.c.days_overdue, 0).label("days_overdue"),
            sa.func.coalesce(debts.c.fen_days, 0).label("fen_days"),
            debts.c.oldest_due_on,
            sa.func.coalesce(broken.c.broken, 0).label("broken"),
            steps.c.next_step,
            steps.c.next_step_on,
            _flag(accounts.c.id, breach_counterparties).label("breach_flag"),
            _flag(accounts.c.id, limitation_counterparties).label("limitation_flag"),
            approvals_count.label("approvals"),
        )
        .select_from(accounts)
        .outerjoin(debts, debts.c.counterparty_id == accounts.c.id)
        .outerjoin(broken, broken.c.counterparty_id == accounts.c.id)
        .outerjoin(steps, steps.c.counterparty_id == accounts.c.id)
        .outerjoin(open_case, open_case.c.counterparty_id == accounts.c.id)
    )
    if approvals is not None:
        signs = signs.outerjoin(approvals, approvals.c.counterparty_id == accounts.c.id)
    signs = signs.subquery("signs")
    # Each sign counts once. Summed a level up, so that each id list is sent once.
    attention = (
        signs.c.breach_flag
        + sa.case((signs.c.broken > 0, 1), else_=0)
        + sa.case((signs.c.next_step_on.is_not(None), 1), else_=0)
        + signs.c.limitation_flag
        + sa.case((signs.c.approvals > 0, 1), else_=0)
    )
    scored = sa.select(signs, attention.label("attention")).subquery("scored")
    return (
        sa.select(scored)
        .where(
            sa.or_(scored.c.overdue_fen > 0, scored.c.case_id.is_not(None), scored.c.attention > 0)
        )
        .order_by(*_ranking(scored))
    )


def _ranking(columns) -> list:
    """The order of the lines (docs/recovery-work.md, "Worklist")."""
    return [
        columns.c.attention.desc(),
        columns.c.fen_days.desc(),
        columns.c.overdue_fen.desc(),
        columns.c.code,
    ]


def lines_query(
    owner_ids,
    as_of: date,
    *,
    breach_counterparties=(),
    approver=None,
    limitation_counterparties=(),
    limit: int | None = None,
    offset: int = 0,
):
    """The SELECT of the worklist lines of ``owner_ids``' accounts, ranked, with the number of
    all lines (``total``) on each. With ``limit``, only those lines are named (counterparty,
    people, case): the accounts are ranked first, and the page's lines joined to the rest."""
    ranked = ranked_query(
        owner_ids,
        as_of,
        breach_counterparties=breach_counterparties,
        approver=approver,
        limitation_counterparties=limitation_counterparties,
    )
    ranked = ranked.add_columns(sa.func.count().over().label("total"))
    if limit is not None:
        ranked = ranked.limit(limit).offset(offset)
    page = ranked.subquery("page")
    responsible = users_t.alias("responsible")
    assignee = users_t.alias("assignee")
    return (
        sa.select(
            page,
            cp_t.c.name,
            cp_t.c.responsible_id,
            responsible.c.display_name.label("responsible"),
            case_t.c.number.label("case_number"),
            case_t.c.status.label("case_status"),
            assignee.c.display_name.label("assignee"),
        )
        .select_from(page)
        .join(cp_t, cp_t.c.id == page.c.counterparty_id)
        .outerjoin(responsible, responsible.c.id == cp_t.c.responsible_id)
        .outerjoin(case_t, case_t.c.id == page.c.case_id)
        .outerjoin(assignee, assignee.c.id == case_t.c.assignee_id)
        .order_by(*_ranking(page))
    )


# Building the page's statement is about a tenth of a worklist request, all of it Python, and
# a person asking again the same day with the same signs builds the very same statement. So
# the built statements are kept per process, by everything a statement is built from: its
# arguments and the one thing the building reads from the database (whether any item moved
# after the date: ``ledger.queries.outstanding_items``). Only the SQL is kept; the figures
# are read afresh each time. A statement holds no ORM object (the approver goes in as its id).
_BUILT_LIMIT = 64
_built: OrderedDict = OrderedDict()
_built_lock = threading.Lock()


def _built_key(
    owner_ids, as_of, *, approver, breach_counterparties, limitation_counterparties, limit, offset
):
    approver_key = None
    if approver is not None:
        approver_key = (approver.id, tuple(approver.role_names))
    return (
        db.session.get_bind().dialect.name,
        tuple(sorted(owner_ids)),
        as_of,
        approver_key,
        tuple(sorted(breach_counterparties)),
        tuple(sorted(limitation_counterparties)),
        limit,
        offset,
        nothing_moved_after(as_of),
    )


def page_query(owner_ids, as_of: date, **arguments):
    """``lines_query(owner_ids, as_of, **arguments)``, built once per process for the same
    arguments (see ``_built``)."""
    key = _built_key(owner_ids, as_of, **arguments)
    with _built_lock:
        query = _built.get(key)
        if query is not None:
            _built.move_to_end(key)
            return query
    query = lines_query(owner_ids, as_of, **arguments)
    with _built_lock:
        _built[key] = query
        while len(_built) > _BUILT_LIMIT:
            _built.popitem(last=False)
    return query


def _line(row, breaches: dict[int, list[Breach]], limitation=None) -> WorkLine:
    return WorkLine(
        counterparty_id=row.counterparty_id,
        code=row.code,
        name=row.name,
        responsible_id=row.responsible_id,
        responsible=row.responsible,
        case_id=row.case_id,
        case_number=row.case_number,
        case_status=row.case_status,
        assignee=row.assignee,
        overdue=from_fen(int(row.overdue_fen or 0)),
        days_overdue=int(row.days_overdue or 0),
        exposure=from_fen(int(row.fen_days or 0)),
        broken_promises=int(row.broken or 0),
        next_step=row.next_step,
        next_step_on=as_date(row.next_step_on),
        oldest_due_on=as_date(row.oldest_due_on),
        limitation_flag=bool(row.limitation_flag),
        approvals=int(row.approvals or 0),
        attention=int(row.attention or 0),
        breaches=breaches.get(row.counterparty_id, []),
        limitation_on=(limitation or {}).get(row.counterparty_id),
    )


def open_breaches_by_counterparty(
    now: datetime, case_ids=None, levels: Levels | None = None, *, breaches=None, cases=None
) -> dict[int, list[Breach]]:
    """{counterparty id: its open breaches}: of the cases ``case_ids`` (a SELECT of ids) or
    ``cases`` (a condition on the case, ``account_cases``), or of ``breaches`` already found
    (their open ones)."""
    if breaches is None:
        breaches = find_breaches(now, case_ids=case_ids, cases=cases, levels=levels)
    by_counterparty: dict[int, list[Breach]] = {}
    for breach in breaches:
        if breach.open:
            by_counterparty.setdefault(breach.counterparty_id, []).append(breach)
    return by_counterparty


def worklist_page(
    owner_ids: list[int],
    as_of: date,
    now: datetime,
    *,
    approver=None,
    departments=None,
    page: int | None = 1,
    per_page: int = PER_PAGE,
    levels: Levels | None = None,
    breaches: list[Breach] | None = None,
) -> Page:
    """One page of ranked lines for the owners' accounts, as of a day and a moment.

    The signs that need the official calendar (service-level breaches, limitation) are found
    first for all the accounts (few rows: only what can possibly be late or expiring); the
    ranking and the count are one SQL statement; names, people and cases are read for the
    page's lines only. ``breaches``: the breaches as of ``now`` of (at least) the accounts'
    cases, when the caller has found them already (the team page)."""
    breaches = open_breaches_by_counterparty(
        now,
        levels=levels,
        breaches=breaches,
        cases=account_cases(owner_ids, departments=departments),
    )
    from recovery.limitation.services import kept_warned_expiry

    limitation = kept_warned_expiry(as_of, account_ids(owner_ids))
    signs = {
        "breach_counterparties": breaches.keys(),
        "approver": approver,
        "limitation_counterparties": limitation.keys(),
    }
    number = max(1, page or 1)
    query = page_query(owner_ids, as_of, limit=per_page, offset=(number - 1) * per_page, **signs)
    rows = db.session.execute(query).all()
    if rows:
        total = int(rows[0].total)
    elif number == 1:
        total = 0
    else:  # past the last page: count the lines
        ranked = ranked_query(owner_ids, as_of, **signs).order_by(None).subquery()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(ranked)) or 0
    return Page(
        items=[_line(row, breaches, limitation) for row in rows],
        number=number,
        per_page=per_page,
        total=total,
    )


# ---------------------------------------------------------------------------------------------
# What waits for the person's decision


@dataclass
class Waiting:
    strategies: list = field(default_factory=list)
    strategy_count: int = 0
    visit_reviews: int = 0
    extensions: list = field(default_factory=list)
    adjustments: int = 0
    disputes_due: int = 0
    # Legal's decisions on referrals the person prepared, sent or whose case they work.
    referrals: list = field(default_factory=list)
    limitation: object = None  # legal: recovery.limitation.services.Summary

    @property
    def any(self) -> bool:
        return bool(
            self.strategy_count
            or self.visit_reviews
            or self.extensions
            or self.adjustments
            or self.disputes_due
            or self.referrals
            or (self.limitation is not None and self.limitation.any)
        )


def waiting_for(user, as_of: date, *, limit: int = 10) -> Waiting:
    """Approvals and decisions waiting for ``user``: strategies at a step they may decide,
    visit reviews and extension requests of their team (supervisors), credit notes and
    write-offs (finance), and their own disputes past their deadline."""
    waiting = Waiting()
    try:
        from recovery.cases.services import pending_approvals_for
    except ImportError:
        pending_approvals_for = None
    if pending_approvals_for is not None:
        query = pending_approvals_for(user)
        waiting.strategy_count = (
            db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        )
        waiting.strategies = db.session.scalars(
            query.order_by(None).order_by(Strategy.submitted_at, Strategy.id).limit(limit)
        ).all()
    if user.has_role("supervisor"):
        team = team_user_ids(user)
        waiting.visit_reviews = (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(activity_t)
                .where(
                    activity_t.c.review_status == "pending",
                    activity_t.c.user_id.in_(team),
                    activity_t.c.user_id != user.id,
                )
            )
            or 0
        )
        waiting.extensions = db.session.scalars(
            sa.select(ExtensionRequest)
            .where(
                ExtensionRequest.status == "pending",
                ExtensionRequest.requested_by_id.in_(team),
                ExtensionRequest.requested_by_id != user.id,
            )
            .order_by(ExtensionRequest.requested_at)
            .limit(limit)
        ).all()
    if user.has_role("finance"):
        from recovery.ledger.screen_queries import pending_adjustment_count

        waiting.adjustments = pending_adjustment_count()
    waiting.disputes_due = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Dispute)
            .where(
                Dispute.owner_id == user.id,
                Dispute.status == "open",
                Dispute.deadline <= as_of,
            )
        )
        or 0
    )
    from recovery.core.timeutil import utcnow
    from recovery.legal.queries import notices_for

    waiting.referrals = notices_for(user, utcnow())
    if user.has_role("legal"):
        from recovery.limitation.services import summary

        waiting.limitation = summary(as_of)
    return waiting


# ---------------------------------------------------------------------------------------------
# A supervisor's team


@dataclass
class MemberRow:
    user_id: int
    name: str
    department: str | None
    accounts: int
    overdue: Decimal
    open_cases: int
    open_breaches: int = 0


def team_members(team: list[int], as_of: date, breaches: list[Breach]) -> list[MemberRow]:
    """Per member of the team: accounts responsible for, their overdue, open cases assigned."""
    members_accounts = sa.select(cp_t.c.id).where(cp_t.c.responsible_id.in_(team))
    debts = overdue.figures(as_of, members_accounts).subquery("debts")
    overdue_by_member = (
        sa.select(
            cp_t.c.responsible_id.label("user_id"),
            sa.func.sum(debts.c.overdue_fen).label("overdue_fen"),
        )
        .select_from(debts)
        .join(cp_t, cp_t.c.id == debts.c.counterparty_id)
        .group_by(cp_t.c.responsible_id)
        .subquery("overdue")
    )
    accounts = (
        sa.select(cp_t.c.responsible_id.label("user_id"), sa.func.count().label("accounts"))
        .where(cp_t.c.responsible_id.in_(team))
        .group_by(cp_t.c.responsible_id)
        .subquery("accounts")
    )
    cases = (
        sa.select(case_t.c.assignee_id.label("user_id"), sa.func.count().label("cases"))
        .where(case_t.c.assignee_id.in_(team), case_t.c.status != "closed")
        .group_by(case_t.c.assignee_id)
        .subquery("cases")
    )
    query = (
        sa.select(
            users_t.c.id,
            users_t.c.display_name,
            Department.__table__.c.name.label("department"),
            sa.func.coalesce(accounts.c.accounts, 0).label("accounts"),
            sa.func.coalesce(overdue_by_member.c.overdue_fen, 0).label("overdue_fen"),
            sa.func.coalesce(cases.c.cases, 0).label("cases"),
        )
        .select_from(users_t)
        .outerjoin(Department.__table__, Department.__table__.c.id == users_t.c.department_id)
        .outerjoin(accounts, accounts.c.user_id == users_t.c.id)
        .outerjoin(overdue_by_member, overdue_by_member.c.user_id == users_t.c.id)
        .outerjoin(cases, cases.c.user_id == users_t.c.id)
        .where(users_t.c.id.in_(team))
        .order_by(users_t.c.display_name)
    )
    open_by_user: dict[int | None, int] = {}
    for breach in breaches:
        if breach.open:
            open_by_user[breach.assignee_id] = open_by_user.get(breach.assignee_id, 0) + 1
    return [
        MemberRow(
            row.id,
            row.display_name,
            row.department,
            int(row.accounts),
            from_fen(int(row.overdue_fen)),
            int(row.cases),
            open_by_user.get(row.id, 0),
        )
        for row in db.session.execute(query)
    ]
