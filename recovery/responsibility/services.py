"""First-responsible persons (第一责任人), leaders (第十条), hand-overs (交接) and lifetime
responsibility (终身责任人, 第十四条).

Who answers for a debt is never overwritten silently: every change of a counterparty's or an
item's first-responsible person or leader is a ResponsibilityChange row — from whom, to whom,
when, why, approved by whom. Changes made here (by a supervisor, with a reason) are written
with Core bulk statements, one history row and one audit entry per row moved, so that a
hand-over of thousands of items stays fast; changes made on the records themselves (forms,
imports) are recorded by the listener in ``listeners.py``.

The lifetime responsible person is not a seat that moves: it is the signer of an unreviewed
contract, read from the contract every time, so no reassignment or hand-over can remove it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from recovery.activities.models import EvidenceFile, Promise
from recovery.audit.chain import jsonable
from recovery.audit.services import record_rows
from recovery.auth.models import User, UserRole
from recovery.cases.models import ExtensionRequest, RecoveryCase, Strategy
from recovery.core.money import format_amount, from_fen
from recovery.core.permissions import EXECUTIVE, SUPERVISOR
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.models import Adjustment, Item
from recovery.parties.models import Contact, Contract, Counterparty
from recovery.responsibility.models import Handover, HandoverCheck, ResponsibilityChange

CHUNK = 500
LABEL_LENGTH = 200
REASON_LENGTH = 500

items_t = Item.__table__
counterparties_t = Counterparty.__table__
changes_t = ResponsibilityChange.__table__
cases_t = RecoveryCase.__table__


class ResponsibilityError(ValueError):
    """A refused change of responsibility; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _open(column):
    """Still open: the stored open amount (integer fen) is above zero."""
    return sa.type_coerce(column, sa.BigInteger) > 0


# ---------------------------------------------------------------------------------------------
# Lifetime responsibility (终身责任人)


def lifetime_responsible(item_ids: Iterable[int]) -> dict[int, User]:
    """{item id: the signer of its unreviewed contract} for the items that have one."""
    ids = sorted(set(item_ids))
    found: dict[int, User] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(
            sa.select(Item.id, User)
            .join(Contract, Contract.id == Item.contract_id)
            .join(User, User.id == Contract.signer_id)
            .where(Item.id.in_(chunk), Contract.reviewed.is_(False))
        ).all()
        found.update((item_id, user) for item_id, user in rows)
    return found


def lifetime_responsible_for_counterparty(counterparty_id: int) -> list[User]:
    """The signers of unreviewed contracts under which the counterparty's items arose."""
    signers = (
        sa.select(Contract.signer_id)
        .join(Item, Item.contract_id == Contract.id)
        .where(
            Item.counterparty_id == counterparty_id,
            Contract.reviewed.is_(False),
            Contract.signer_id.is_not(None),
        )
    )
    return list(
        db.session.scalars(
            sa.select(User).where(User.id.in_(signers)).order_by(User.display_name, User.id)
        )
    )


def lifetime_names(item_ids: Iterable[int]) -> dict[int, str]:
    """{item id: display name of its lifetime responsible person} (for list templates)."""
    return {item_id: user.display_name for item_id, user in lifetime_responsible(item_ids).items()}


# ---------------------------------------------------------------------------------------------
# Checks shared by every change


def _require_supervisor(actor) -> None:
    if actor is None or not actor.has_role(SUPERVISOR):
        raise ResponsibilityError(_l("Only a supervisor may change who is responsible."))


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ResponsibilityError(_l("Give the reason."), field="reason")
    if len(text) > REASON_LENGTH:
        raise ResponsibilityError(_l("At most %(n)d characters.", n=REASON_LENGTH), field="reason")
    return text


def _active_user(user_id: int | None, field: str) -> User:
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        raise ResponsibilityError(_l("Choose a person."), field=field)
    if not user.active:
        raise ResponsibilityError(
            _l("%(name)s is disabled and cannot take over accounts.", name=user.display_name),
            field=field,
        )
    return user


def _holds_role(user_id: int, role: str) -> bool:
    return (
        db.session.scalar(
            sa.select(UserRole.user_id).where(UserRole.user_id == user_id, UserRole.role == role)
        )
        is not None
    )


# ---------------------------------------------------------------------------------------------
# The bulk move: history rows, the update, the audit entries


def _change_audit(values: dict, change_id: int) -> dict:
    changes = {"id": [None, change_id]}
    for key, value in values.items():
        if value is not None:
            changes[key] = [None, jsonable(value)]
    return changes


def _move(
    table: sa.Table,
    condition,
    column: str,
    *,
    to_user_id: int | None,
    role: str,
    reason: str,
    approver_id: int | None,
    now: datetime,
    kind: str | None = None,
    handover_id: int | None = None,
) -> int:
    """Point ``column`` of every row of ``table`` (counterparties or items) matching
    ``condition`` at ``to_user_id``, with one history row and one audit entry per row moved.
    Returns how many rows moved."""
    connection = db.session.connection()
    is_items = table is items_t
    counterparty_column = table.c.counterparty_id if is_items else table.c.id
    rows = connection.execute(
        sa.select(table.c.id, counterparty_column, table.c[column])
        .where(condition)
        .order_by(table.c.id)
        .with_for_update()
    ).all()
    if not rows:
        return 0
    history = [
        {
            "counterparty_id": counterparty_id,
            "item_id": row_id if is_items else None,
            "role": role,
            "kind": kind or ("initial" if old is None else "reassignment"),
            "from_user_id": old,
            "to_user_id": to_user_id,
            "reason": reason,
            "approved_by_id": approver_id,
            "handover_id": handover_id,
            "effective_at": now,
        }
        for row_id, counterparty_id, old in rows
    ]
    change_ids = []
    for chunk in _chunks(history):
        change_ids += connection.execute(
            changes_t.insert().returning(changes_t.c.id, sort_by_parameter_order=True), chunk
        ).scalars()
    for chunk in _chunks([row[0] for row in rows]):
        connection.execute(table.update().where(table.c.id.in_(chunk)).values({column: to_user_id}))
    entries = [
        (table.name, row_id, "update", {column: [old, to_user_id]}) for row_id, _c, old in rows
    ]
    entries += [
        (changes_t.name, change_id, "insert", _change_audit(values, change_id))
        for change_id, values in zip(change_ids, history, strict=True)
    ]
    record_rows(connection, entries)
    return len(rows)


def _settle_session() -> None:
    """Objects loaded before a Core update would show the old values: reload them."""
    db.session.expire_all()


# ---------------------------------------------------------------------------------------------
# Reassignment by a supervisor


@dataclass(frozen=True)
class Moved:
    counterparties: int = 0
    items: int = 0
    cases: int = 0


def reassign(
    counterparty: Counterparty,
    to_user_id: int | None,
    *,
    reason: str,
    actor,
    now: datetime | None = None,
) -> Moved:
    """Make ``to_user_id`` the counterparty's first-responsible person.

    Its open items whose responsible person was the old one (or nobody) move with it; items
    another person answers for, and paid items, keep theirs. The lifetime responsible person
    (an unreviewed contract's signer) is not a seat and does not change."""
    _require_supervisor(actor)
    to_user = _active_user(to_user_id, "to_user_id")
    reason = _clean_reason(reason)
    old = counterparty.responsible_id
    if old == to_user.id:
        raise ResponsibilityError(
            _l("%(name)s is already the first-responsible person.", name=to_user.display_name),
            field="to_user_id",
        )
    db.session.flush()
    now = now or utcnow()
    common = {
        "to_user_id": to_user.id,
        "role": "responsible",
        "reason": reason,
        "approver_id": actor.id,
        "now": now,
    }
    moved_counterparties = _move(
        counterparties_t, counterparties_t.c.id == counterparty.id, "responsible_id", **common
    )
    same_person = (
        items_t.c.responsible_id.is_(None) if old is None else items_t.c.responsible_id == old
    )
    moved_items = _move(
        items_t,
        sa.and_(
            items_t.c.counterparty_id == counterparty.id, _open(items_t.c.open_amount), same_person
        ),
        "responsible_id",
        **common,
    )
    _settle_session()
    return Moved(counterparties=moved_counterparties, items=moved_items)


def reassign_item(
    item: Item, to_user_id: int | None, *, reason: str, actor, now: datetime | None = None
) -> Moved:
    """Make ``to_user_id`` the first-responsible person of one item."""
    _require_supervisor(actor)
    to_user = _active_user(to_user_id, "to_user_id")
    reason = _clean_reason(reason)
    if item.responsible_id == to_user.id:
        raise ResponsibilityError(
            _l("%(name)s is already the first-responsible person.", name=to_user.display_name),
            field="to_user_id",
        )
    db.session.flush()
    moved = _move(
        items_t,
        items_t.c.id == item.id,
        "responsible_id",
        to_user_id=to_user.id,
        role="responsible",
        reason=reason,
        approver_id=actor.id,
        now=now or utcnow(),
    )
    _settle_session()
    return Moved(items=moved)


# ---------------------------------------------------------------------------------------------
# Leaders (第十条)


def executives():
    """A SELECT of the active users who may lead a debt (executive role)."""
    return (
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == EXECUTIVE, User.active.is_(True))
        .order_by(User.display_name, User.id)
    )


def set_leader(
    counterparty: Counterparty,
    leader_id: int | None,
    *,
    reason: str,
    actor,
    now: datetime | None = None,
) -> None:
    """Appoint (or, with ``leader_id`` None, withdraw) the leader who also answers for the
    counterparty's large, long-aged or difficult debts."""
    _require_supervisor(actor)
    if leader_id is None:
        if counterparty.leader_id is None:
            raise ResponsibilityError(_l("Choose the leader."), field="leader_id")
    else:
        leader = _active_user(leader_id, "leader_id")
        if not _holds_role(leader.id, EXECUTIVE):
            raise ResponsibilityError(
                _l("A leader must hold the executive role."), field="leader_id"
            )
        if counterparty.leader_id == leader.id:
            raise ResponsibilityError(
                _l("%(name)s is already the leader.", name=leader.display_name),
                field="leader_id",
            )
    reason = _clean_reason(reason)
    db.session.flush()
    _move(
        counterparties_t,
        counterparties_t.c.id == counterparty.id,
        "leader_id",
        to_user_id=leader_id,
        role="leader",
        reason=reason,
        approver_id=actor.id,
        now=now or utcnow(),
    )
    _settle_session()


# ---------------------------------------------------------------------------------------------
# Hand-over (交接)


@dataclass(frozen=True)
class Holdings:
    """What one person answers for now: what a hand-over moves and its checklist names."""

    counterparties: int
    open_items: int
    outstanding: Decimal
    open_cases: int
    promises_running: int
    pending_approvals: int
    evidence_files: int
    contacts: int
    leader_of: int


def _count(query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def holdings(user_id: int, as_of: date) -> Holdings:
    """Counts, in SQL, of what ``user_id`` holds as of ``as_of``."""
    held = sa.select(Counterparty.id).where(Counterparty.responsible_id == user_id)
    open_items = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.type_coerce(Item.open_amount, sa.BigInteger)), 0),
    ).where(Item.responsible_id == user_id, _open(Item.open_amount))
    item_count, outstanding_fen = db.session.execute(open_items).one()
    pending = (
        _count(
            sa.select(Strategy.id).where(
                Strategy.proposed_by_id == user_id, Strategy.status == "pending"
            )
        )
        + _count(
            sa.select(Adjustment.id).where(
                Adjustment.proposed_by_id == user_id, Adjustment.status == "proposed"
            )
        )
        + _count(
            sa.select(ExtensionRequest.id).where(
                ExtensionRequest.requested_by_id == user_id, ExtensionRequest.status == "pending"
            )
        )
    )
    return Holdings(
        counterparties=_count(held),
        open_items=item_count,
        outstanding=from_fen(outstanding_fen),
        open_cases=_count(
            sa.select(RecoveryCase.id).where(
                RecoveryCase.assignee_id == user_id, RecoveryCase.status != "closed"
            )
        ),
        promises_running=_count(
            sa.select(Promise.id).where(
                Promise.recorded_by_id == user_id,
                Promise.cancelled.is_(False),
                Promise.due_on >= as_of,
            )
        ),
        pending_approvals=pending,
        evidence_files=_count(
            sa.select(EvidenceFile.id).where(EvidenceFile.uploaded_by_id == user_id)
        ),
        contacts=_count(
            sa.select(Contact.id).where(Contact.counterparty_id.in_(held), Contact.active.is_(True))
        ),
        leader_of=_count(sa.select(Counterparty.id).where(Counterparty.leader_id == user_id)),
    )


def default_checklist(held: Holdings) -> list[str]:
    """The checklist of a hand-over, from what the person leaving actually holds.

    Written in the drafter's language when drafted: it is part of the hand-over document."""
    lines = [
        _(
            "Accounts: %(counterparties)d counterparties and %(items)d open items "
            "(%(amount)s outstanding); statements handed over",
            counterparties=held.counterparties,
            items=held.open_items,
            amount=format_amount(held.outstanding),
        )
    ]
    if held.counterparties:
        lines.append(
            _("Contacts briefed: the successor knows the %(n)d named contacts", n=held.contacts)
        )
    if held.open_cases:
        lines.append(
            _(
                "Open recovery cases: %(n)d; files, plans and next steps handed over",
                n=held.open_cases,
            )
        )
    if held.promises_running:
        lines.append(
            _(
                "Promises to pay still running: %(n)d; dates and amounts passed on",
                n=held.promises_running,
            )
        )
    if held.pending_approvals:
        lines.append(
            _(
                "Pending approvals: %(n)d of their proposals await a decision; "
                "the successor follows them",
                n=held.pending_approvals,
            )
        )
    if held.evidence_files:
        lines.append(
            _("Evidence files: %(n)d uploaded; the originals handed over", n=held.evidence_files)
        )
    if held.leader_of:
        lines.append(
            _(
                "Leader of %(n)d counterparties: new leaders appointed "
                "(the hand-over does not move leaders)",
                n=held.leader_of,
            )
        )
    return [line[:LABEL_LENGTH] for line in lines]


def draft_handover(
    *,
    from_user_id: int | None,
    to_user_id: int | None,
    reason: str,
    actor,
    as_of: date,
    extra_lines: Iterable[str] = (),
) -> Handover:
    """A supervisor drafts the hand-over of everything ``from_user_id`` holds, with the
    checklist generated from it (plus any lines the supervisor adds)."""
    _require_supervisor(actor)
    leaving = db.session.get(User, from_user_id) if from_user_id else None
    if leaving is None:
        raise ResponsibilityError(_l("Choose the person leaving."), field="from_user_id")
    successor = _active_user(to_user_id, "to_user_id")
    if successor.id == leaving.id:
        raise ResponsibilityError(
            _l("The successor must be someone other than the person leaving."),
            field="to_user_id",
        )
    reason = _clean_reason(reason)
    if db.session.scalar(
        sa.select(Handover.id).where(
            Handover.from_user_id == leaving.id, Handover.status == "draft"
        )
    ):
        raise ResponsibilityError(
            _l(
                "A draft hand-over of %(name)s's accounts exists already.",
                name=leaving.display_name,
            ),
            field="from_user_id",
        )
    extra = [line.strip()[:LABEL_LENGTH] for line in extra_lines if line and line.strip()]
    handover = Handover(
        from_user_id=leaving.id,
        to_user_id=successor.id,
        reason=reason,
        status="draft",
        requested_by_id=actor.id,
    )
    db.session.add(handover)
    for position, label in enumerate([*default_checklist(holdings(leaving.id, as_of)), *extra]):
        db.session.add(HandoverCheck(handover=handover, position=position, label=label))
    db.session.flush()
    return handover


def _require_draft(handover: Handover) -> None:
    if handover.status != "draft":
        raise ResponsibilityError(_l("This hand-over is no longer a draft."))


def tick_checklist(handover: Handover, ticks: dict[int, tuple[bool, str | None]], *, actor) -> None:
    """Record which lines are done ({check id: (done, note)}); lines not named stay as they are."""
    _require_supervisor(actor)
    _require_draft(handover)
    for check in handover.checklist:
        if check.id not in ticks:
            continue
        done, note = ticks[check.id]
        note = (note or "").strip()
        if len(note) > REASON_LENGTH:
            raise ResponsibilityError(_l("At most %(n)d characters.", n=REASON_LENGTH))
        check.done = bool(done)
        check.note = note or None
    db.session.flush()


def apply_handover(handover: Handover, *, actor, now: datetime | None = None) -> Moved:
    """Move everything the person leaving holds to the successor, in one step.

    Every counterparty they are responsible for, every open item they are responsible for,
    and every open case assigned to them. One ResponsibilityChange (kind hand-over) per
    counterparty and item moved; the counts are kept on the hand-over. Refused when the
    approver is the person leaving or a line of the checklist is not done."""
    _require_supervisor(actor)
    _require_draft(handover)
    if actor.id == handover.from_user_id:
        raise ResponsibilityError(_l("The person leaving cannot approve their own hand-over."))
    undone = [check.label for check in handover.checklist if not check.done]
    if undone:
        raise ResponsibilityError(
            _l(
                "Tick every line of the checklist first; not done yet: %(lines)s",
                lines="; ".join(undone),
            )
        )
    successor = _active_user(handover.to_user_id, "to_user_id")
    db.session.flush()
    now = now or utcnow()
    leaving = handover.from_user_id
    common = {
        "to_user_id": successor.id,
        "role": "responsible",
        "kind": "handover",
        "reason": handover.reason,
        "approver_id": actor.id,
        "handover_id": handover.id,
        "now": now,
    }
    moved_counterparties = _move(
        counterparties_t, counterparties_t.c.responsible_id == leaving, "responsible_id", **common
    )
    moved_items = _move(
        items_t,
        sa.and_(items_t.c.responsible_id == leaving, _open(items_t.c.open_amount)),
        "responsible_id",
        **common,
    )
    moved_cases = _move_cases(leaving, successor.id, actor.id, now)
    _settle_session()
    handover = db.session.get(Handover, handover.id)
    handover.status = "completed"
    handover.approved_by_id = actor.id
    handover.completed_at = now
    handover.counterparties_moved = moved_counterparties
    handover.items_moved = moved_items
    handover.cases_moved = moved_cases
    db.session.flush()
    return Moved(counterparties=moved_counterparties, items=moved_items, cases=moved_cases)


def _move_cases(leaving: int, successor: int, actor_id: int, now: datetime) -> int:
    """Open cases assigned to the person leaving go to the successor (their version is bumped,
    so a form opened before the hand-over is refused as stale). The assignment time is kept:
    it measures how fast the case was first assigned (DOMAIN §6)."""
    connection = db.session.connection()
    condition = sa.and_(cases_t.c.assignee_id == leaving, cases_t.c.status != "closed")
    rows = connection.execute(
        sa.select(cases_t.c.id, cases_t.c.version, cases_t.c.updated_by_id)
        .where(condition)
        .with_for_update()
    ).all()
    if not rows:
        return 0
    for chunk in _chunks([row[0] for row in rows]):
        connection.execute(
            cases_t.update()
            .where(cases_t.c.id.in_(chunk))
            .values(
                assignee_id=successor,
                updated_at=now,
                updated_by_id=actor_id,
                version=cases_t.c.version + 1,
            )
        )
    record_rows(
        connection,
        [
            (
                cases_t.name,
                case_id,
                "update",
                {
                    "assignee_id": [leaving, successor],
                    "updated_by_id": [updated_by, actor_id],
                    "version": [version, version + 1],
                },
            )
            for case_id, version, updated_by in rows
        ],
    )
    return len(rows)


def cancel_handover(handover: Handover, *, actor) -> None:
    _require_supervisor(actor)
    _require_draft(handover)
    handover.status = "cancelled"
    db.session.flush()
