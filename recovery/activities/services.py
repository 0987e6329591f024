"""Writes and reads of collection work: activities (with evidence and the conduct guard),
visit reviews, promises to pay, disputes, and the panel a case or counterparty page shows.

Functions take plain values and the acting user; none touches the request. They raise
ActivityError (a ValueError with a translated message and the field at fault); the views
re-show the form with it. Times typed by users are in the company's time zone
(BABEL_DEFAULT_TIMEZONE); they are stored as naive UTC like every timestamp.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from recovery.activities import disputes as dispute_queries
from recovery.activities import rules
from recovery.activities.evidence import StagedFile
from recovery.activities.models import (
    ACTIVITY_KINDS,
    DISPUTE_REASONS,
    Activity,
    Dispute,
    EvidenceFile,
    Promise,
)
from recovery.activities.promises import promise_status_rows
from recovery.auth.models import User
from recovery.cases.models import RecoveryCase
from recovery.core.money import display_amount, from_fen
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger import queries
from recovery.ledger import services as ledger_services
from recovery.ledger.models import Item
from recovery.ledger.queries import fen
from recovery.parties.models import Contact, Counterparty
from recovery.settings.services import get_setting

# An activity may be logged a little ahead of the server clock (a phone's clock), no more.
FUTURE_TOLERANCE = timedelta(minutes=5)


class ActivityError(ValueError):
    """A refused change to collection work; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConductWarning(ActivityError):
    """The activity would break a conduct rule (DOMAIN §7) and no reason was given."""

    def __init__(self, warnings: list[str]):
        super().__init__("; ".join(warnings), field="conduct_override_reason")
        self.warnings = warnings


# ---------------------------------------------------------------------------------------------
# Time


def company_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_to_utc(moment: datetime) -> datetime:
    """A naive local (company time zone) moment as naive UTC, the stored form."""
    return moment.replace(tzinfo=company_zone()).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(company_zone()).replace(tzinfo=None)


def company_today() -> date:
    return utc_to_local(utcnow()).date()


def format_local(moment: datetime | None) -> str:
    """A stored (UTC) timestamp as the company's local time, "2025-03-31 14:05"."""
    if moment is None:
        return ""
    return utc_to_local(moment).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------
# Activities


@dataclass
class ActivityInput:
    """What the activity form holds. ``occurred_at`` is local company time, as typed."""

    counterparty_id: int
    kind: str
    occurred_at: datetime
    summary: str
    case_id: int | None = None
    contact_id: int | None = None
    connected: bool = True
    outcome: str | None = None
    next_step: str | None = None
    next_step_on: date | None = None
    proof_of_arrival: str | None = None
    debtor_acknowledged: bool = False
    conduct_override_reason: str | None = None
    promise_amount: Decimal | None = None
    promise_due_on: date | None = None
    promise_note: str | None = None
    files: list[StagedFile] = field(default_factory=list)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def open_case_of(counterparty_id: int) -> RecoveryCase | None:
    """The counterparty's case that is not closed (at most one)."""
    return db.session.scalar(
        sa.select(RecoveryCase).where(
            RecoveryCase.counterparty_id == counterparty_id, RecoveryCase.status != "closed"
        )
    )


def _case_for(counterparty_id: int, case_id: int | None) -> RecoveryCase | None:
    """The case named (it must be the counterparty's), else the counterparty's open case."""
    if case_id is None:
        return open_case_of(counterparty_id)
    case = db.session.get(RecoveryCase, case_id)
    if case is None or case.counterparty_id != counterparty_id:
        raise ActivityError(_l("This case is not the counterparty's."), field="case_id")
    return case


def named_contacts(counterparty_id: int) -> list[Contact]:
    """The debtor's active named contacts: the only people who may be contacted."""
    return db.session.scalars(
        sa.select(Contact)
        .where(Contact.counterparty_id == counterparty_id, Contact.active.is_(True))
        .order_by(Contact.is_primary.desc(), Contact.name)
    ).all()


def _check_contact(values: ActivityInput) -> None:
    if values.contact_id is None:
        if values.kind in rules.CONTACT_REQUIRED_KINDS:
            raise ActivityError(_l("Choose the named contact you reached."), field="contact_id")
        return
    contact = db.session.get(Contact, values.contact_id)
    if contact is None or contact.counterparty_id != values.counterparty_id or not contact.active:
        raise ActivityError(
            _l(
                "Only the debtor or a contact the debtor named may be contacted about the "
                "debt: this person is not one of its active contacts."
            ),
            field="contact_id",
        )


def check_activity(values: ActivityInput, *, now: datetime | None = None) -> list[str]:
    """Refuse what is wrong (ActivityError); return the conduct warnings (may be empty)."""
    if values.kind not in ACTIVITY_KINDS:
        raise ActivityError(_l("Unknown kind of activity."), field="kind")
    if db.session.get(Counterparty, values.counterparty_id) is None:
        raise ActivityError(_l("No such counterparty."), field="counterparty_id")
    case = _case_for(values.counterparty_id, values.case_id)
    if values.case_id is not None and case is not None and case.status == "closed":
        raise ActivityError(_l("This case is closed."), field="case_id")
    now = now or utcnow()
    if local_to_utc(values.occurred_at) > now + FUTURE_TOLERANCE:
        raise ActivityError(_l("An activity cannot be in the future."), field="occurred_at")
    if not (values.summary or "").strip():
        raise ActivityError(_l("Say what happened."), field="summary")
    _check_contact(values)
    day = values.occurred_at.date()
    if values.next_step_on is not None:
        if values.next_step_on < day:
            raise ActivityError(
                _l("The next step cannot be before the activity."), field="next_step_on"
            )
        if not _clean(values.next_step):
            raise ActivityError(_l("Describe the next step."), field="next_step")
    if values.kind == "call" and not values.connected and values.debtor_acknowledged:
        raise ActivityError(
            _l("A call that did not connect cannot carry an acknowledgement."),
            field="debtor_acknowledged",
        )
    _check_promise_part(values, day)
    return conduct_warnings(
        values.counterparty_id, values.kind, values.occurred_at, connected=values.connected
    )


def _check_promise_part(values: ActivityInput, day: date) -> None:
    if values.promise_amount is None and values.promise_due_on is None:
        return
    if values.promise_amount is None:
        raise ActivityError(_l("Enter the amount promised."), field="promise_amount")
    if values.promise_due_on is None:
        raise ActivityError(_l("Enter the date it is promised by."), field="promise_due_on")
    if values.promise_due_on < day:
        raise ActivityError(
            _l("The promised date cannot be before the promise was made."),
            field="promise_due_on",
        )


def connected_calls_on(counterparty_id: int, day: date, *, excluding: int | None = None) -> int:
    """Connected calls logged with this debtor on a local calendar day (any collector)."""
    start = local_to_utc(datetime.combine(day, time()))
    end = local_to_utc(datetime.combine(day + timedelta(days=1), time()))
    query = sa.select(sa.func.count(Activity.id)).where(
        Activity.counterparty_id == counterparty_id,
        Activity.kind == "call",
        Activity.connected.is_(True),
        Activity.occurred_at >= start,
        Activity.occurred_at < end,
    )
    if excluding is not None:
        query = query.where(Activity.id != excluding)
    return db.session.scalar(query) or 0


def conduct_warnings(
    counterparty_id: int, kind: str, occurred_local: datetime, *, connected: bool = True
) -> list[str]:
    """What DOMAIN §7 would say about this contact: outside the contact hours (real-time
    kinds only: calls, visits, meetings, messages), or past the daily limit of connected calls
    with this debtor. Translated, in the user's language: the text is stored as shown."""
    warnings = []
    start, until = get_setting("conduct.contact_from"), get_setting("conduct.contact_until")
    if kind in rules.REAL_TIME_KINDS and not rules.within_contact_hours(
        occurred_local.time(), start, until
    ):
        warnings.append(
            _(
                "%(time)s is outside the contact hours (%(start)s–%(until)s).",
                time=occurred_local.strftime("%H:%M"),
                start=start.strftime("%H:%M"),
                until=until.strftime("%H:%M"),
            )
        )
    if kind == "call" and connected:
        limit = get_setting("conduct.max_calls_per_day")
        earlier = connected_calls_on(counterparty_id, occurred_local.date())
        if earlier + 1 > limit:
            warnings.append(
                _(
                    "This would be connected call no. %(n)s with this debtor on %(day)s; "
                    "the limit is %(limit)s a day.",
                    n=earlier + 1,
                    day=occurred_local.date().isoformat(),
                    limit=limit,
                )
            )
    return warnings


def record_first_action(case: RecoveryCase, at: datetime, actor: User | None = None) -> bool:
    """Tell the cases module that work started on the case (its service-level clock), when
    that module offers ``record_first_action``. Returns whether it was called. The acting
    user is passed on when the function takes one (the case's "changed by")."""
    try:
        from recovery.cases import services as case_services
    except ModuleNotFoundError as error:
        if error.name != "recovery.cases.services":
            raise
        return False
    record = getattr(case_services, "record_first_action", None)
    if record is None:
        return False
    if actor is not None and "actor" in inspect.signature(record).parameters:
        record(case, at, actor=actor)
    else:
        record(case, at)
    return True


def _attach_files(files: list[StagedFile], *, counterparty_id, activity, case_id, actor) -> None:
    for staged in files:
        db.session.add(
            EvidenceFile(
                counterparty_id=counterparty_id,
                activity=activity,
                case_id=case_id,
                original_name=staged.original_name,
                stored_name=staged.stored_name,
                content_type=staged.content_type,
                size=staged.size,
                sha256=staged.sha256,
                uploaded_by_id=actor.id,
            )
        )


def record_activity(values: ActivityInput, *, actor: User, now: datetime | None = None) -> Activity:
    """Save an activity with its files (and a promise, if one was given).

    Refused with ConductWarning when it breaks a conduct rule and no reason is given; with a
    reason, the warning and the reason are stored with it."""
    warnings = check_activity(values, now=now)
    reason = _clean(values.conduct_override_reason)
    if warnings and reason is None:
        raise ConductWarning(warnings)
    case = _case_for(values.counterparty_id, values.case_id)
    with_promise = values.promise_amount is not None
    delivered = values.kind in rules.DELIVERED_KINDS
    proof = _clean(values.proof_of_arrival) if delivered else None
    acknowledged = values.debtor_acknowledged and values.kind in rules.ACKNOWLEDGING_KINDS
    activity = Activity(
        counterparty_id=values.counterparty_id,
        case_id=case.id if case else None,
        kind=values.kind,
        occurred_at=local_to_utc(values.occurred_at),
        user_id=actor.id,
        contact_id=values.contact_id,
        connected=values.connected if values.kind == "call" else True,
        summary=values.summary.strip(),
        outcome=_clean(values.outcome),
        next_step=_clean(values.next_step),
        next_step_on=values.next_step_on,
        proof_of_arrival=proof,
        interrupts_limitation=rules.interrupts_limitation(
            values.kind,
            proof_of_arrival=proof,
            debtor_acknowledged=acknowledged,
            with_promise=with_promise,
        ),
        conduct_warning=("; ".join(warnings))[:300] if warnings else None,
        conduct_override_reason=reason if warnings else None,
        review_status="pending" if values.kind == "visit" else "not_required",
    )
    db.session.add(activity)
    _attach_files(
        values.files,
        counterparty_id=values.counterparty_id,
        activity=activity,
        case_id=activity.case_id,
        actor=actor,
    )
    if with_promise:
        db.session.add(
            Promise(
                counterparty_id=values.counterparty_id,
                case_id=activity.case_id,
                activity=activity,
                amount=values.promise_amount,
                promised_on=values.occurred_at.date(),
                due_on=values.promise_due_on,
                note=_clean(values.promise_note),
                recorded_by_id=actor.id,
            )
        )
    db.session.flush()
    if case is not None:
        record_first_action(case, activity.occurred_at, actor)
    return activity


# ---------------------------------------------------------------------------------------------
# Visit reviews


def review_visit(activity: Activity, *, actor: User, approve: bool, note: str = "") -> Activity:
    """A supervisor approves a visit record or returns it with a note (not their own)."""
    if activity.kind != "visit" or activity.review_status != "pending":
        raise ActivityError(_l("This visit record is not waiting for review."))
    if actor is None or not actor.has_role("supervisor"):
        raise ActivityError(_l("Only a supervisor reviews visit records."))
    if activity.user_id == actor.id:
        raise ActivityError(_l("Nobody reviews their own visit record."))
    note = (note or "").strip()
    if not approve and not note:
        raise ActivityError(_l("Say what is missing when returning a visit record."), "note")
    activity.review_status = "approved" if approve else "returned"
    activity.reviewed_by_id = actor.id
    activity.reviewed_at = utcnow()
    activity.review_note = note[:500] or None
    db.session.flush()
    return activity


def resubmit_visit(
    activity: Activity, *, actor: User, supplement: str, files: list[StagedFile] = ()
) -> Activity:
    """The visitor completes a returned visit record; it waits for review again."""
    if activity.kind != "visit" or activity.review_status != "returned":
        raise ActivityError(_l("Only a returned visit record can be completed."))
    if activity.user_id != actor.id:
        raise ActivityError(_l("Only the person who made the visit completes its record."))
    supplement = (supplement or "").strip()
    if not supplement:
        raise ActivityError(_l("Add what the reviewer asked for."), field="supplement")
    stamp = format_local(utcnow())
    activity.summary = f"{activity.summary}\n\n[{stamp}] {supplement}"
    activity.review_status = "pending"
    _attach_files(
        list(files),
        counterparty_id=activity.counterparty_id,
        activity=activity,
        case_id=activity.case_id,
        actor=actor,
    )
    db.session.flush()
    return activity


def pending_visits():
    """A SELECT of visit records waiting for review, oldest first."""
    return (
        sa.select(Activity)
        .options(
            selectinload(Activity.files),
            joinedload(Activity.user),
            joinedload(Activity.counterparty),
        )
        .where(Activity.kind == "visit", Activity.review_status == "pending")
        .order_by(Activity.occurred_at, Activity.id)
    )


# ---------------------------------------------------------------------------------------------
# Promises


def record_promise(
    *,
    counterparty_id: int,
    amount: Decimal,
    promised_on: date,
    due_on: date,
    actor: User,
    note: str | None = None,
    case_id: int | None = None,
    activity_id: int | None = None,
    today: date | None = None,
) -> Promise:
    """A promise to pay. It is the debtor's acknowledgement: the activity it came from (if
    any) interrupts limitation from then on."""
    if db.session.get(Counterparty, counterparty_id) is None:
        raise ActivityError(_l("No such counterparty."), field="counterparty_id")
    if amount is None or amount <= 0:
        raise ActivityError(_l("Enter the amount promised."), field="amount")
    if promised_on > (today or company_today()):
        raise ActivityError(_l("A promise cannot be made in the future."), field="promised_on")
    if due_on < promised_on:
        raise ActivityError(
            _l("The promised date cannot be before the promise was made."), field="due_on"
        )
    activity = None
    if activity_id is not None:
        activity = db.session.get(Activity, activity_id)
        if activity is None or activity.counterparty_id != counterparty_id:
            raise ActivityError(_l("This activity is not the counterparty's."), "activity_id")
        case_id = case_id or activity.case_id
    case = _case_for(counterparty_id, case_id)
    promise = Promise(
        counterparty_id=counterparty_id,
        case_id=case.id if case else None,
        activity=activity,
        amount=amount,
        promised_on=promised_on,
        due_on=due_on,
        note=_clean(note),
        recorded_by_id=actor.id,
    )
    db.session.add(promise)
    if activity is not None:
        activity.interrupts_limitation = True
    db.session.flush()
    return promise


def may_cancel_promise(promise: Promise, user: User | None) -> bool:
    """Whoever recorded the promise, or a supervisor, may withdraw it."""
    return user is not None and (promise.recorded_by_id == user.id or user.has_role("supervisor"))


def cancel_promise(promise: Promise, *, actor: User, reason: str) -> Promise:
    """Withdraw a promise recorded by mistake. The row stays (audited) with the reason; the
    status lists, the worklist and the reports leave it out from then on.

    A promise is what makes its activity interrupt limitation; when no other promise of the
    activity stands, the activity keeps only its own ground (a demand's proof of arrival). A
    spoken acknowledgement is not stored apart from the promise, so it is not assumed."""
    if promise.cancelled:
        raise ActivityError(_l("This promise was already withdrawn."))
    if not may_cancel_promise(promise, actor):
        raise ActivityError(
            _l("Only the person who recorded the promise or a supervisor may withdraw it.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise ActivityError(_l("Say why the promise is withdrawn."), field="reason")
    promise.cancelled = True
    promise.cancel_reason = reason[:500]
    activity = promise.activity
    if activity is not None:
        others_stand = db.session.scalar(
            sa.select(Promise.id)
            .where(
                Promise.activity_id == activity.id,
                Promise.id != promise.id,
                Promise.cancelled.is_(False),
            )
            .limit(1)
        )
        if others_stand is None:
            activity.interrupts_limitation = rules.interrupts_limitation(
                activity.kind,
                proof_of_arrival=activity.proof_of_arrival,
                debtor_acknowledged=False,
                with_promise=False,
            )
    db.session.flush()
    return promise


# ---------------------------------------------------------------------------------------------
# Disputes


def item_outstanding(item: Item, as_of: date) -> Decimal | None:
    """An item's outstanding as of a date (None when it is not recognised by then)."""
    balances = queries.outstanding_items(
        as_of, queries.LedgerFilter(counterparty_id=item.counterparty_id)
    )
    value = db.session.scalar(sa.select(balances.c.outstanding_fen).where(balances.c.id == item.id))
    return None if value is None else from_fen(int(value))


def open_dispute(
    item: Item,
    *,
    amount: Decimal,
    reason: str,
    description: str,
    owner_id: int,
    deadline: date,
    actor: User,
    raised_on: date | None = None,
) -> Dispute:
    """Put an item, or part of it, in dispute: never more than is outstanding and not yet
    disputed on it."""
    raised_on = raised_on or company_today()
    if reason not in DISPUTE_REASONS:
        raise ActivityError(_l("Choose the reason of the dispute."), field="reason")
    if not (description or "").strip():
        raise ActivityError(_l("Describe the dispute."), field="description")
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        raise ActivityError(_l("Choose an active user as the owner."), field="owner_id")
    if deadline < raised_on:
        raise ActivityError(_l("The deadline cannot be before today."), field="deadline")
    if amount is None or amount <= 0:
        raise ActivityError(_l("Enter the amount in dispute."), field="amount")
    outstanding = item_outstanding(item, raised_on)
    if outstanding is None or outstanding <= 0:
        raise ActivityError(_l("Nothing is outstanding on this item."), field="amount")
    room = outstanding - dispute_queries.item_disputed(item.id, raised_on)
    if amount > room:
        raise ActivityError(
            _l(
                "Only %(n)s of this item is outstanding and not yet in dispute; the dispute "
                "cannot exceed it.",
                n=display_amount(max(room, Decimal("0.00"))),
            ),
            field="amount",
        )
    case = open_case_of(item.counterparty_id)
    dispute = Dispute(
        item_id=item.id,
        counterparty_id=item.counterparty_id,
        case_id=case.id if case else None,
        amount=amount,
        reason=reason,
        description=description.strip(),
        owner_id=owner.id,
        deadline=deadline,
        raised_on=raised_on,
        opened_by_id=actor.id,
    )
    db.session.add(dispute)
    db.session.flush()
    return dispute


def may_resolve(dispute: Dispute, user: User) -> bool:
    """The dispute's owner, finance or a supervisor decides it."""
    return user is not None and (
        dispute.owner_id == user.id or user.has_role("finance", "supervisor")
    )


CREDIT_FIELDS = {"amount": "credit_amount", "number": "credit_number", "dated_on": "note"}


def resolve_dispute(
    dispute: Dispute,
    *,
    accept: bool,
    actor: User,
    note: str = "",
    on: date | None = None,
    credit_amount: Decimal | None = None,
    credit_number: str | None = None,
) -> Dispute:
    """Accepted: a credit note is proposed through the ledger (finance approves it as any
    other). Rejected: collection continues; the reason is required."""
    if dispute.status != "open":
        raise ActivityError(_l("This dispute was already resolved."))
    if not may_resolve(dispute, actor):
        raise ActivityError(_l("Only the dispute's owner, finance or a supervisor resolves it."))
    on = on or company_today()
    note = (note or "").strip()
    if accept:
        amount = credit_amount if credit_amount is not None else dispute.amount
        if amount > dispute.amount:
            raise ActivityError(
                _l("The credit cannot exceed the amount in dispute."), field="credit_amount"
            )
        number = _clean(credit_number) or f"CN-DSP-{dispute.id:06d}"
        try:
            adjustment = ledger_services.propose_adjustment(
                dispute.item,
                kind="credit_note",
                amount=amount,
                dated_on=on,
                reason=_(
                    "Dispute #%(id)s accepted (%(reason)s). %(note)s",
                    id=dispute.id,
                    reason=rules.DISPUTE_REASON_LABELS.get(dispute.reason, dispute.reason),
                    note=note,
                ).strip()[:500],
                number=number,
                actor=actor,
            )
        except ledger_services.LedgerError as error:
            raise ActivityError(error.message, CREDIT_FIELDS.get(error.field, "note")) from error
        dispute.adjustment_id = adjustment.id
        dispute.status = "accepted"
    else:
        if not note:
            raise ActivityError(_l("Say why the dispute is rejected."), field="note")
        dispute.status = "rejected"
    dispute.resolution_note = note[:1000] or None
    dispute.resolved_on = on
    dispute.resolved_by_id = actor.id
    db.session.flush()
    return dispute


# ---------------------------------------------------------------------------------------------
# The panel on a case (and a counterparty) page

PANEL_ACTIVITIES = 20
PANEL_PROMISES = 20


@dataclass
class PromiseLine:
    promise: Promise
    paid: Decimal
    status: str


def _panel(counterparty_id: int, case: RecoveryCase | None, as_of: date) -> dict:
    activity_filter = [Activity.counterparty_id == counterparty_id]
    if case is not None:
        activity_filter.append(Activity.case_id == case.id)
    activity_count, pending_reviews = db.session.execute(
        sa.select(
            sa.func.count(Activity.id),
            sa.func.count(Activity.id).filter(Activity.review_status == "pending"),
        ).where(*activity_filter)
    ).one()
    activities = db.session.scalars(
        sa.select(Activity)
        .options(
            selectinload(Activity.files),
            joinedload(Activity.user),
            joinedload(Activity.contact),
        )
        .where(*activity_filter)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(PANEL_ACTIVITIES)
    ).all()
    last_interruption = db.session.scalar(
        sa.select(sa.func.max(Activity.occurred_at)).where(
            Activity.counterparty_id == counterparty_id,
            Activity.interrupts_limitation.is_(True),
        )
    )

    rows = promise_status_rows(as_of, counterparty_ids=[counterparty_id]).subquery("status")
    promise_filter = []
    if case is not None:
        promise_filter.append(sa.or_(Promise.case_id == case.id, Promise.case_id.is_(None)))
    promises = [
        PromiseLine(p, paid, status)
        for p, paid, status in db.session.execute(
            sa.select(Promise, rows.c.paid, rows.c.status)
            .join(rows, rows.c.promise_id == Promise.id)
            .where(*promise_filter)
            .order_by(Promise.due_on.desc(), Promise.id.desc())
            .limit(PANEL_PROMISES)
        )
    ]
    promised = {
        status: (from_fen(int(total or 0)), count)
        for status, total, count in db.session.execute(
            sa.select(rows.c.status, sa.func.sum(fen(Promise.amount)), sa.func.count())
            .join(rows, rows.c.promise_id == Promise.id)
            .where(*promise_filter)
            .group_by(rows.c.status)
        )
    }

    dispute_query = sa.select(Dispute).where(Dispute.counterparty_id == counterparty_id)
    if case is not None:
        dispute_query = dispute_query.where(
            sa.or_(Dispute.case_id == case.id, dispute_queries.open_as_of(as_of))
        )
    disputes = db.session.scalars(
        dispute_query.options(joinedload(Dispute.item), joinedload(Dispute.owner)).order_by(
            (Dispute.status == "open").desc(), Dispute.deadline, Dispute.id
        )
    ).all()
    open_disputes = db.session.scalar(
        sa.select(sa.func.count(Dispute.id)).where(
            Dispute.counterparty_id == counterparty_id, dispute_queries.open_as_of(as_of)
        )
    )
    disputed = dispute_queries.disputed_by(
        as_of, "counterparty", queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    zero = (Decimal("0.00"), 0)
    return {
        "counterparty_id": counterparty_id,
        "case_id": case.id if case else None,
        "as_of": as_of,
        "activities": activities,
        "activity_count": activity_count or 0,
        "promises": promises,
        "disputes": disputes,
        "totals": {
            "promised_open": promised.get("open", zero)[0],
            "promised_kept": promised.get("kept", zero)[0],
            "promised_broken": promised.get("broken", zero)[0],
            "broken_count": promised.get("broken", zero)[1],
            "disputed": disputed.get(counterparty_id, Decimal("0.00")),
            "open_disputes": open_disputes or 0,
            "pending_reviews": pending_reviews or 0,
            "last_interruption": last_interruption,
        },
    }


def case_panel(case: RecoveryCase, as_of: date) -> dict:
    """What the case page shows below the case: its activities, the counterparty's promises
    (with status as of the date), its disputes, and totals (promised open/kept/broken, amount
    in dispute as of the date, last activity that interrupted limitation).

    Render it with ``{% include "activities/_case_panel.html" %}`` and ``activity_panel``
    set to this dict."""
    return _panel(case.counterparty_id, case, as_of)


def counterparty_panel(counterparty_id: int, as_of: date) -> dict:
    """The same panel for a counterparty: all its activities, promises and disputes."""
    return _panel(counterparty_id, None, as_of)
