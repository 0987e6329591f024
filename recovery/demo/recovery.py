"""Demo recovery work on top of the demo ledger: cases in every state and outcome, strategies
at every step of their approval chain, activities of every kind, promises kept, broken and
open, disputes open, accepted and rejected, service-level breaches, and a completed hand-over.

Everything goes through the services of the cases, activities, responsibility and ledger
modules (so the rules and the audit trail apply as in real use); the only thing written
directly is *when* things happened — the services stamp "now", and a demonstration needs a
history — so the moments are set afterwards, counted in working days back from the anchor day.
The counterparties are chosen by SQL from the demo ledger (largest overdue first, non-payers
first), so the same ledger always gives the same recovery work. Loaded once: nothing is added
when any recovery case exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.activities import services as activities
from recovery.activities.models import Activity, Promise
from recovery.auth import services as auth
from recovery.auth.models import User
from recovery.cases import services as cases
from recovery.cases import strategies
from recovery.cases.models import Collateral, RecoveryCase, Strategy
from recovery.core.money import from_fen
from recovery.core.workdays import add_working_days
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger import services as ledger
from recovery.ledger.models import Receipt
from recovery.parties.models import Contact, Counterparty
from recovery.responsibility import services as responsibility
from recovery.worklist.service_levels import to_utc

# Collectors of the 清欠小组 (the demo supervisor's team), and a sales user who left.
COLLECTORS = (("zhaomin", "赵敏"), ("xuqing", "徐晴"))
COLLECTION_TEAM = "清欠小组"
LEAVER = ("qianyu", "钱宇", "营销一部")
HANDOVER_FROM_USERNAME = "zhoujie"  # whose accounts the leaver had taken over
NO_RECENT_RECEIPT_DAYS = 60


@dataclass
class RecoverySummary:
    cases: dict[str, int] = field(default_factory=dict)
    strategies: dict[str, int] = field(default_factory=dict)
    activities: int = 0
    promises: int = 0
    disputes: dict[str, int] = field(default_factory=dict)
    handovers: int = 0
    skipped: str | None = None

    def describe(self) -> str:
        if self.skipped:
            return f"Demo recovery work not loaded: {self.skipped}."

        def listing(counts):
            return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "none"

        return (
            f"Demo recovery work: cases ({listing(self.cases)}); strategies "
            f"({listing(self.strategies)}); {self.activities} activities, {self.promises} "
            f"promises, disputes ({listing(self.disputes)}); {self.handovers} hand-over."
        )


def ensure_collectors(password_for) -> list[str]:
    """The collectors of the collection team (created when missing); their usernames."""
    team = auth.find_department(COLLECTION_TEAM)
    for username, name in COLLECTORS:
        if auth.find_user(username) is None:
            auth.create_user(
                username, password_for(username), ("sales",), display_name=name, department=team
            )
    return [username for username, _name in COLLECTORS]


# ---------------------------------------------------------------------------------------------
# Choosing the counterparties


@dataclass
class Debtor:
    id: int
    code: str
    responsible_id: int | None
    overdue: Decimal


def overdue_debtors(anchor: date) -> list[Debtor]:
    """Counterparties with something overdue on the anchor day: those that paid nothing in
    the last 60 days first (their promises stay broken), then the largest overdue."""
    b = ledger_queries.outstanding_items(anchor)
    cp, receipts = Counterparty.__table__, Receipt.__table__
    recent = (
        sa.select(receipts.c.counterparty_id)
        .where(
            receipts.c.received_on > anchor - timedelta(days=NO_RECENT_RECEIPT_DAYS),
            receipts.c.received_on <= anchor,
        )
        .distinct()
    )
    overdue = sa.func.sum(b.c.outstanding_fen)
    query = (
        sa.select(cp.c.id, cp.c.code, cp.c.responsible_id, overdue.label("overdue"))
        .select_from(b)
        .join(cp, cp.c.id == b.c.counterparty_id)
        .where(b.c.due_on < anchor, b.c.outstanding_fen > 0)
        .group_by(cp.c.id, cp.c.code, cp.c.responsible_id)
        .order_by(sa.case((cp.c.id.in_(recent), 1), else_=0), overdue.desc(), cp.c.code)
    )
    return [
        Debtor(row.id, row.code, row.responsible_id, from_fen(int(row.overdue)))
        for row in db.session.execute(query)
    ]


def oldest_open_item(counterparty_id: int, anchor: date):
    b = ledger_queries.outstanding_items(
        anchor, ledger_queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    row = db.session.execute(
        sa.select(b.c.id, b.c.outstanding_fen)
        .where(b.c.outstanding_fen > 0, b.c.due_on < anchor)
        .order_by(b.c.due_on, b.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None, None
    from recovery.ledger.models import Item

    return db.session.get(Item, row.id), from_fen(int(row.outstanding_fen))


def part(amount: Decimal, share: int) -> Decimal:
    """``share`` percent of an amount, in whole yuan (at least one fen)."""
    value = (amount * share / 100).quantize(Decimal("1"))
    return value if value > 0 else amount


# ---------------------------------------------------------------------------------------------
# The loader


class DemoRecovery:
    def __init__(self, anchor: date):
        self.anchor = anchor
        self.summary = RecoverySummary()
        find = auth.find_user
        self.sales, self.supervisor = find("sales"), find("supervisor")
        self.finance, self.legal, self.executive = find("finance"), find("legal"), find("executive")
        self.zhaomin, self.xuqing = find("zhaomin"), find("xuqing")
        self.receipts = 0

    # --- time ------------------------------------------------------------------------------

    def day(self, working_days_back: int) -> date:
        return add_working_days(self.anchor, -working_days_back)

    @staticmethod
    def local(day: date, hour: int, minute: int = 0) -> datetime:
        """A Beijing wall-clock moment (as forms take it)."""
        return datetime(day.year, day.month, day.day, hour, minute)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A Beijing wall-clock moment as stored (naive UTC)."""
        return to_utc(self.local(day, hour, minute))

    def month_end(self) -> date:
        following = (self.anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)

    # --- building blocks -------------------------------------------------------------------

    def open_case(self, debtor: Debtor, actor, opened_at: datetime, **values) -> RecoveryCase:
        case = cases.open_case(
            db.session.get(Counterparty, debtor.id), actor=actor, today=self.anchor, **values
        )
        case.opened_at = opened_at
        case.opened_on = self.anchor if opened_at.date() > self.anchor else opened_at.date()
        if case.assigned_at is not None:
            case.assigned_at = opened_at + timedelta(minutes=20)
        db.session.flush()
        return case

    def assign(self, case: RecoveryCase, collector, at: datetime) -> None:
        cases.assign_case(case, collector.id, version=case.version, actor=self.supervisor)
        case.assigned_at = at
        db.session.flush()

    def contact_of(self, counterparty_id: int) -> int | None:
        return db.session.scalar(
            sa.select(Contact.id)
            .where(Contact.counterparty_id == counterparty_id, Contact.active.is_(True))
            .order_by(Contact.is_primary.desc(), Contact.id)
            .limit(1)
        )

    def activity(self, debtor: Debtor, actor, when: datetime, kind: str, summary: str, **values):
        """An activity through the activities service; ``when`` is Beijing wall-clock time."""
        values.setdefault("contact_id", self.contact_of(debtor.id))
        activity = activities.record_activity(
            activities.ActivityInput(
                counterparty_id=debtor.id, kind=kind, occurred_at=when, summary=summary, **values
            ),
            actor=actor,
        )
        self.summary.activities += 1
        if values.get("promise_amount") is not None:
            self.summary.promises += 1
        return activity

    def record_strategy(self, case, kind, actor, **record) -> Strategy:
        strategy = strategies.record_strategy(
            case,
            kind,
            "演示：根据债务人资金与经营状况选择此策略。",
            actor=actor,
            as_of=self.anchor,
        )
        if record:
            strategies.update_strategy(
                strategy, version=strategy.version, actor=actor, today=self.anchor, **record
            )
        return strategy

    def submit(self, strategy: Strategy, actor, at: datetime) -> None:
        strategies.submit_strategy(
            strategy, version=strategy.version, actor=actor, as_of=self.anchor
        )
        strategy.submitted_at = at
        self._stamp_last_decision(strategy, at)

    def decide(self, strategy, actor, decision: str, at: datetime, reason=None) -> None:
        strategies.decide_strategy(
            strategy, decision, reason, version=strategy.version, actor=actor
        )
        self._stamp_last_decision(strategy, at)

    @staticmethod
    def _stamp_last_decision(strategy: Strategy, at: datetime) -> None:
        db.session.flush()
        latest = max(strategy.decisions, key=lambda d: d.id)
        latest.decided_at = at
        db.session.flush()

    def close(self, case: RecoveryCase, outcome: str, note: str, actor, at: datetime) -> None:
        cases.close_case(case, outcome, note, version=case.version, actor=actor, today=self.anchor)
        case.closed_at = at
        db.session.flush()

    def receipt(self, debtor: Debtor, amount: Decimal, on: date, reference: str) -> Receipt:
        self.receipts += 1
        return ledger.create_receipt(
            receipt_no=f"DEMO-QQ-{self.receipts:04d}",
            counterparty_id=debtor.id,
            amount=amount,
            received_on=on,
            method="transfer",
            reference=reference,
            item_id=None,
        )

    # --- the stories -----------------------------------------------------------------------

    def load(self) -> RecoverySummary:
        debtors = overdue_debtors(self.anchor)
        handed_over = self.handover_accounts(debtors)
        debtors = [d for d in debtors if d.id not in handed_over]
        own = [d for d in debtors if d.responsible_id == self.sales.id]
        others = [d for d in debtors if d.responsible_id != self.sales.id]
        own_stories = (
            self.broken_promise_case,
            self.calls_without_case,
            self.kept_promise_case,
            self.referred_to_legal,
        )
        other_stories = (
            self.unassigned_import,
            self.no_first_action,
            self.visit_overdue,
            self.visit_extension,
            self.visit_waiting_review,
            self.visits_reviewed,
            self.secured_at_finance,
            self.secured_at_legal,
            self.secured_at_leader,
            self.secured_approved,
            self.transfer_rejected,
            self.netting_sent_back,
            self.in_kind_completed,
            self.closed_recovered,
            self.closed_written_off,
        )
        # Stories of the sales user's own accounts first; what they cannot hold (too few
        # accounts at a small scale) goes to the others, and the others' in their order.
        for story, debtor in zip(own_stories, own, strict=False):
            story(debtor)
        pool = others + own[len(own_stories) :]
        leftover = list(own_stories[len(own) :])
        for story, debtor in zip([*leftover, *other_stories], pool, strict=False):
            story(debtor)
        self.count()
        return self.summary

    # Sales user's accounts ---------------------------------------------------------------

    def broken_promise_case(self, debtor: Debtor) -> None:
        """In progress; the debtor promised to pay four working days ago and did not; no
        follow-up yet (a broken promise and a next step due on the worklist)."""
        case = self.open_case(
            debtor,
            self.sales,
            self.at(self.day(25), 9),
            cause="cash_shortage",
            target_amount=part(debtor.overdue, 50),
            target_date=self.month_end(),
            plan="每周电话跟进，必要时上门。",
        )
        self.record_strategy(case, "cash_collection", self.sales)
        self.activity(
            debtor, self.sales, self.local(self.day(24), 10),
            "call", "首次电话催收，对方财务经理确认欠款金额。", case_id=case.id,
        )  # fmt: skip
        self.activity(
            debtor, self.sales, self.local(self.day(9), 15),
            "call", "对方承诺近期付款。", case_id=case.id,
            outcome="承诺付款", next_step="核对承诺款项是否到账", next_step_on=self.day(3),
            promise_amount=part(debtor.overdue, 30), promise_due_on=self.day(4),
            promise_note="对方财务经理口头承诺",
        )  # fmt: skip

    def calls_without_case(self, debtor: Debtor) -> None:
        """No case yet: e-mail, a letter with proof of arrival, a late call allowed with a
        reason, a call whose next step is due today, an open promise and an open dispute
        past its deadline."""
        local = self.local
        self.activity(
            debtor, self.sales, local(self.day(15), 10), "email", "发送对账及催款邮件。",
            proof_of_arrival="对方邮件回执",
        )  # fmt: skip
        self.activity(
            debtor, self.sales, local(self.day(12), 11), "letter", "寄送催款函（EMS）。",
            proof_of_arrival="EMS 1190833620 已签收",
        )  # fmt: skip
        self.activity(
            debtor, self.sales, local(self.day(3), 22, 40), "call",
            "对方财务经理工地会议后要求晚间回电。",
            conduct_override_reason="对方财务经理本人要求会后晚间回电，已征得同意。",
        )  # fmt: skip
        self.activity(
            debtor, self.sales, local(self.day(1), 10), "call", "对方称下周安排付款计划。",
            outcome="待对方确认付款计划", next_step="再次致电财务经理确认付款计划",
            next_step_on=self.anchor,
        )  # fmt: skip
        activities.record_promise(
            counterparty_id=debtor.id,
            amount=part(debtor.overdue, 20),
            promised_on=self.day(1),
            due_on=self.anchor + timedelta(days=10),
            actor=self.sales,
            note="书面承诺函",
            today=self.anchor,
        )
        self.summary.promises += 1
        item, outstanding = oldest_open_item(debtor.id, self.anchor)
        if item is not None:
            activities.open_dispute(
                item,
                amount=part(outstanding, 25),
                reason="quality",
                description="对方称部分设备存在质量问题，要求检测后结算。",
                owner_id=self.sales.id,
                deadline=self.day(1),
                actor=self.sales,
                raised_on=self.day(10),
            )

    def kept_promise_case(self, debtor: Debtor) -> None:
        """In progress: a meeting, a balance confirmation and a message; a promise kept by a
        payment three working days later."""
        case = self.open_case(
            debtor, self.sales, self.at(self.day(20), 9), cause="settlement_not_agreed",
            target_amount=part(debtor.overdue, 60), target_date=self.month_end(),
        )  # fmt: skip
        self.record_strategy(case, "cash_collection", self.sales)
        local = self.local
        self.activity(
            debtor, self.sales, local(self.day(18), 14), "meeting", "与对方总经理面谈结算事宜。",
            case_id=case.id, outcome="同意先对账",
        )  # fmt: skip
        self.activity(
            debtor, self.sales, local(self.day(15), 9), "confirmation", "寄送往来款项询证函。",
            case_id=case.id, proof_of_arrival="对方盖章回函",
        )  # fmt: skip
        amount = part(debtor.overdue, 15)
        self.activity(
            debtor, self.sales, local(self.day(8), 16), "call", "对方承诺本周付款。",
            case_id=case.id, promise_amount=amount, promise_due_on=self.day(4),
        )  # fmt: skip
        self.receipt(debtor, amount, self.day(5), f"{case.number} 承诺还款")
        self.activity(
            debtor, self.sales, local(self.day(4), 10), "message", "短信确认已收到款项。",
            case_id=case.id,
        )  # fmt: skip

    def referred_to_legal(self, debtor: Debtor) -> None:
        """Wilful default: a demand served with proof of arrival, then litigation and a
        referral to legal, accepted by legal (the suit not filed yet)."""
        case = self.open_case(
            debtor, self.sales, self.at(self.day(40), 9), cause="wilful_default",
        )  # fmt: skip
        self.activity(
            debtor, self.sales,
            self.local(self.day(30), 10), "demand", "送达律师催告函。",
            case_id=case.id, proof_of_arrival="快递签收单 SF1402556781",
        )  # fmt: skip
        self.record_strategy(case, "litigation", self.sales)
        # Through the legal module: the claim, the evidence the checklist asks for, sent to
        # legal (which refers the case) and accepted by the demo legal user.
        from recovery.demo.legal import refer
        from recovery.legal.claims import overdue_item_ids

        # Claimed as of three weeks ago; at a tiny scale, when nothing was overdue yet then,
        # as of the anchor day (sent and accepted that day).
        sent, claim_on, decided = self.day(20), self.day(21), self.day(18)
        if not overdue_item_ids(debtor.id, claim_on):
            sent = claim_on = decided = self.anchor
        refer(
            self,
            case,
            self.sales,
            "债务人拒不付款，催告函已送达，请法务部提起诉讼。",
            claim_on,
            self.at(sent, 15),
            ("accepted", "证据齐全，同意起诉，待立案。", (), self.at(decided, 16)),
        )

    # Service levels (the supervisor's team) ----------------------------------------------

    def unassigned_import(self, debtor: Debtor) -> None:
        """Imported three working days ago and still not assigned: an assignment breach."""
        self.open_case(
            debtor, self.supervisor, self.at(self.day(3), 10), origin="imported",
            cause="other", cause_note="由催收系统导入",
        )  # fmt: skip

    def no_first_action(self, debtor: Debtor) -> None:
        """Assigned yesterday at 09:00, nothing done since: a first-action breach."""
        case = self.open_case(
            debtor, self.supervisor, self.at(self.day(1), 8, 30), origin="imported"
        )
        self.assign(case, self.zhaomin, self.at(self.day(1), 9))

    def _field_case(self, debtor: Debtor, collector, opened: int) -> RecoveryCase:
        case = self.open_case(debtor, self.supervisor, self.at(self.day(opened), 9))
        self.assign(case, collector, self.at(self.day(opened), 9, 20))
        self.activity(
            debtor, collector, self.local(self.day(opened), 10), "call",
            "电话无法取得进展，转外访。", case_id=case.id, outcome="需上门",
        )  # fmt: skip
        return case

    def _request_visit(self, case: RecoveryCase, at: datetime) -> None:
        cases.request_visit(case, version=case.version, actor=self.supervisor)
        case.visit_requested_at = at
        db.session.flush()

    def visit_overdue(self, debtor: Debtor) -> None:
        """Handed to a field visit five working days ago, no visit and no extension."""
        case = self._field_case(debtor, self.zhaomin, 8)
        self._request_visit(case, self.at(self.day(5), 11))

    def visit_extension(self, debtor: Debtor) -> None:
        """Handed to a field visit yesterday; an extension asked for, awaiting decision."""
        case = self._field_case(debtor, self.zhaomin, 6)
        self._request_visit(case, self.at(self.day(1), 11))
        request = cases.request_extension(
            case,
            reason="债务人办公地址搬迁，需核实新地址。",
            next_plan="通过工商登记查询新地址后上门。",
            until_on=self.anchor + timedelta(days=7),
            actor=self.zhaomin,
            today=self.anchor,
        )
        request.requested_at = self.at(self.day(1), 16)
        db.session.flush()

    def visit_waiting_review(self, debtor: Debtor) -> None:
        """Visited in time; the visit record waits for the supervisor's review."""
        case = self._field_case(debtor, self.zhaomin, 7)
        self._request_visit(case, self.at(self.day(4), 10))
        self.activity(
            debtor, self.zhaomin, self.local(self.day(3), 14), "visit",
            "上门拜访对方财务部，查看经营场所。", case_id=case.id,
            outcome="对方同意分期", next_step="发送分期还款协议", next_step_on=self.anchor,
        )  # fmt: skip

    def visits_reviewed(self, debtor: Debtor) -> None:
        """Two visits: one approved by the supervisor, one returned for a missing record."""
        case = self._field_case(debtor, self.xuqing, 12)
        self._request_visit(case, self.at(self.day(11), 10))
        first = self.activity(
            debtor, self.xuqing, self.local(self.day(10), 15), "visit",
            "上门核实债务人生产经营情况。", case_id=case.id,
        )  # fmt: skip
        activities.review_visit(first, actor=self.supervisor, approve=True)
        first.reviewed_at = self.at(self.day(9), 9)
        second = self.activity(
            debtor, self.xuqing, self.local(self.day(6), 15), "visit",
            "再次上门，对方负责人不在。", case_id=case.id,
        )  # fmt: skip
        activities.review_visit(
            second, actor=self.supervisor, approve=False, note="请补充现场照片和接待人员姓名。"
        )
        second.reviewed_at = self.at(self.day(5), 9)
        db.session.flush()
        item, outstanding = oldest_open_item(debtor.id, self.anchor)
        if item is not None:  # a dispute accepted: a credit note, approved by finance
            dispute = activities.open_dispute(
                item, amount=part(outstanding, 10), reason="price",
                description="对方称结算单价高于合同约定。", owner_id=self.xuqing.id,
                deadline=self.day(2), actor=self.xuqing, raised_on=self.day(9),
            )  # fmt: skip
            activities.resolve_dispute(
                dispute, accept=True, actor=self.supervisor, note="经核对合同，单价确有差错。",
                on=self.day(3), credit_number="CN-DEMO-0001",
            )  # fmt: skip
            ledger.decide_adjustment(
                dispute.adjustment, approve=True, actor=self.finance, note="已核对合同"
            )

    # Strategies at every step --------------------------------------------------------------

    def _strategy_case(self, debtor: Debtor, opened: int) -> RecoveryCase:
        return self._field_case(debtor, self.xuqing, opened)

    def _secured(self, debtor: Debtor, opened: int) -> tuple[Strategy, Collateral]:
        case = self._strategy_case(debtor, opened)
        strategy = self.record_strategy(
            case,
            "secured",
            self.xuqing,
            investigation="债务人资金紧张，但在建项目前景良好；名下厂房无其他抵押。",
        )
        line = strategies.add_collateral(
            strategy,
            kind="mortgage",
            asset="债务人名下厂房一处（约 3,200 平方米）",
            value=part(debtor.overdue, 120),
            today=self.anchor,
        )
        strategies.add_collateral(
            strategy,
            kind="guarantee",
            asset="债务人控股股东连带责任保证",
            value=part(debtor.overdue, 50),
            today=self.anchor,
        )
        self.submit(strategy, self.xuqing, self.at(self.day(opened - 1), 16))
        return strategy, line

    def secured_at_finance(self, debtor: Debtor) -> None:
        self._secured(debtor, 6)

    def secured_at_legal(self, debtor: Debtor) -> None:
        strategy, _line = self._secured(debtor, 8)
        self.decide(strategy, self.finance, "approved", self.at(self.day(5), 10))
        item, outstanding = oldest_open_item(debtor.id, self.anchor)
        if item is not None:  # a dispute rejected: collection continues
            dispute = activities.open_dispute(
                item, amount=part(outstanding, 10), reason="quantity",
                description="对方称到货数量不足。", owner_id=self.xuqing.id,
                deadline=self.anchor + timedelta(days=5), actor=self.xuqing,
                raised_on=self.day(6),
            )  # fmt: skip
            activities.resolve_dispute(
                dispute, accept=False, actor=self.supervisor,
                note="签收单显示数量齐全，异议不成立。", on=self.day(2),
            )  # fmt: skip

    def secured_at_leader(self, debtor: Debtor) -> None:
        strategy, _line = self._secured(debtor, 10)
        self.decide(strategy, self.finance, "approved", self.at(self.day(7), 10))
        self.decide(strategy, self.legal, "approved", self.at(self.day(5), 11))

    def secured_approved(self, debtor: Debtor) -> None:
        """Approved by all three steps; the mortgage registered since."""
        strategy, line = self._secured(debtor, 14)
        self.decide(strategy, self.finance, "approved", self.at(self.day(11), 10))
        self.decide(strategy, self.legal, "approved", self.at(self.day(10), 11))
        self.decide(strategy, self.executive, "approved", self.at(self.day(9), 9))
        strategies.register_collateral(
            line,
            registration_no="苏(2026)不动产证明第0032117号",
            registered_on=self.day(5),
            registry_office="不动产登记中心",
            today=self.anchor,
        )

    def transfer_rejected(self, debtor: Debtor) -> None:
        case = self._strategy_case(debtor, 9)
        strategy = self.record_strategy(
            case,
            "debt_transfer",
            self.xuqing,
            transferee="某资产管理有限公司",
            transfer_price=part(debtor.overdue, 35),
        )
        self.submit(strategy, self.xuqing, self.at(self.day(8), 16))
        self.decide(
            strategy, self.finance, "rejected", self.at(self.day(6), 10),
            reason="转让价格低于评估回收价值，不予同意。",
        )  # fmt: skip

    def netting_sent_back(self, debtor: Debtor) -> None:
        case = self._strategy_case(debtor, 9)
        strategy = self.record_strategy(
            case,
            "netting",
            self.xuqing,
            netting_party="集团内兄弟单位：示例建设有限公司",
            netting_amount=part(debtor.overdue, 40),
        )
        self.submit(strategy, self.xuqing, self.at(self.day(8), 16))
        self.decide(
            strategy, self.finance, "sent_back", self.at(self.day(6), 11),
            reason="请补充三方抵消协议草稿。",
        )  # fmt: skip

    def in_kind_completed(self, debtor: Debtor) -> None:
        """Settlement in kind approved, registered, completed (the accepted value posted as a
        receipt of method in_kind) and the case closed as settled in kind."""
        case = self._strategy_case(debtor, 30)
        accepted = part(debtor.overdue, 40)
        strategy = self.record_strategy(
            case,
            "in_kind",
            self.xuqing,
            appraised_value=part(debtor.overdue, 45),
            appraiser="某资产评估事务所",
            appraised_on=self.day(28),
            accepted_value=accepted,
            preservation="设备已查封并由我方保管",
        )
        self.submit(strategy, self.xuqing, self.at(self.day(27), 16))
        self.decide(strategy, self.finance, "approved", self.at(self.day(26), 10))
        self.decide(strategy, self.legal, "approved", self.at(self.day(25), 10))
        self.decide(strategy, self.executive, "approved", self.at(self.day(24), 10))
        strategies.update_strategy(
            strategy,
            version=strategy.version,
            actor=self.xuqing,
            today=self.anchor,
            title_registration_no="动产抵押登记 DY2026-00417",
            title_registered_on=self.day(10),
        )
        strategies.complete_strategy(
            strategy, version=strategy.version, actor=self.finance, today=self.anchor
        )
        strategy.completed_at = self.at(self.day(10), 15)
        note = "以设备抵偿部分欠款，剩余部分另行催收。"
        self.close(case, "settled_in_kind", note, self.xuqing, self.at(self.day(9), 10))

    def closed_recovered(self, debtor: Debtor) -> None:
        case = self._strategy_case(debtor, 35)
        self.record_strategy(case, "cash_collection", self.xuqing)
        self.close(
            case, "recovered", "主要欠款已收回，余款纳入分期协议跟进。", self.xuqing,
            self.at(self.day(2), 16),
        )  # fmt: skip

    def closed_written_off(self, debtor: Debtor) -> None:
        case = self._strategy_case(debtor, 45)
        self.close(
            case, "written_off", "债务人已注销，核销审批单 HX-2026-018。", self.xuqing,
            self.at(self.day(15), 16),
        )  # fmt: skip

    # The hand-over ---------------------------------------------------------------------------

    def handover_accounts(self, debtors: list[Debtor]) -> set[int]:
        """钱宇 took over two of 周杰's accounts and has since left: his accounts were handed
        over to the demo sales user with the checklist ticked. Returns the counterparties
        moved (left out of the other stories)."""
        from recovery.demo.services import demo_password

        username, name, department = LEAVER
        leaver = auth.find_user(username) or auth.create_user(
            username,
            demo_password(username),
            ("sales",),
            display_name=name,
            department=auth.find_department(department),
        )
        source = auth.find_user(HANDOVER_FROM_USERNAME)
        overdue = {d.id for d in debtors}
        picked = []
        if source is not None:
            candidates = db.session.scalars(
                sa.select(Counterparty)
                .where(Counterparty.responsible_id == source.id)
                .order_by(Counterparty.code)
            ).all()
            # Accounts with nothing overdue first: the overdue ones make the other stories.
            candidates.sort(key=lambda c: (c.id in overdue, c.code))
            picked = candidates[:2]
        for counterparty in picked:
            responsibility.reassign(
                counterparty,
                leaver.id,
                reason="区域调整，由钱宇接手跟进。",
                actor=self.supervisor,
                now=self.at(self.day(60), 10),
            )
        handover = responsibility.draft_handover(
            from_user_id=leaver.id,
            to_user_id=self.sales.id,
            reason="钱宇离职，其负责客户移交李强。",
            actor=self.supervisor,
            as_of=self.anchor,
            extra_lines=["客户联系人及往来函件已当面交接"],
        )
        responsibility.tick_checklist(
            handover,
            {check.id: (True, "已核对") for check in handover.checklist},
            actor=self.supervisor,
        )
        responsibility.apply_handover(
            handover, actor=self.supervisor, now=self.at(self.day(20), 16)
        )
        handover.created_at = self.at(self.day(22), 9)
        leaver = db.session.get(User, leaver.id)
        leaver.active = False
        db.session.flush()
        self.summary.handovers = 1
        return {c.id for c in picked}

    # --- the count -----------------------------------------------------------------------

    def count(self) -> None:
        def grouped(column):
            query = sa.select(column, sa.func.count()).group_by(column)
            return dict(db.session.execute(query).all())

        from recovery.activities.models import Dispute

        self.summary.cases = grouped(RecoveryCase.status)
        self.summary.strategies = grouped(Strategy.status)
        self.summary.disputes = grouped(Dispute.status)
        self.summary.activities = db.session.scalar(sa.select(sa.func.count(Activity.id)))
        self.summary.promises = db.session.scalar(sa.select(sa.func.count(Promise.id)))


def load_recovery(anchor: date) -> RecoverySummary:
    """Add the demo recovery work (once: nothing when a recovery case exists)."""
    from recovery.demo.services import demo_password

    if db.session.scalar(sa.select(sa.func.count(RecoveryCase.id))):
        return RecoverySummary(skipped="recovery cases exist already")
    if not db.session.scalar(sa.select(sa.func.count(Counterparty.id))):
        return RecoverySummary(skipped="the ledger is empty")
    ensure_collectors(demo_password)
    return DemoRecovery(anchor).load()
