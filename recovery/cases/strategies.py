"""Strategies (第十六条 to 第十九条): the proposal, each kind's record, its approval chain and
its completion (DOMAIN §4).

Approval chains: a secured arrangement, a settlement in kind, a debt transfer and an
intra-group netting go draft → finance review (role finance) → legal review (role legal) →
leader approval (role executive) → approved. Each step approves, rejects (with a reason:
final) or sends back (with a reason: the strategy returns to draft, the proposer fixes it and
submits again, and the chain starts over). Cash collection and litigation need no chain:
they are approved when recorded (litigation itself goes to legal by the case's referral).

Four eyes: nobody decides on a strategy they proposed or submitted, a step needs its role,
and one person decides at most one step of a submission.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from recovery.cases import queries
from recovery.cases.errors import CaseError, check_version, flush_checked
from recovery.cases.labels import STEP_LABELS, STRATEGY_KIND_LABELS
from recovery.cases.models import (
    STRATEGY_KINDS,
    ApprovalDecision,
    Collateral,
    RecoveryCase,
    Strategy,
)
from recovery.core.money import display_amount, from_fen
from recovery.core.permissions import ROLE_LABELS
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger import services as ledger
from recovery.parties.models import Counterparty, Project

CHAIN: tuple[str, ...] = ("finance_review", "legal_review", "leader_approval")
STEP_ROLES = {"finance_review": "finance", "legal_review": "legal", "leader_approval": "executive"}
CHAIN_KINDS = frozenset({"secured", "in_kind", "debt_transfer", "netting"})
DECISIONS = ("approved", "rejected", "sent_back")
# The record each kind keeps (editable while a draft).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "cash_collection": (),
    "litigation": (),
    "secured": ("investigation",),
    "in_kind": (
        "appraised_value",
        "appraiser",
        "appraised_on",
        "preservation",
        "title_registration_no",
        "title_registered_on",
        "accepted_value",
    ),
    "debt_transfer": ("transferee", "transfer_price"),
    "netting": ("netting_party", "netting_amount"),
}
# What is carried out after approval (and so still recorded then): the approved terms stay.
EXECUTION_FIELDS: dict[str, tuple[str, ...]] = {
    "in_kind": ("preservation", "title_registration_no", "title_registered_on"),
}
TEXT_FIELDS = frozenset(
    {
        "investigation",
        "appraiser",
        "preservation",
        "title_registration_no",
        "transferee",
        "netting_party",
        "rationale",
    }
)
# The ledger receipt a completion posts: receipt-number prefix and method.
POSTINGS = {"in_kind": ("INK", "in_kind"), "netting": ("OFS", "offset")}

FIELD_LABELS = {
    "investigation": _l("Investigation record"),
    "collateral": _l("Collateral"),
    "appraised_value": _l("Appraised value"),
    "appraiser": _l("Appraiser"),
    "appraised_on": _l("Appraised on"),
    "preservation": _l("Preservation"),
    "title_registration_no": _l("Title transfer registration no."),
    "title_registered_on": _l("Title transfer registered on"),
    "accepted_value": _l("Accepted value"),
    "transferee": _l("Transferee"),
    "transfer_price": _l("Transfer price"),
    "netting_party": _l("Group party"),
    "netting_amount": _l("Netting amount"),
    "rationale": _l("Rationale"),
}


def _text(value) -> str | None:
    return (value or "").strip() or None


# ---------------------------------------------------------------------------------------------
# The proposal (第十六条)


def project_prospects(counterparty_id: int, as_of: date) -> tuple[str | None, object]:
    """The prospects of the projects behind the counterparty's open debts, weighted by what is
    outstanding on each (good when good-prospect projects carry at least half). Without open
    debts on projects: the projects where the counterparty is the employer, by count. Without
    either: unknown (None). Returns (prospects, the basis as the user reads it)."""
    b = ledger_queries.outstanding_items(
        as_of, ledger_queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    projects = Project.__table__
    rows = db.session.execute(
        sa.select(projects.c.prospects, sa.func.sum(b.c.outstanding_fen))
        .join(projects, projects.c.id == b.c.project_id)
        .where(b.c.outstanding_fen > 0)
        .group_by(projects.c.prospects)
    ).all()
    by_prospects = {row[0]: int(row[1] or 0) for row in rows}
    total = sum(by_prospects.values())
    if total:
        good = by_prospects.get("good", 0)
        basis = _l(
            "projects of its open debts: %(good)s of %(total)s outstanding on projects with "
            "good prospects",
            good=display_amount(from_fen(good)),
            total=display_amount(from_fen(total)),
        )
        return ("good" if good * 2 >= total else "poor"), basis
    rows = db.session.execute(
        sa.select(projects.c.prospects, sa.func.count())
        .where(projects.c.employer_id == counterparty_id, projects.c.active.is_(True))
        .group_by(projects.c.prospects)
    ).all()
    counts = {row[0]: int(row[1]) for row in rows}
    total = sum(counts.values())
    if total:
        good = counts.get("good", 0)
        basis = _l(
            "projects where it is the employer: %(good)s of %(total)s with good prospects",
            good=good,
            total=total,
        )
        return ("good" if good * 2 >= total else "poor"), basis
    return None, _l("no project known")


def propose_strategy(counterparty: Counterparty, as_of: date) -> tuple[str, object]:
    """(kind, reason) from the counterparty's financial status, business status and project
    prospects, citing the rule (DOMAIN §4's table, in its order). Bad faith (an open case
    whose cause is wilful default) or nothing else fitting → litigation, the user's call."""
    case = queries.open_case_for(counterparty.id)
    if case is not None and case.cause == "wilful_default":
        return "litigation", _l(
            "Art. 20 (第二十条): the cause of arrears is wilful default (bad faith) → legal "
            "means; whether to sue is your decision."
        )
    if counterparty.financial_status == "good":
        return "cash_collection", _l(
            "Art. 16 (第十六条): the debtor's funds are good → press for payment in cash "
            "(cash collection)."
        )
    prospects, basis = project_prospects(counterparty.id, as_of)
    if prospects == "good":
        return "secured", _l(
            "Art. 16 (第十六条): funds are poor but the project prospects are good (%(basis)s) "
            "→ a secured arrangement after investigation, review by finance and legal and the "
            "leader's approval.",
            basis=basis,
        )
    if counterparty.business_status == "poor":
        return "in_kind", _l(
            "Art. 16 (第十六条): funds are poor and the business is doing badly → settlement "
            "in kind, with appraisal, preservation and title transfer registration."
        )
    return "litigation", _l(
        "Art. 16 (第十六条): funds are poor, the business is normal and the project prospects "
        "are poor or unknown (%(basis)s): none of the amicable ways fits → legal means "
        "(Art. 20); whether to sue is your decision.",
        basis=basis,
    )


# ---------------------------------------------------------------------------------------------
# Recording and the record


def live_strategy(case_id: int, kind: str) -> Strategy | None:
    return db.session.scalar(
        sa.select(Strategy).where(
            Strategy.case_id == case_id,
            Strategy.kind == kind,
            Strategy.status.in_(queries.LIVE_STRATEGY_STATUSES),
        )
    )


def record_strategy(
    case: RecoveryCase, kind: str, rationale: str | None, *, actor, as_of: date
) -> Strategy:
    """Record the chosen strategy beside the system's proposal; choosing another kind needs
    the rationale. Kinds without an approval chain are approved at once."""
    if case.status == "closed":
        raise CaseError(_l("The case is closed."))
    if kind not in STRATEGY_KINDS:
        raise CaseError(_l("Choose a strategy."), field="kind")
    if live_strategy(case.id, kind) is not None:
        raise CaseError(
            _l(
                "The case already has a %(kind)s strategy in play; complete or cancel it first.",
                kind=STRATEGY_KIND_LABELS[kind],
            ),
            field="kind",
        )
    proposed_kind, reason = propose_strategy(case.counterparty, as_of)
    rationale = _text(rationale)
    if kind != proposed_kind and rationale is None:
        raise CaseError(
            _l("You chose another strategy than the one proposed: give your rationale."),
            field="rationale",
        )
    needs_chain = kind in CHAIN_KINDS
    strategy = Strategy(
        case_id=case.id,
        kind=kind,
        proposed_kind=proposed_kind,
        proposal_reason=str(reason)[:500],
        rationale=rationale,
        status="draft" if needs_chain else "approved",
        proposed_by_id=actor.id,
    )
    db.session.add(strategy)
    db.session.flush()
    return strategy


def editable_fields(strategy: Strategy) -> tuple[str, ...]:
    """The record fields that may change now: the whole record while a draft, what is
    carried out after approval once approved, nothing otherwise."""
    if strategy.status == "draft":
        return (*KIND_FIELDS[strategy.kind], "rationale")
    if strategy.status == "approved":
        return EXECUTION_FIELDS.get(strategy.kind, ())
    return ()


def _check_record(strategy: Strategy, today: date) -> None:
    for name in ("appraised_value", "accepted_value", "transfer_price", "netting_amount"):
        value = getattr(strategy, name)
        if value is not None and value <= 0:
            raise CaseError(_l("The amount must be more than zero."), field=name)
    for name in ("appraised_on", "title_registered_on"):
        value = getattr(strategy, name)
        if value is not None and value > today:
            raise CaseError(_l("The date is in the future."), field=name)
    if (
        strategy.accepted_value is not None
        and strategy.appraised_value is not None
        and strategy.accepted_value > strategy.appraised_value
    ):
        raise CaseError(
            _l("The accepted value cannot exceed the appraised value."), field="accepted_value"
        )
    if strategy.kind != strategy.proposed_kind and strategy.rationale is None:
        raise CaseError(
            _l("You chose another strategy than the one proposed: give your rationale."),
            field="rationale",
        )


def update_strategy(strategy: Strategy, *, version, actor, today: date, **values) -> Strategy:
    """Change the kind's record (draft), or record its execution (approved settlement in
    kind: preservation, title transfer registration). Refused from an old form."""
    allowed = editable_fields(strategy)
    if not allowed:
        raise CaseError(_l("This strategy can no longer be changed."))
    check_version(strategy, version)
    changing = {k: v for k, v in values.items() if getattr(strategy, k) != v}
    refused = sorted(set(changing) - set(allowed))
    if refused:
        raise CaseError(
            _l("Approved terms cannot change: send it back or record a new strategy."),
            field=refused[0],
        )
    for key, value in changing.items():
        setattr(strategy, key, _text(value) if key in TEXT_FIELDS else value)
    _check_record(strategy, today)
    flush_checked(strategy)
    return strategy


def add_collateral(
    strategy: Strategy,
    *,
    kind: str,
    asset: str,
    value: Decimal,
    registration_no: str | None = None,
    registered_on: date | None = None,
    registry_office: str | None = None,
    today: date,
) -> Collateral:
    """A mortgage, pledge or guarantee under a draft secured arrangement."""
    if strategy.kind != "secured":
        raise CaseError(_l("Only a secured arrangement takes collateral."))
    if strategy.status != "draft":
        raise CaseError(_l("Collateral is added while the arrangement is a draft."))
    if kind not in ("mortgage", "pledge", "guarantee"):
        raise CaseError(_l("Choose mortgage, pledge or guarantee."), field="kind")
    asset = _text(asset)
    if asset is None:
        raise CaseError(_l("Describe the asset or the guarantor."), field="asset")
    if value is None or value <= 0:
        raise CaseError(_l("The value must be more than zero."), field="value")
    if registered_on is not None and registered_on > today:
        raise CaseError(_l("The date is in the future."), field="registered_on")
    line = Collateral(
        strategy_id=strategy.id,
        kind=kind,
        asset=asset,
        value=value,
        registration_no=_text(registration_no),
        registered_on=registered_on,
        registry_office=_text(registry_office),
    )
    db.session.add(line)
    db.session.flush()
    return line


def register_collateral(
    line: Collateral,
    *,
    registration_no: str | None,
    registered_on: date | None,
    registry_office: str | None,
    today: date,
) -> Collateral:
    """Record a collateral line's registration (while a draft, or once approved)."""
    if line.strategy.status not in ("draft", "approved") or not line.active:
        raise CaseError(_l("This collateral can no longer be changed."))
    if registered_on is not None and registered_on > today:
        raise CaseError(_l("The date is in the future."), field="registered_on")
    line.registration_no = _text(registration_no)
    line.registered_on = registered_on
    line.registry_office = _text(registry_office)
    db.session.flush()
    return line


def withdraw_collateral(line: Collateral) -> Collateral:
    """Take a line off a draft arrangement (kept, marked inactive: nothing is deleted)."""
    if line.strategy.status != "draft" or not line.active:
        raise CaseError(_l("This collateral can no longer be changed."))
    line.active = False
    db.session.flush()
    return line


# ---------------------------------------------------------------------------------------------
# The approval chain


def _outstanding(strategy: Strategy, as_of: date) -> Decimal:
    return queries.counterparty_position(strategy.case.counterparty_id, as_of).outstanding


def _check_amount_room(strategy: Strategy, amount: Decimal | None, field: str, as_of: date):
    if amount is None or amount <= 0:
        raise CaseError(_l("The amount must be more than zero."), field=field)
    outstanding = _outstanding(strategy, as_of)
    if amount > outstanding:
        raise CaseError(
            _l(
                "%(amount)s is more than the counterparty owes as of %(date)s (%(outstanding)s).",
                amount=display_amount(amount),
                date=as_of.isoformat(),
                outstanding=display_amount(outstanding),
            ),
            field=field,
        )


def missing_for_submission(strategy: Strategy) -> list[str]:
    """The record fields the reviewers need and the strategy lacks."""
    required = {
        "secured": ("investigation",),
        "in_kind": ("appraised_value", "appraiser", "appraised_on", "accepted_value"),
        "debt_transfer": ("transferee", "transfer_price"),
        "netting": ("netting_party", "netting_amount"),
    }.get(strategy.kind, ())
    missing = [name for name in required if getattr(strategy, name) in (None, "")]
    if strategy.kind == "secured" and not any(line.active for line in strategy.collateral):
        missing.append("collateral")
    return missing


def submit_strategy(strategy: Strategy, *, version, actor, as_of: date) -> Strategy:
    """Send a draft into its approval chain, at the first step."""
    if strategy.kind not in CHAIN_KINDS:
        raise CaseError(_l("This strategy needs no approval."))
    if strategy.status != "draft":
        raise CaseError(_l("Only a draft can be submitted."))
    if strategy.case.status == "closed":
        raise CaseError(_l("The case is closed."))
    check_version(strategy, version, typed=False)
    missing = missing_for_submission(strategy)
    if missing:
        raise CaseError(
            _l(
                "Record these first: %(fields)s.",
                fields=", ".join(str(FIELD_LABELS[m]) for m in missing),
            )
        )
    if strategy.kind == "in_kind":
        _check_amount_room(strategy, strategy.accepted_value, "accepted_value", as_of)
    if strategy.kind == "netting":
        _check_amount_room(strategy, strategy.netting_amount, "netting_amount", as_of)
    strategy.status = "pending"
    strategy.step = CHAIN[0]
    strategy.submitted_at = utcnow()
    db.session.add(
        ApprovalDecision(
            strategy=strategy, step=CHAIN[0], decision="submitted", decided_by_id=actor.id
        )
    )
    flush_checked(strategy)
    return strategy


def _last_submission_id(strategy_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.max(ApprovalDecision.id)).where(
                ApprovalDecision.strategy_id == strategy_id,
                ApprovalDecision.decision == "submitted",
            )
        )
        or 0
    )


def refusal_to_decide(strategy: Strategy, user) -> object | None:
    """Why ``user`` may not decide the strategy's current step (None: they may)."""
    if strategy.status != "pending" or strategy.step not in STEP_ROLES:
        return _l("This strategy is not awaiting a decision.")
    if strategy.proposed_by_id == user.id:
        return _l("Nobody decides on a strategy they proposed.")
    role = STEP_ROLES[strategy.step]
    if not user.has_role(role):
        return _l(
            "The %(step)s step needs the %(role)s role.",
            step=STEP_LABELS[strategy.step],
            role=ROLE_LABELS[role],
        )
    acted = db.session.scalar(
        sa.select(ApprovalDecision.decision)
        .where(
            ApprovalDecision.strategy_id == strategy.id,
            ApprovalDecision.decided_by_id == user.id,
            ApprovalDecision.id >= _last_submission_id(strategy.id),
        )
        .order_by(ApprovalDecision.id)
        .limit(1)
    )
    if acted == "submitted":
        return _l("Nobody decides on a strategy they submitted.")
    if acted is not None:
        return _l("You decided an earlier step of this submission: each step needs another person.")
    return None


def decide_strategy(
    strategy: Strategy, decision: str, reason: str | None, *, version, actor
) -> ApprovalDecision:
    """Approve the current step (the next one follows; after the last, approved), reject
    (final) or send back (to draft, for the proposer to fix and submit again)."""
    refusal = refusal_to_decide(strategy, actor)
    if refusal is not None:
        raise CaseError(refusal)
    check_version(strategy, version)
    if decision not in DECISIONS:
        raise CaseError(_l("Choose approve, reject or send back."), field="decision")
    reason = _text(reason)
    if decision != "approved" and reason is None:
        raise CaseError(_l("Give the reason."), field="reason")
    step = strategy.step
    row = ApprovalDecision(
        strategy=strategy, step=step, decision=decision, reason=reason, decided_by_id=actor.id
    )
    db.session.add(row)
    if decision == "approved":
        position = CHAIN.index(step)
        if position + 1 < len(CHAIN):
            strategy.step = CHAIN[position + 1]
        else:
            strategy.status, strategy.step = "approved", None
    elif decision == "rejected":
        strategy.status, strategy.step = "rejected", None
    else:
        strategy.status, strategy.step = "draft", None
    flush_checked(strategy)
    return row


def pending_approvals_for(user):
    """A SELECT of the strategies waiting at a step ``user``'s roles decide, which they did
    not propose, submit, or decide an earlier step of (this submission); oldest first."""
    steps = [step for step, role in STEP_ROLES.items() if user.has_role(role)]
    last_submission = (
        sa.select(sa.func.max(ApprovalDecision.id))
        .where(
            ApprovalDecision.strategy_id == Strategy.id,
            ApprovalDecision.decision == "submitted",
        )
        .correlate(Strategy)
        .scalar_subquery()
    )
    involved = (
        sa.select(ApprovalDecision.id)
        .where(
            ApprovalDecision.strategy_id == Strategy.id,
            ApprovalDecision.decided_by_id == user.id,
            ApprovalDecision.id >= last_submission,
        )
        .correlate(Strategy)
        .exists()
    )
    return (
        sa.select(Strategy)
        .where(
            Strategy.status == "pending",
            Strategy.step.in_(steps),
            Strategy.proposed_by_id != user.id,
            ~involved,
        )
        .order_by(Strategy.submitted_at, Strategy.id)
    )


# ---------------------------------------------------------------------------------------------
# Completion and cancellation


def complete_strategy(strategy: Strategy, *, version, actor, today: date) -> Strategy:
    """Carry out an approved strategy. A settlement in kind needs its appraisal and title
    transfer registration and posts the accepted value as a receipt of method in_kind, dated
    the registration; a netting posts its amount as a receipt of method offset, dated today.
    Both go through the ledger's normal path (allocation included), by finance. A secured
    arrangement needs its mortgages and pledges registered."""
    if strategy.status != "approved":
        raise CaseError(_l("Only an approved strategy can be completed."))
    check_version(strategy, version, typed=False)
    case = strategy.case
    if strategy.kind in POSTINGS:
        if not actor.has_role("finance"):
            raise CaseError(_l("Finance posts the receipt: a finance user completes this."))
        if strategy.kind == "in_kind":
            missing = [
                str(FIELD_LABELS[name])
                for name in (
                    "appraised_value",
                    "appraiser",
                    "appraised_on",
                    "title_registration_no",
                    "title_registered_on",
                )
                if getattr(strategy, name) in (None, "")
            ]
            if missing:
                raise CaseError(_l("Record these first: %(fields)s.", fields=", ".join(missing)))
            amount, dated = strategy.accepted_value, strategy.title_registered_on
            reference = f"{case.number} {strategy.title_registration_no}"
            field = "accepted_value"
        else:
            amount, dated = strategy.netting_amount, today
            reference = f"{case.number} {strategy.netting_party}"
            field = "netting_amount"
        if dated > today:
            raise CaseError(_l("The date is in the future."), field="title_registered_on")
        _check_amount_room(strategy, amount, field, dated)
        prefix, method = POSTINGS[strategy.kind]
        try:
            receipt = ledger.create_receipt(
                receipt_no=f"{prefix}-{strategy.id}",
                counterparty_id=case.counterparty_id,
                amount=amount,
                received_on=dated,
                method=method,
                reference=reference[:200],
                item_id=None,
            )
        except ledger.LedgerError as error:
            raise CaseError(error.message) from error
        strategy.receipt_id = receipt.id
    elif strategy.kind == "secured":
        unregistered = [
            line.asset
            for line in strategy.collateral
            if line.active
            and line.kind in ("mortgage", "pledge")
            and not (line.registration_no and line.registered_on)
        ]
        if unregistered:
            raise CaseError(_l("Register these first: %(assets)s.", assets=", ".join(unregistered)))
    strategy.status = "completed"
    strategy.completed_at = utcnow()
    flush_checked(strategy)
    return strategy


def cancel_strategy(strategy: Strategy, *, version, actor) -> Strategy:
    """Withdraw a strategy not yet completed (kept, marked cancelled)."""
    if strategy.status not in queries.LIVE_STRATEGY_STATUSES:
        raise CaseError(_l("This strategy can no longer be cancelled."))
    if strategy.proposed_by_id != actor.id and not actor.has_role("supervisor"):
        raise CaseError(_l("Only its proposer or a supervisor cancels a strategy."))
    check_version(strategy, version, typed=False)
    strategy.status, strategy.step = "cancelled", None
    flush_checked(strategy)
    return strategy
