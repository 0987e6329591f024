"""Demo legal work on top of the demo ledger and recovery work: referrals to legal in every
state, lawsuits at every stage with their costs, an enforcement receipt in the ledger, and
letters (demand letters of each level, a balance confirmation, a statement of account, one
demand delivered with proof so that it interrupts limitation).

Everything goes through the services of the legal, letters, cases, activities and ledger
modules, so the checklist, the stage order, the dates the services refuse, the ledger's
allocation and the audit trail apply as in real use. As in recovery/demo/recovery.py, the
only thing written directly afterwards is *when* things happened (the services stamp "now"
on submissions, decisions and creation; a demonstration needs a history): dates the services
take as input (claim, filing, hearing, judgment dates) are passed to them, moments they
stamp themselves are set back afterwards. Court fees follow the scale of 诉讼费用交纳办法.

The counterparties are chosen by SQL from the demo ledger (the recovery work's order: non-
payers first, then the largest overdue), among those without a recovery case, so the same
ledger always gives the same legal work. Loaded once: nothing is added when a lawsuit or a
letter exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from recovery.auth.models import User
from recovery.cases.models import RecoveryCase
from recovery.core.workdays import add_working_days
from recovery.demo.recovery import Debtor, DemoRecovery, RecoverySummary, overdue_debtors
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.legal import checklist, claims, judgment
from recovery.legal import services as legal
from recovery.legal.models import Lawsuit, Referral, ReferralDecision
from recovery.letters import services as letters
from recovery.letters.models import Letter
from recovery.parties.models import Counterparty
from recovery.settings.services import get_setting

# What a demo "scan" attached to a referral is called, per kind of evidence.
EVIDENCE_NAMES = {
    "contract": "购销合同扫描件.pdf",
    "delivery": "送货单及签收记录.pdf",
    "invoice": "增值税专用发票（记账联）.pdf",
    "settlement": "工程结算确认单.pdf",
    "visa": "工程签证单.pdf",
    "statement": "对账单（对方盖章）.pdf",
    "balance_confirmation": "往来款项询证函回函.pdf",
    "demand": "律师催告函及快递签收单.pdf",
    "correspondence": "往来函件.pdf",
    "guarantee": "连带责任保证书.pdf",
    "other": "其他证据材料.pdf",
}
COURTS = ("上海市浦东新区人民法院", "苏州市吴中区人民法院", "杭州市西湖区人民法院",
          "武汉市江汉区人民法院", "成都市武侯区人民法院")  # fmt: skip
COURT_CODES = ("沪0115", "苏0506", "浙0106", "鄂0103", "川0107")
HUNDRED = Decimal(100)


@dataclass
class LegalSummary:
    referrals: dict[str, int] = field(default_factory=dict)
    lawsuits: dict[str, int] = field(default_factory=dict)
    letters: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None

    def describe(self) -> str:
        if self.skipped:
            return f"Demo legal work not loaded: {self.skipped}."

        def listing(counts):
            return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "none"

        return (
            f"Demo legal work: referrals ({listing(self.referrals)}); lawsuits "
            f"({listing(self.lawsuits)}); letters ({listing(self.letters)})."
        )


# ---------------------------------------------------------------------------------------------
# Fees and files


def _bands(amount: Decimal, bands, top_rate: Decimal) -> Decimal:
    """A progressive scale: ``bands`` are (upper bound, percent) after a fixed first band."""
    fee, lower = Decimal(0), None
    for upper, rate in bands:
        if lower is not None and amount > lower:
            fee += (min(amount, upper) - lower) * rate / HUNDRED
        lower = upper
    if amount > lower:
        fee += (amount - lower) * top_rate / HUNDRED
    return fee


def court_fee(claim: Decimal) -> Decimal:
    """Acceptance fee of a property case (诉讼费用交纳办法 第十三条), to the fen."""
    bands = (
        (Decimal(10_000), None),
        (Decimal(100_000), Decimal("2.5")),
        (Decimal(200_000), Decimal(2)),
        (Decimal(500_000), Decimal("1.5")),
        (Decimal(1_000_000), Decimal(1)),
        (Decimal(2_000_000), Decimal("0.9")),
        (Decimal(5_000_000), Decimal("0.8")),
        (Decimal(10_000_000), Decimal("0.7")),
        (Decimal(20_000_000), Decimal("0.6")),
    )
    fee = Decimal(50) + _bands(claim, bands, Decimal("0.5"))
    return fee.quantize(Decimal("0.01"), ROUND_HALF_UP)


def preservation_fee(amount: Decimal) -> Decimal:
    """Property preservation fee (第十四条): 30 yuan up to 1,000, 1 % to 100,000, 0.5 % above,
    at most 5,000 yuan."""
    bands = ((Decimal(1_000), None), (Decimal(100_000), Decimal(1)))
    fee = min(Decimal(30) + _bands(amount, bands, Decimal("0.5")), Decimal(5_000))
    return fee.quantize(Decimal("0.01"), ROUND_HALF_UP)


def enforcement_fee(amount: Decimal) -> Decimal:
    """Enforcement application fee (第十四条): 50 yuan up to 10,000, then 1.5 % to 500,000,
    1 % to 5 million, 0.5 % to 10 million, 0.1 % above."""
    bands = (
        (Decimal(10_000), None),
        (Decimal(500_000), Decimal("1.5")),
        (Decimal(5_000_000), Decimal(1)),
        (Decimal(10_000_000), Decimal("0.5")),
    )
    fee = Decimal(50) + _bands(amount, bands, Decimal("0.1"))
    return fee.quantize(Decimal("0.01"), ROUND_HALF_UP)


def lawyer_fee(claim: Decimal) -> Decimal:
    """A lawyer's fee: 3 % of the first million claimed and 0.5 % above, in whole thousands,
    between 10,000 and 500,000 yuan."""
    fee = min(claim, Decimal(1_000_000)) * 3 / HUNDRED
    fee += max(claim - Decimal(1_000_000), Decimal(0)) * Decimal("0.5") / HUNDRED
    fee = (fee / 1000).quantize(Decimal(1), ROUND_HALF_UP) * 1000
    return min(max(fee, Decimal(10_000)), Decimal(500_000)).quantize(Decimal("0.01"))


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def scan_pdf(lines: list[str]) -> bytes:
    """A one-page PDF standing for a scanned document (ASCII text, Helvetica): enough for the
    evidence package to list, open and hash, without rendering anything."""
    stream = "BT /F1 12 Tf 72 770 Td 16 TL " + " ".join(f"({_pdf_text(line)}) '" for line in lines)
    stream += " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode("ascii")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return out


# ---------------------------------------------------------------------------------------------
# A referral, prepared, sent and reviewed (also the recovery work's case referred to legal)


def claim_type_of(counterparty_id: int) -> str:
    kind = db.session.scalar(sa.select(Counterparty.kind).where(Counterparty.id == counterparty_id))
    return "construction" if kind == "employer" else "sale_of_goods"


def attach_missing(referral: Referral, actor, kinds=()) -> None:
    """Upload a scan for every requirement the package does not meet yet (and for each kind
    in ``kinds``), as the preparer would before sending."""
    wanted = list(kinds)
    for row in checklist.build_package(referral).missing:
        if not any(kind in wanted for kind in row.requirement.kinds):
            wanted.append(row.requirement.kinds[0])
    code = referral.counterparty.code
    for kind in wanted:
        record = legal.store_file(
            scan_pdf([f"Scan: {kind}", f"Counterparty {code}", f"Referral {referral.number}"]),
            name=EVIDENCE_NAMES[kind],
            content_type="application/pdf",
            counterparty_id=referral.counterparty_id,
            case_id=referral.case_id,
            actor=actor,
        )
        legal.attach_evidence(referral, record.id, kind=kind, actor=actor)


def _stamp_decision(referral: Referral, at: datetime) -> None:
    db.session.flush()
    latest = db.session.scalar(
        sa.select(ReferralDecision)
        .where(ReferralDecision.referral_id == referral.id)
        .order_by(ReferralDecision.id.desc())
        .limit(1)
    )
    latest.decided_at = at


def refer(
    demo,
    case: RecoveryCase,
    preparer,
    note: str,
    claim_as_of: date,
    submitted: datetime,
    decision: tuple | None = None,
) -> Referral:
    """Prepare (the claim as of ``claim_as_of``, the evidence the checklist requires), send
    at ``submitted`` and, with ``decision`` = (decision, reason, missing kinds, moment), have
    the demo legal user review it. ``demo`` is the loader (its anchor day and users)."""
    referral = legal.start_referral(
        case,
        claim_type=claim_type_of(case.counterparty_id),
        claim_as_of=claim_as_of,
        note=note,
        actor=preparer,
        today=demo.anchor,
    )
    attach_missing(referral, preparer)
    legal.submit_referral(referral, version=referral.version, actor=preparer, today=demo.anchor)
    referral.created_at = submitted - timedelta(days=1)
    referral.submitted_at = submitted
    case.referred_at = submitted
    _stamp_decision(referral, submitted)
    if decision is not None:
        kind, reason, missing, at = decision
        legal.review_referral(
            referral,
            kind,
            version=referral.version,
            reason=reason,
            missing_kinds=list(missing),
            actor=demo.legal,
        )
        referral.decided_at = at
        _stamp_decision(referral, at)
    db.session.flush()
    return referral


# ---------------------------------------------------------------------------------------------
# The loader


def counterparties_with_case() -> set[int]:
    return set(db.session.scalars(sa.select(RecoveryCase.counterparty_id).distinct()))


class DemoLegal(DemoRecovery):
    """The legal stories; the time helpers and building blocks of the recovery work."""

    def __init__(self, anchor: date):
        super().__init__(anchor)
        self.summary = RecoverySummary()  # counts of the activities recorded (not reported)
        self.used: set[int] = set()
        self.suits = 0
        self.recoveries = 0

    # --- referrals -------------------------------------------------------------------------

    def refer(self, case, preparer, note, claim_as_of, submitted, decision=None) -> Referral:
        return refer(self, case, preparer, note, claim_as_of, submitted, decision)

    # --- choosing the debtors ----------------------------------------------------------------

    def take(self, pool: list[Debtor], claim_as_of: date) -> Debtor | None:
        """The first debtor of the pool with something overdue as of the claim date."""
        for debtor in pool:
            if debtor.id in self.used:
                continue
            if claims.overdue_item_ids(debtor.id, claim_as_of):
                self.used.add(debtor.id)
                return debtor
        return None

    def owner_of(self, debtor: Debtor):
        user = db.session.get(User, debtor.responsible_id) if debtor.responsible_id else None
        if user is None or not user.active or not user.has_role("sales"):
            return self.sales
        return user

    def legal_case(self, debtor: Debtor, opened: date, demand_on: date, proof: str):
        """A case opened by the account's sales user, a demand served with proof."""
        owner = self.owner_of(debtor)
        case = self.open_case(debtor, owner, self.at(opened, 9), cause="wilful_default")
        self.record_strategy(case, "litigation", owner)
        self.activity(
            debtor, owner, self.local(demand_on, 10), "demand",
            "寄送律师催告函，要求限期支付全部欠款。", case_id=case.id, proof_of_arrival=proof,
        )  # fmt: skip
        return case, owner

    # --- lawsuits ---------------------------------------------------------------------------

    def court(self) -> tuple[str, str]:
        n = self.suits % len(COURTS)
        self.suits += 1
        return COURTS[n], COURT_CODES[n]

    def file(self, referral: Referral, filed_on: date) -> Lawsuit:
        court, code = self.court()
        claim = referral.principal + referral.interest
        lawsuit = legal.file_lawsuit(
            referral,
            court=court,
            case_number=f"（{filed_on.year}）{code}民初{1000 + 317 * self.suits}号",
            filed_on=filed_on,
            court_fee=court_fee(claim),
            actor=self.legal,
            today=self.anchor,
        )
        lawsuit.created_at = self.at(filed_on, 16)
        legal.add_cost(
            lawsuit, kind="lawyer_fee", amount=lawyer_fee(claim), incurred_on=filed_on,
            note="律师代理费（第一期）", actor=self.legal, today=self.anchor,
        )  # fmt: skip
        return lawsuit

    def preserve(self, lawsuit: Lawsuit, on: date) -> None:
        amount = lawsuit.claimed_principal + lawsuit.claimed_interest
        legal.record_preservation(
            lawsuit, version=lawsuit.version, applied_on=on,
            ruling=lawsuit.case_number.replace("民初", "财保"),
            assets="冻结被告银行存款，查封被告名下车辆两台", amount=amount,
            actor=self.legal, today=self.anchor,
        )  # fmt: skip
        legal.add_cost(
            lawsuit, kind="preservation_fee", amount=preservation_fee(amount), incurred_on=on,
            note="财产保全申请费", actor=self.legal, today=self.anchor,
        )  # fmt: skip

    def hearing(self, lawsuit: Lawsuit, on: date, kind: str = "hearing", note=None) -> None:
        legal.add_hearing(
            lawsuit, version=lawsuit.version, held_on=on, kind=kind, note=note, actor=self.legal
        )

    def judge(
        self, lawsuit: Lawsuit, judged: date, effective: date, deadline: date, kind="judgment"
    ):
        """Everything claimed awarded, with the court fee as costs."""
        court = court_fee(lawsuit.claimed_principal + lawsuit.claimed_interest)
        legal.record_judgment(
            lawsuit,
            version=lawsuit.version,
            kind=kind,
            judgment_on=judged,
            awarded_principal=lawsuit.claimed_principal,
            awarded_interest=lawsuit.claimed_interest,
            awarded_costs=court,
            effective_on=effective,
            performance_deadline=deadline,
            actor=self.legal,
            today=self.anchor,
        )

    # --- the stories ------------------------------------------------------------------------

    def load(self) -> LegalSummary:
        with_case = counterparties_with_case()
        pool = [d for d in overdue_debtors(self.anchor) if d.id not in with_case]
        self.referral_submitted(pool)
        self.referral_returned(pool)
        self.referral_declined(pool)
        self.suit_filed(pool)
        self.suit_hearing(pool)
        self.suit_preservation(pool)
        self.suit_judgment(pool)
        self.suit_enforcement(pool)
        self.suit_closed(pool)
        self.letters(with_case)
        db.session.flush()
        return self.count()

    def referral_submitted(self, pool) -> None:
        """Prepared by finance, sent three working days ago; waiting for legal."""
        debtor = self.take(pool, self.day(4))
        if debtor is None:
            return
        case, _owner = self.legal_case(debtor, self.day(30), self.day(22), "EMS 1190857731 已签收")
        self.refer(
            case, self.finance, "债务人长期拖欠且拒绝对账，催告函已送达，请法务部审查起诉。",
            self.day(4), self.at(self.day(3), 15),
        )  # fmt: skip

    def referral_returned(self, pool) -> None:
        """Sent by the sales user; legal asks for the signed statement and the letters."""
        debtor = self.take(pool, self.day(13))
        if debtor is None:
            return
        case, owner = self.legal_case(
            debtor, self.day(45), self.day(35), "顺丰 SF1406623318 已签收"
        )
        reason = "欠款金额与对方记录差异较大，请补充对方盖章的对账单及往来函件。"
        self.refer(
            case, owner, "债务人以质量问题为由拒付，已多次催收无果。", self.day(13),
            self.at(self.day(12), 11),
            ("returned", reason, ("statement", "correspondence"), self.at(self.day(9), 10)),
        )  # fmt: skip

    def referral_declined(self, pool) -> None:
        """Legal declines (no assets known, costs out of proportion); collection goes on."""
        debtor = self.take(pool, self.day(21))
        if debtor is None:
            return
        case, owner = self.legal_case(debtor, self.day(60), self.day(40), "EMS 1190841205 已签收")
        reason = "未查到债务人可供执行的财产线索，诉讼成本与可回收金额不相称，建议继续协商催收。"
        self.refer(
            case, owner, "债务人多次逾期，请评估是否起诉。", self.day(21), self.at(self.day(20), 9),
            ("declined", reason, (), self.at(self.day(16), 14)),
        )  # fmt: skip

    def _suit(self, pool, claim_back: int, opened_back: int, story: str):
        """A referral accepted by legal; the claim as of ``claim_back`` working days ago."""
        claim_on = self.day(claim_back)
        debtor = self.take(pool, claim_on)
        if debtor is None:
            return None
        case, owner = self.legal_case(
            debtor, self.day(opened_back), self.day(claim_back + 5),
            f"顺丰 SF14{claim_back:04d}77{opened_back:03d} 已签收",
        )  # fmt: skip
        return self.refer(
            case, owner, story, claim_on, self.at(self.day(claim_back - 1), 15),
            ("accepted", "证据齐全，同意起诉。", (), self.at(self.day(claim_back - 3), 10)),
        )  # fmt: skip

    def suit_filed(self, pool) -> None:
        """Filed last week; the court has not set a hearing yet."""
        referral = self._suit(pool, 15, 35, "债务人拒不付款，请提起诉讼。")
        if referral is None:
            return
        self.file(referral, self.day(5))

    def suit_hearing(self, pool) -> None:
        """Filed four weeks ago; evidence exchange and the first hearing in the next weeks."""
        referral = self._suit(pool, 30, 50, "债务人拒不付款，催告无果，请提起诉讼。")
        if referral is None:
            return
        lawsuit = self.file(referral, self.day(20))
        self.hearing(lawsuit, add_working_days(self.anchor, 8), "evidence_exchange", "证据交换")
        self.hearing(lawsuit, add_working_days(self.anchor, 15), "hearing", "第一次开庭")

    def suit_preservation(self, pool) -> None:
        """Pre-suit preservation granted, then filed."""
        referral = self._suit(pool, 70, 90, "债务人正在转移资产，请申请诉前财产保全并起诉。")
        if referral is None:
            return
        court, code = self.court()
        claim = referral.principal + referral.interest
        filed_on = self.day(55)
        lawsuit = legal.file_lawsuit(
            referral, court=court, filed_on=filed_on, court_fee=court_fee(claim),
            case_number=f"（{filed_on.year}）{code}民初{2000 + 317 * self.suits}号",
            actor=self.legal, today=self.anchor,
        )  # fmt: skip
        lawsuit.created_at = self.at(filed_on, 16)
        self.preserve(lawsuit, self.day(62))
        legal.add_cost(
            lawsuit, kind="lawyer_fee", amount=lawyer_fee(claim), incurred_on=filed_on,
            note="律师代理费（第一期）", actor=self.legal, today=self.anchor,
        )  # fmt: skip

    def suit_judgment(self, pool) -> None:
        """Judged; the performance deadline has passed unmet: delayed-performance interest."""
        referral = self._suit(pool, 150, 170, "债务人拒不履行付款义务，请提起诉讼。")
        if referral is None:
            return
        lawsuit = self.file(referral, self.day(140))
        self.hearing(lawsuit, self.day(100), "hearing", "开庭审理，被告未到庭")
        self.judge(lawsuit, self.day(60), self.day(45), self.day(35))

    def suit_enforcement(self, pool) -> None:
        """Judged, enforcement applied for; part of the debt recovered by the court."""
        referral = self._suit(pool, 300, 320, "债务人经营恶化，请尽快起诉并申请保全。")
        if referral is None:
            return
        lawsuit = self.file(referral, self.day(290))
        self.preserve(lawsuit, self.day(288))
        self.hearing(lawsuit, self.day(240), "hearing", "开庭审理")
        self.judge(lawsuit, self.day(200), self.day(185), self.day(175))
        applied = self.day(160)
        legal.apply_enforcement(
            lawsuit, version=lawsuit.version, applied_on=applied, court=None,
            case_number=lawsuit.case_number.replace("民初", "执"), actor=self.legal,
            today=self.anchor,
        )  # fmt: skip
        legal.add_cost(
            lawsuit, kind="enforcement_fee", amount=enforcement_fee(lawsuit.awarded_principal),
            incurred_on=applied, note="申请执行费", actor=self.legal, today=self.anchor,
        )  # fmt: skip
        amount = (lawsuit.awarded_principal * 35 / HUNDRED).quantize(Decimal("0.01"))
        self.recoveries += 1
        legal.record_recovery(
            lawsuit, version=lawsuit.version, receipt_no=f"DEMO-ZX-{self.recoveries:04d}",
            amount=amount, received_on=self.day(60), reference=None, actor=self.legal,
            today=self.anchor,
        )  # fmt: skip

    def suit_closed(self, pool) -> None:
        """Settled by mediation, not performed, enforced in full and closed; the owner then
        closed the case as recovered."""
        referral = self._suit(pool, 420, 440, "债务人长期拖欠，请起诉。")
        if referral is None:
            return
        lawsuit = self.file(referral, self.day(410))
        self.hearing(lawsuit, self.day(380), "mediation", "庭前调解")
        self.judge(lawsuit, self.day(380), self.day(380), self.day(360), kind="mediation")
        legal.apply_enforcement(
            lawsuit, version=lawsuit.version, applied_on=self.day(350), court=None,
            case_number=lawsuit.case_number.replace("民初", "执"), actor=self.legal,
            today=self.anchor,
        )  # fmt: skip
        legal.add_cost(
            lawsuit, kind="enforcement_fee", amount=enforcement_fee(lawsuit.awarded_principal),
            incurred_on=self.day(350), note="申请执行费", actor=self.legal, today=self.anchor,
        )  # fmt: skip
        paid_on = self.day(300)
        due = judgment.position(lawsuit, paid_on).total_due
        self.recoveries += 1
        legal.record_recovery(
            lawsuit, version=lawsuit.version, receipt_no=f"DEMO-ZX-{self.recoveries:04d}",
            amount=due, received_on=paid_on, reference=None, actor=self.legal,
            today=self.anchor,
        )  # fmt: skip
        legal.close_lawsuit(
            lawsuit, version=lawsuit.version, outcome="paid_in_full", closed_on=self.day(295),
            note="法院强制执行到位，调解书确定的款项已全额收回。", actor=self.legal,
            today=self.anchor,
        )  # fmt: skip
        legal.add_cost(
            lawsuit, kind="lawyer_fee", amount=Decimal(20_000), incurred_on=self.day(290),
            note="律师代理费（结案尾款）", actor=self.legal, today=self.anchor,
        )  # fmt: skip
        case = lawsuit.case
        owner = db.session.get(User, case.assignee_id) if case.assignee_id else self.sales
        self.close(
            case, "recovered", "经法院调解及强制执行，欠款已全额收回，诉讼结案。", owner,
            self.at(self.day(294), 10),
        )  # fmt: skip

    # --- letters ----------------------------------------------------------------------------

    def oldest_overdue(self, as_of: date, exclude: set[int]):
        """(counterparty id, days overdue of the oldest overdue item, overdue fen), largest
        overdue first."""
        b = ledger_queries.outstanding_items(as_of)
        query = (
            sa.select(
                b.c.counterparty_id,
                sa.func.min(b.c.due_on).label("oldest"),
                sa.func.sum(b.c.outstanding_fen).label("overdue"),
            )
            .where(b.c.due_on < as_of, b.c.outstanding_fen > 0)
            .group_by(b.c.counterparty_id)
            .order_by(sa.func.sum(b.c.outstanding_fen).desc(), b.c.counterparty_id)
        )
        return [
            (row.counterparty_id, (as_of - row.oldest).days, int(row.overdue))
            for row in db.session.execute(query)
            if row.counterparty_id not in exclude
        ]

    def letters(self, with_case: set[int]) -> None:
        """A demand letter of each level, a balance confirmation and a statement of account;
        the final demand delivered with proof (an interruption of limitation)."""
        exclude = with_case | self.used
        formal_days = get_setting("letters.formal_demand_days")
        final_days = get_setting("letters.final_demand_days")
        # (level, letter date, whether the oldest overdue item's days past due fit the level)
        plan = (
            ("reminder", self.anchor, lambda days: days < formal_days),
            ("formal", self.anchor, lambda days: formal_days <= days < final_days),
            ("final", self.day(10), lambda days: days >= final_days),
        )
        chosen: dict[str, int] = {}
        for level, dated, fits in plan:
            for cp_id, days, _fen in self.oldest_overdue(dated, exclude):
                if fits(days) and cp_id not in chosen.values():
                    chosen[level] = cp_id
                    generated = letters.generate_letter(
                        cp_id, "demand", dated, actor=self.finance, today=self.anchor
                    )
                    generated.letter.created_at = self.at(dated, 10)
                    if level == "final":
                        letters.record_delivery(
                            generated.letter, delivered_at=self.local(self.day(8), 14),
                            method="courier", proof="EMS 1190870046，对方财务部签收",
                            actor=self.finance, now=self.at(self.anchor, 18),
                        )  # fmt: skip
                    break
        taken = set(chosen.values()) | exclude
        # The largest open balances not yet written to: a confirmation and a statement.
        month_end = self.anchor.replace(day=1) - timedelta(days=1)
        others = [cp for cp, _d, _f in self.oldest_overdue(month_end, taken)]
        if others:
            letters.generate_letter(
                others[0], "confirmation", month_end, actor=self.finance, today=self.anchor
            )
        if len(others) > 1:
            letters.generate_letter(
                others[1], "statement", self.anchor, actor=self.finance, today=self.anchor
            )

    # --- the count --------------------------------------------------------------------------

    def count(self) -> LegalSummary:
        def grouped(column):
            return dict(
                db.session.execute(sa.select(column, sa.func.count()).group_by(column)).all()
            )

        return LegalSummary(
            referrals=grouped(Referral.status),
            lawsuits=grouped(Lawsuit.stage),
            letters=grouped(sa.func.coalesce(Letter.level, Letter.kind)),
        )


def load_legal(anchor: date) -> LegalSummary:
    """Add the demo legal work (once: nothing when a lawsuit or a letter exists, or without
    the demo recovery work)."""
    if db.session.scalar(sa.select(sa.func.count(Lawsuit.id))) or db.session.scalar(
        sa.select(sa.func.count(Letter.id))
    ):
        return LegalSummary(skipped="lawsuits or letters exist already")
    if not db.session.scalar(sa.select(sa.func.count(RecoveryCase.id))):
        return LegalSummary(skipped="there is no recovery work")
    return DemoLegal(anchor).load()
