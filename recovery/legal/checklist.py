"""The evidence package of a referral and the checklist legal requires per claim type.

The package is what the system already holds about the claim — the items claimed and their
contracts, the receipts, the activities (balance confirmations are activities of kind
``confirmation``; a demand counts as served only with proof of arrival), the statement of
account, the files uploaded on the counterparty's activities and cases — plus the files
attached to the referral, each with the kind of evidence it is.

A requirement is met by a file of one of its kinds attached to the referral, or by what the
system holds where that can stand for it (contract records for every item claimed, a balance
confirmation or a demand served recorded as an activity). When legal returns a referral
naming kinds of evidence, each becomes a requirement met only by a file of that kind attached
after the return. The checklists are written out in docs/legal.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from recovery.activities.models import Activity, EvidenceFile
from recovery.core.money import from_fen
from recovery.extensions import db
from recovery.ledger.models import Item, Receipt
from recovery.legal.labels import EVIDENCE_KIND_LABELS
from recovery.legal.models import Referral, ReferralDecision, ReferralDocument, ReferralItem
from recovery.parties.models import Contract


@dataclass(frozen=True)
class Requirement:
    key: str
    label: object
    kinds: tuple[str, ...]  # attached files of these kinds meet it
    # What the system holds that meets it: contracts | confirmation | demand.
    system: str | None = None


CONTRACT = Requirement(
    "contract", _l("The contract (合同) of every item claimed"), ("contract",), "contracts"
)
DELIVERY = Requirement(
    "delivery", _l("Delivery notes or receipts of goods signed by the buyer"), ("delivery",)
)
INVOICE = Requirement("invoice", _l("Invoices issued"), ("invoice",))
SETTLEMENT = Requirement(
    "settlement",
    _l("Settlement, progress confirmation or completion acceptance (结算/进度确认)"),
    ("settlement",),
)
AMOUNT_CONFIRMED = Requirement(
    "amount_confirmed",
    _l("The debtor's confirmation of the amount: a balance confirmation or a signed settlement"),
    ("balance_confirmation", "settlement"),
    "confirmation",
)
DEMAND = Requirement(
    "demand",
    _l("A demand for payment served, with proof that it arrived"),
    ("demand",),
    "demand",
)
BASIS = Requirement(
    "basis",
    _l("The basis of the debt: a contract, guarantee or other document"),
    ("contract", "guarantee", "other"),
    "contracts",
)

CHECKLISTS: dict[str, tuple[Requirement, ...]] = {
    "sale_of_goods": (CONTRACT, DELIVERY, INVOICE, AMOUNT_CONFIRMED, DEMAND),
    "construction": (CONTRACT, SETTLEMENT, AMOUNT_CONFIRMED, DEMAND),
    "other": (BASIS, AMOUNT_CONFIRMED),
}


@dataclass
class CheckRow:
    requirement: Requirement
    met: bool
    sources: list[str] = field(default_factory=list)  # what meets it, as shown to the user


@dataclass
class Package:
    """What the referral's evidence package holds, read for one page or one PDF."""

    contracts: list = field(default_factory=list)
    items_without_contract: list[str] = field(default_factory=list)
    confirmations: list = field(default_factory=list)
    demands_served: list = field(default_factory=list)
    demands_without_proof: int = 0
    activity_counts: dict[str, int] = field(default_factory=dict)
    receipts: list = field(default_factory=list)
    receipt_count: int = 0
    receipt_total: object = None
    documents: list = field(default_factory=list)  # ReferralDocument, not withdrawn
    available_files: list = field(default_factory=list)  # EvidenceFile not attached yet
    checklist: list[CheckRow] = field(default_factory=list)

    @property
    def missing(self) -> list[CheckRow]:
        return [row for row in self.checklist if not row.met]

    @property
    def complete(self) -> bool:
        return not self.missing


RECEIPTS_SHOWN = 20


def requested_kinds(referral: Referral) -> list[str]:
    return [k for k in (referral.requested_kinds or "").split(",") if k in EVIDENCE_KIND_LABELS]


def _last_return_at(referral: Referral):
    return db.session.scalar(
        sa.select(sa.func.max(ReferralDecision.decided_at)).where(
            ReferralDecision.referral_id == referral.id, ReferralDecision.decision == "returned"
        )
    )


def requirements_for(referral: Referral) -> list[Requirement]:
    """The claim type's checklist, then what legal asked for when it last returned it."""
    found = list(CHECKLISTS[referral.claim_type])
    for kind in requested_kinds(referral):
        found.append(
            Requirement(
                f"requested:{kind}",
                _l("Asked for by legal: %(kind)s", kind=EVIDENCE_KIND_LABELS[kind]),
                (kind,),
            )
        )
    return found


def claimed_item_ids(referral: Referral) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(ReferralItem.item_id).where(
                ReferralItem.referral_id == referral.id, ReferralItem.claimed.is_(True)
            )
        )
    )


def build_package(referral: Referral) -> Package:
    """The package and its checklist for the referral as it stands."""
    package = Package()
    item_ids = claimed_item_ids(referral)
    cp = referral.counterparty_id

    contract_rows = db.session.execute(
        sa.select(Item.document_no, Contract)
        .outerjoin(Contract, Contract.id == Item.contract_id)
        .where(Item.id.in_(item_ids))
        .order_by(Item.document_no)
    ).all()
    seen = set()
    for document_no, contract in contract_rows:
        if contract is None:
            package.items_without_contract.append(document_no)
        elif contract.id not in seen:
            seen.add(contract.id)
            package.contracts.append(contract)

    package.confirmations = db.session.scalars(
        sa.select(Activity)
        .where(Activity.counterparty_id == cp, Activity.kind == "confirmation")
        .order_by(Activity.occurred_at.desc())
    ).all()
    package.demands_served = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.counterparty_id == cp,
            Activity.kind == "demand",
            Activity.proof_of_arrival.is_not(None),
            Activity.proof_of_arrival != "",
        )
        .order_by(Activity.occurred_at.desc())
    ).all()
    package.activity_counts = dict(
        db.session.execute(
            sa.select(Activity.kind, sa.func.count())
            .where(Activity.counterparty_id == cp)
            .group_by(Activity.kind)
        ).all()
    )
    package.demands_without_proof = package.activity_counts.get("demand", 0) - len(
        package.demands_served
    )

    receipts = Receipt.__table__
    count, total = db.session.execute(
        sa.select(
            sa.func.count(), sa.func.sum(sa.type_coerce(receipts.c.amount, sa.BigInteger))
        ).where(receipts.c.counterparty_id == cp, receipts.c.received_on <= referral.claim_as_of)
    ).one()
    package.receipt_count = int(count or 0)
    package.receipt_total = from_fen(int(total or 0))
    package.receipts = db.session.scalars(
        sa.select(Receipt)
        .where(Receipt.counterparty_id == cp, Receipt.received_on <= referral.claim_as_of)
        .order_by(Receipt.received_on.desc(), Receipt.receipt_no)
        .limit(RECEIPTS_SHOWN)
    ).all()

    package.documents = db.session.scalars(
        sa.select(ReferralDocument)
        .where(ReferralDocument.referral_id == referral.id, ReferralDocument.withdrawn.is_(False))
        .order_by(ReferralDocument.id)
    ).all()
    attached = sa.select(ReferralDocument.evidence_file_id).where(
        ReferralDocument.referral_id == referral.id, ReferralDocument.withdrawn.is_(False)
    )
    package.available_files = db.session.scalars(
        sa.select(EvidenceFile)
        .where(
            EvidenceFile.counterparty_id == cp,
            EvidenceFile.id.not_in(attached),
            # The referral summaries are the package's own output, not evidence for it.
            EvidenceFile.id.not_in(
                sa.select(Referral.summary_file_id).where(Referral.summary_file_id.is_not(None))
            ),
        )
        .order_by(EvidenceFile.uploaded_at.desc())
    ).all()
    package.checklist = _check(referral, package, bool(item_ids))
    return package


def _check(referral: Referral, package: Package, has_items: bool) -> list[CheckRow]:
    returned_at = _last_return_at(referral)
    rows = []
    for requirement in requirements_for(referral):
        row = CheckRow(requirement, False)
        for document in package.documents:
            if document.kind not in requirement.kinds:
                continue
            if requirement.key.startswith("requested:") and (
                returned_at is None or document.added_at <= returned_at
            ):
                continue
            row.sources.append(document.evidence_file.original_name)
        if requirement.system == "contracts" and has_items and not package.items_without_contract:
            row.sources += [contract.number for contract in package.contracts]
        elif requirement.system == "confirmation" and package.confirmations:
            row.sources.append(
                str(_l("%(n)s balance confirmation(s) recorded", n=len(package.confirmations)))
            )
        elif requirement.system == "demand" and package.demands_served:
            row.sources.append(
                str(_l("%(n)s demand(s) served with proof", n=len(package.demands_served)))
            )
        row.met = bool(row.sources)
        rows.append(row)
    return rows
