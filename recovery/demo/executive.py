"""Demo data of the executives' pages: recovery and overdue-reduction targets (清欠指标) per
department and for a few people for the current month, quarter and year and for the last
closed month; the reward/penalty lists (考核奖罚) of the last closed month — by person
proposed by the demo executive and approved by a second executive, by department proposed
by the supervisor and waiting for a decision —; a specific provision (单项计提) approved, and
the provision run as of the last month-end, closed.

Through the services of the targets and provisions modules (their checks and the audit
trail apply). The targets are sized on the ledger itself: a recovery target a tenth above
the average month of the last twelve, an overdue-reduction target a share of the overdue
now, both rounded to thousands of yuan. Targets of the last month are set as of its first
day (when they would have been set, so no late-setting reason is needed); as in the rest of
the demo, the moments the services stamp themselves are set back to when it happened
afterwards. Loaded once: nothing when any target, reward list or provision run exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from recovery.auth import services as auth
from recovery.core.money import from_fen
from recovery.core.workdays import add_working_days
from recovery.demo.ledger import SALES_DEPARTMENTS
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.parties.models import Counterparty
from recovery.provisions import services as provisions
from recovery.provisions.models import ProvisionRun, SpecificProvision
from recovery.targets import queries as target_queries
from recovery.targets import services as targets
from recovery.targets.models import RewardList, Target
from recovery.targets.periods import Period, month_of, quarter_of, year_of
from recovery.worklist.service_levels import to_utc

# A second executive, who decides on the lists the first one proposes (username, name).
SECOND_EXECUTIVE = ("zhaolei", "赵磊")
# People with targets of their own (the demo sales user and one per other sales department).
TARGET_PEOPLE = ("sales", "zhoujie", "wuhua", "sunhao", "hujun")
# Overdue reduction aimed at, in percent of the overdue now, per kind of period.
REDUCTION_SHARE = {"month": 3, "quarter": 8, "year": 25}
MONTHS = {"month": 1, "quarter": 3, "year": 12}


def ensure_second_executive(password_for, company: str) -> str:
    username, name = SECOND_EXECUTIVE
    if auth.find_user(username) is None:
        auth.create_user(
            username,
            password_for(username),
            ("executive",),
            display_name=name,
            department=auth.find_department(company),
        )
    return username


@dataclass
class ExecutiveSummary:
    targets: int = 0
    lists: dict[str, int] | None = None
    run: str | None = None
    skipped: str | None = None

    def describe(self) -> str:
        if self.skipped:
            return f"Demo targets and provisions not loaded: {self.skipped}."
        lists = ", ".join(f"{n} {s}" for s, n in sorted((self.lists or {}).items())) or "none"
        return (
            f"Demo targets and provisions: {self.targets} targets; reward lists ({lists}); "
            f"{self.run or 'no provision run'}."
        )


def thousands(value: Decimal) -> Decimal:
    """Rounded to whole thousands of yuan (half up), never below zero."""
    rounded = (value / 1000).quantize(Decimal(1), ROUND_HALF_UP) * 1000
    return max(rounded, Decimal(0)).quantize(Decimal("0.01"))


class DemoExecutive:
    def __init__(self, anchor: date):
        self.anchor = anchor
        find = auth.find_user
        self.executive, self.second = find("executive"), find(SECOND_EXECUTIVE[0])
        self.finance, self.supervisor = find("finance"), find("supervisor")
        self.this_month = month_of(anchor)
        self.last_month = month_of(self.this_month.start - timedelta(days=1))
        self.summary = ExecutiveSummary()

    def at(self, day: date, hour: int) -> datetime:
        return to_utc(datetime(day.year, day.month, day.day, hour))

    def first_working_day_after(self, day: date) -> date:
        return min(add_working_days(day, 1), self.anchor)

    # --- targets ---------------------------------------------------------------------------

    def bases(self):
        """Average monthly recovery of the last twelve months and overdue now, in yuan, per
        department id and per person id."""
        start = month_of(self.anchor).start.replace(year=self.anchor.year - 1)
        end = self.last_month.end
        by_department = target_queries.department_figures(start, end, self.anchor, conduct=False)
        by_person = target_queries.person_figures(start, end, self.anchor, conduct=False)
        overdue = self.overdue_now()
        return by_department, by_person, overdue

    def overdue_now(self) -> dict[tuple[str, int], Decimal]:
        b = ledger_queries.outstanding_items(self.anchor)
        cp = Counterparty.__table__
        rows = db.session.execute(
            sa.select(cp.c.department_id, cp.c.responsible_id, sa.func.sum(b.c.outstanding_fen))
            .select_from(b)
            .join(cp, cp.c.id == b.c.counterparty_id)
            .where(b.c.due_on < self.anchor, b.c.outstanding_fen > 0)
            .group_by(cp.c.department_id, cp.c.responsible_id)
        )
        totals: dict[tuple[str, int], Decimal] = {}
        for department_id, responsible_id, fen in rows:
            for key in (("department", department_id), ("person", responsible_id)):
                totals[key] = totals.get(key, Decimal(0)) + from_fen(int(fen))
        return totals

    def set_targets(self, scope: dict, monthly: Decimal, overdue: Decimal) -> None:
        current = (self.this_month, quarter_of(self.anchor), year_of(self.anchor))
        for period in (*current, self.last_month):
            recovery = thousands(monthly * MONTHS[period.kind] * Decimal("1.1"))
            reduction = thousands(overdue * REDUCTION_SHARE[period.kind] / 100)
            # Set when the period began (the last month's as of its first day).
            today = period.start if period is self.last_month else self.anchor
            if targets.existing_target(period, **scope) is not None:
                continue
            target = targets.save_target(
                actor=self.executive,
                today=today,
                recovery=recovery,
                overdue_reduction=reduction,
                period_start=period.start,
                period_end=period.end,
                **scope,
            )
            if period is self.last_month:
                target.created_at = target.updated_at = self.at(period.start, 9)
            self.summary.targets += 1

    def targets(self) -> None:
        by_department, by_person, overdue = self.bases()
        for name in SALES_DEPARTMENTS:
            department = auth.find_department(name)
            monthly = from_fen(by_department.of(department.id)["recovered"]) / 12
            self.set_targets(
                {"department_id": department.id},
                monthly,
                overdue.get(("department", department.id), Decimal(0)),
            )
        for username in TARGET_PEOPLE:
            person = auth.find_user(username)
            if person is None or not person.active:
                continue
            monthly = from_fen(by_person.of(person.id)["recovered"]) / 12
            self.set_targets(
                {"user_id": person.id}, monthly, overdue.get(("person", person.id), Decimal(0))
            )
        db.session.flush()

    # --- reward lists ----------------------------------------------------------------------

    def reward_lists(self) -> None:
        period: Period = self.last_month
        proposed_on = self.first_working_day_after(period.end)
        decided_on = self.first_working_day_after(proposed_on)
        people = targets.propose_list(
            by="person", period=period, actor=self.executive, today=self.anchor
        )
        people.proposed_at = self.at(proposed_on, 10)
        targets.decide_list(
            people,
            approve=True,
            note="同意，按此名单发放奖励及扣减。",
            actor=self.second,
            version=people.version,
        )
        people.decided_at = self.at(decided_on, 15)
        departments = targets.propose_list(
            by="department", period=period, actor=self.supervisor, today=self.anchor
        )
        departments.proposed_at = self.at(proposed_on, 11)
        db.session.flush()

    # --- provisions ------------------------------------------------------------------------

    def provisions(self) -> None:
        """A counterparty in enforcement assessed individually (80 %), approved by the
        executive; the run as of the last month-end, closed by finance."""
        month_end = self.last_month.end
        counterparty = self.specific_candidate(month_end)
        if counterparty is not None:
            effective = month_end.replace(day=1)
            specific = provisions.propose_specific(
                counterparty,
                method="rate",
                rate=Decimal(80),
                amount=None,
                reason="债务人经营停滞，法院强制执行仅收回少量款项，预计大部分无法收回，"
                "单项计提 80%。",
                effective_from=effective,
                actor=self.finance,
                today=self.anchor,
            )
            provisions.decide_specific(
                specific,
                approve=True,
                actor=self.executive,
                note="同意单项计提。",
                version=specific.version,
                today=self.anchor,
            )
            specific.proposed_at = self.at(effective, 10)
            specific.decided_at = self.at(effective + timedelta(days=1), 10)
        run = provisions.create_run(
            month_end, actor=self.finance, today=self.anchor, note="月末计提坏账准备"
        )
        closed_on = self.first_working_day_after(month_end)
        run.created_at = self.at(closed_on, 9)
        db.session.flush()
        provisions.close_run(run, actor=self.finance, version=run.version)
        run.closed_at = self.at(closed_on, 17)
        db.session.flush()
        self.summary.run = (
            f"provision run as of {month_end.isoformat()} ({run.status}): "
            f"{run.total_provision} on {run.outstanding} outstanding"
        )

    @staticmethod
    def specific_candidate(as_of: date) -> Counterparty | None:
        """The counterparty of a suit in enforcement, else the largest outstanding of a
        counterparty whose business is poor."""
        from recovery.legal.models import Lawsuit

        in_enforcement = db.session.scalar(
            sa.select(Lawsuit.counterparty_id).where(Lawsuit.stage == "enforcement").limit(1)
        )
        if in_enforcement is not None and provisions.counterparty_outstanding(
            in_enforcement, as_of
        ):
            return db.session.get(Counterparty, in_enforcement)
        b = ledger_queries.outstanding_items(as_of)
        cp = Counterparty.__table__
        found = db.session.scalar(
            sa.select(cp.c.id)
            .select_from(b)
            .join(cp, cp.c.id == b.c.counterparty_id)
            .where(cp.c.business_status == "poor", b.c.outstanding_fen > 0)
            .group_by(cp.c.id)
            .order_by(sa.func.sum(b.c.outstanding_fen).desc(), cp.c.id)
            .limit(1)
        )
        return db.session.get(Counterparty, found) if found is not None else None

    def load(self) -> ExecutiveSummary:
        self.targets()
        self.reward_lists()
        self.provisions()
        self.summary.lists = dict(
            db.session.execute(
                sa.select(RewardList.status, sa.func.count()).group_by(RewardList.status)
            ).all()
        )
        return self.summary


def load_executive(anchor: date) -> ExecutiveSummary:
    """Add the demo targets, reward lists and provisions (once)."""
    from recovery.demo.services import COMPANY, demo_password

    for model in (Target, RewardList, ProvisionRun, SpecificProvision):
        if db.session.scalar(sa.select(sa.func.count()).select_from(model)):
            return ExecutiveSummary(skipped="targets, reward lists or provisions exist already")
    if not db.session.scalar(sa.select(sa.func.count(Counterparty.id))):
        return ExecutiveSummary(skipped="the ledger is empty")
    ensure_second_executive(demo_password, COMPANY)
    return DemoExecutive(anchor).load()
