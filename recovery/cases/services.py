"""Recovery cases (清欠案件): opening, editing, assignment, the status flow and closing,
the field-visit hand-over and extension requests (DOMAIN §4, §6).

Every function takes plain values and the acting user; none touches the request. A refusal
is a CaseError with a translated reason (and the field at fault). Changes go through the
ORM session, so the audit trail records them; saves from an old form are refused (optimistic
locking, ``version``).

The strategy functions live in recovery.cases.strategies and are re-exported here, with the
progress and proposal reads, under the names the other parts of the application use.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from recovery.auth.models import User
from recovery.cases import queries
from recovery.cases.errors import CaseError, StaleEdit, check_version, flush_checked
from recovery.cases.models import CAUSES, ExtensionRequest, RecoveryCase, Strategy
from recovery.cases.queries import case_progress
from recovery.cases.strategies import pending_approvals_for, propose_strategy
from recovery.core.money import display_amount
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.parties.models import Counterparty
from recovery.settings.services import get_setting

__all__ = [
    "CaseError",
    "StaleEdit",
    "assign_case",
    "case_progress",
    "close_case",
    "decide_extension",
    "open_case",
    "pending_approvals_for",
    "proposals",
    "propose_strategy",
    "record_first_action",
    "refer_case",
    "request_extension",
    "request_visit",
    "start_case",
    "update_case",
]

# Who may work a case as its collector.
COLLECTOR_ROLES = ("sales", "supervisor")
EDITABLE_FIELDS = ("cause", "cause_note", "target_amount", "target_date", "plan")


def _text(value) -> str | None:
    return (value or "").strip() or None


def _require_open(case: RecoveryCase) -> None:
    if case.status == "closed":
        raise CaseError(_l("The case is closed."))


def _touch(case: RecoveryCase, actor) -> None:
    case.updated_by_id = actor.id if actor is not None else None


# ---------------------------------------------------------------------------------------------
# Proposals


def proposals(as_of: date, *, visible_to: int | None = None) -> list[queries.ProposalRow]:
    """Counterparties crossing the settings cases.propose_overdue_amount (overdue amount, at
    least) or cases.propose_overdue_days (oldest overdue item, days past due, at least) as of
    the date, without an open case; largest overdue first."""
    min_overdue, min_days = proposal_thresholds()
    query = queries.proposals_query(as_of, min_overdue, min_days, visible_to)
    return queries.proposal_rows(query, as_of, min_overdue, min_days)


def proposal_thresholds() -> tuple[Decimal, int]:
    return get_setting("cases.propose_overdue_amount"), get_setting("cases.propose_overdue_days")


def _is_proposed(counterparty_id: int, as_of: date) -> bool:
    query = queries.proposals_query(as_of, *proposal_thresholds(), counterparty_id=counterparty_id)
    return db.session.execute(query).first() is not None


# ---------------------------------------------------------------------------------------------
# Opening and editing


def _next_number(opened_on: date) -> str:
    """RC-<year>-<serial>: the serial follows the highest id so far (gaps are harmless)."""
    last = db.session.scalar(sa.select(sa.func.max(RecoveryCase.id))) or 0
    return f"RC-{opened_on.year}-{last + 1:05d}"


def _check_cause(cause: str) -> None:
    if cause not in CAUSES:
        raise CaseError(_l("Choose a cause of arrears."), field="cause")


def _check_target(target_amount: Decimal | None, target_date: date | None, today: date) -> None:
    if target_amount is not None and target_amount <= 0:
        raise CaseError(_l("The target must be more than zero."), field="target_amount")
    if target_date is not None and target_date < today:
        raise CaseError(_l("The target date is in the past."), field="target_date")


def _collector(assignee_id: int | None) -> User | None:
    if assignee_id is None:
        return None
    user = db.session.get(User, assignee_id)
    if user is None or not user.active or not user.has_role(*COLLECTOR_ROLES):
        raise CaseError(
            _l("Assign the case to an active sales user or supervisor."), field="assignee_id"
        )
    return user


def open_case(
    counterparty: Counterparty,
    *,
    actor,
    today: date,
    cause: str = "other",
    cause_note: str | None = None,
    target_amount: Decimal | None = None,
    target_date: date | None = None,
    plan: str | None = None,
    opening_reason: str | None = None,
    assignee_id: int | None = None,
    origin: str = "manual",
) -> RecoveryCase:
    """Open a case for a counterparty: at most one open case each; a counterparty with
    nothing overdue today needs the reason for opening one. A supervisor may assign anybody
    who collects; a sales user opening a case becomes its collector."""
    existing = queries.open_case_for(counterparty.id)
    if existing is not None:
        raise CaseError(
            _l(
                "%(code)s already has an open case, %(no)s.",
                code=counterparty.code,
                no=existing.number,
            )
        )
    _check_cause(cause)
    _check_target(target_amount, target_date, today)
    position = queries.counterparty_position(counterparty.id, today)
    opening_reason = _text(opening_reason)
    if position.overdue <= 0 and opening_reason is None:
        raise CaseError(
            _l(
                "Nothing of %(code)s is overdue today: give the reason for opening a case.",
                code=counterparty.code,
            ),
            field="opening_reason",
        )
    if origin not in ("manual", "proposed", "imported"):
        raise CaseError(_l("Unknown origin."))
    if origin == "proposed" and not _is_proposed(counterparty.id, today):
        raise CaseError(
            _l("%(code)s is not among the automatic proposals today.", code=counterparty.code)
        )
    is_supervisor = actor is not None and actor.has_role("supervisor")
    if assignee_id is not None and not is_supervisor and assignee_id != actor.id:
        raise CaseError(
            _l("Only a supervisor assigns a case to somebody else."), field="assignee_id"
        )
    if assignee_id is None and actor is not None and not is_supervisor:
        assignee_id = actor.id if actor.has_role("sales") else None
    collector = _collector(assignee_id)
    now = utcnow()
    case = RecoveryCase(
        number=_next_number(today),
        counterparty_id=counterparty.id,
        status="open",
        origin=origin,
        cause=cause,
        cause_note=_text(cause_note),
        opening_reason=opening_reason,
        target_amount=target_amount,
        target_date=target_date,
        plan=_text(plan),
        opened_on=today,
        opened_at=now,
        opened_by_id=actor.id if actor else None,
        assignee_id=collector.id if collector else None,
        assigned_at=now if collector else None,
        assigned_by_id=actor.id if (collector and actor) else None,
        updated_by_id=actor.id if actor else None,
    )
    db.session.add(case)
    try:
        db.session.flush()
    except IntegrityError as error:
        # Another user opened one for the same counterparty a moment ago: the unique partial
        # index (one case not closed per counterparty) or the case number refused this one.
        raise CaseError(
            _l(
                "%(code)s already has an open case (just opened by somebody else).",
                code=counterparty.code,
            )
        ) from error
    return case


def update_case(case: RecoveryCase, *, version, actor, today: date, **values) -> RecoveryCase:
    """Change cause, target, deadline and plan; a save from an old form is refused."""
    _require_open(case)
    check_version(case, version)
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "cause" in values:
        _check_cause(values["cause"])
    new_date = values.get("target_date", case.target_date)
    _check_target(
        values.get("target_amount", case.target_amount),
        new_date if new_date != case.target_date else None,
        today,
    )
    for key in ("cause_note", "plan"):
        if key in values:
            values[key] = _text(values[key])
    for key, value in values.items():
        setattr(case, key, value)
    _touch(case, actor)
    flush_checked(case)
    return case


# ---------------------------------------------------------------------------------------------
# Assignment and the status flow


def assign_case(case: RecoveryCase, assignee_id: int | None, *, version, actor) -> RecoveryCase:
    """A supervisor assigns the collector; the service-level clocks start from assigned_at."""
    if actor is None or not actor.has_role("supervisor"):
        raise CaseError(_l("Only a supervisor assigns cases."))
    _require_open(case)
    check_version(case, version, typed=False)
    collector = _collector(assignee_id)
    if collector is None:
        raise CaseError(_l("Choose the collector."), field="assignee_id")
    if collector.id == case.assignee_id:
        raise CaseError(
            _l("The case is already assigned to %(name)s.", name=collector.display_name),
            field="assignee_id",
        )
    case.assignee_id = collector.id
    case.assigned_at = utcnow()
    case.assigned_by_id = actor.id
    _touch(case, actor)
    flush_checked(case)
    return case


def start_case(case: RecoveryCase, *, version, actor) -> RecoveryCase:
    """open → in progress, by hand (the first activity does it on its own)."""
    check_version(case, version, typed=False)
    if case.status != "open":
        raise CaseError(_l("Only an open case can be started."))
    case.status = "in_progress"
    _touch(case, actor)
    flush_checked(case)
    return case


def record_first_action(case: RecoveryCase, at: datetime, actor=None) -> None:
    """The first action on the case (an activity) stops the first-action clock and moves an
    open case into progress. Later actions change nothing here."""
    changed = False
    if case.first_action_at is None:
        case.first_action_at = at
        changed = True
    if case.status == "open":
        case.status = "in_progress"
        changed = True
    if changed and actor is not None:
        _touch(case, actor)


def refer_case(case: RecoveryCase, note: str, *, version, actor) -> RecoveryCase:
    """Refer the case to legal for litigation (第二十条), with a note for legal."""
    check_version(case, version)
    if case.status not in ("open", "in_progress"):
        raise CaseError(_l("Only an open case or one in progress can be referred."))
    note = _text(note)
    if note is None:
        raise CaseError(_l("Say what legal should know: the note is required."), field="note")
    case.status = "referred"
    case.referred_at = utcnow()
    case.referred_by_id = actor.id if actor else None
    case.referral_note = note
    _touch(case, actor)
    flush_checked(case)
    return case


def close_case(
    case: RecoveryCase, outcome: str, note: str | None, *, version, actor, today: date
) -> RecoveryCase:
    """Close with an outcome that the records bear out:
    recovered — nothing outstanding today, or a note saying why the case ends anyway;
    written off — a note (the write-off itself is a ledger adjustment, approved there);
    settled in kind — a completed settlement-in-kind strategy on the case.
    A case with a strategy awaiting approval cannot close."""
    _require_open(case)
    check_version(case, version)
    note = _text(note)
    strategies = db.session.scalars(sa.select(Strategy).where(Strategy.case_id == case.id)).all()
    if any(s.status == "pending" for s in strategies):
        raise CaseError(_l("A strategy is awaiting approval: decide or cancel it first."))
    if outcome == "recovered":
        outstanding = queries.counterparty_position(case.counterparty_id, today).outstanding
        if outstanding > 0 and note is None:
            raise CaseError(
                _l(
                    "%(amount)s is still outstanding: say why the case ends as recovered.",
                    amount=display_amount(outstanding),
                ),
                field="note",
            )
    elif outcome == "written_off":
        if note is None:
            raise CaseError(
                _l("Give the reason and the write-off documents' numbers."), field="note"
            )
    elif outcome == "settled_in_kind":
        if not any(s.kind == "in_kind" and s.status == "completed" for s in strategies):
            raise CaseError(
                _l("Settled in kind needs a completed settlement-in-kind strategy on the case."),
                field="outcome",
            )
    else:
        raise CaseError(_l("Choose the outcome."), field="outcome")
    case.status = "closed"
    case.outcome = outcome
    case.closed_at = utcnow()
    case.closed_by_id = actor.id if actor else None
    case.closing_note = note
    _touch(case, actor)
    flush_checked(case)
    return case


def request_visit(case: RecoveryCase, *, version, actor) -> RecoveryCase:
    """Phone collection hands the case to a field visit: the visit clock (DOMAIN §6) starts."""
    _require_open(case)
    check_version(case, version, typed=False)
    case.visit_requested_at = utcnow()
    _touch(case, actor)
    flush_checked(case)
    return case


# ---------------------------------------------------------------------------------------------
# Extension requests (DOMAIN §6)


def pending_extension(case_id: int) -> ExtensionRequest | None:
    return db.session.scalar(
        sa.select(ExtensionRequest).where(
            ExtensionRequest.case_id == case_id, ExtensionRequest.status == "pending"
        )
    )


def request_extension(
    case: RecoveryCase, *, reason: str, next_plan: str, until_on: date | None, actor, today: date
) -> ExtensionRequest:
    """Ask for more time for the field visit: the reason, the next plan and until when."""
    _require_open(case)
    reason, next_plan = _text(reason), _text(next_plan)
    if reason is None:
        raise CaseError(_l("Give the reason."), field="reason")
    if next_plan is None:
        raise CaseError(_l("Give the next plan."), field="next_plan")
    if until_on is None:
        raise CaseError(_l("Enter a date."), field="until_on")
    if until_on <= today:
        raise CaseError(_l("The new date must be after today."), field="until_on")
    if pending_extension(case.id) is not None:
        raise CaseError(_l("An extension request for this case already awaits a decision."))
    request = ExtensionRequest(
        case_id=case.id,
        requested_by_id=actor.id,
        reason=reason,
        next_plan=next_plan,
        until_on=until_on,
        status="pending",
    )
    db.session.add(request)
    db.session.flush()
    return request


def decide_extension(
    request: ExtensionRequest, *, approve: bool, note: str | None, actor
) -> ExtensionRequest:
    """A supervisor other than the requester approves or rejects (a rejection says why)."""
    if request.status != "pending":
        raise CaseError(_l("This request was already decided."))
    if actor is None or not actor.has_role("supervisor"):
        raise CaseError(_l("Only a supervisor decides extension requests."))
    if request.requested_by_id == actor.id:
        raise CaseError(_l("Nobody decides on their own request."))
    note = _text(note)
    if not approve and note is None:
        raise CaseError(_l("Give the reason for the rejection."), field="note")
    request.status = "approved" if approve else "rejected"
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.decision_note = note
    db.session.flush()
    return request
