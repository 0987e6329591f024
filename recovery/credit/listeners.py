"""Holds re-evaluate on every change, in the transaction that makes it.

``after_flush`` notes the counterparties a flush touches — items, receipts, applications,
credit notes / write-offs (through their item), promises, lawsuits, a counterparty's own
limit, credit groups and their members. Just before the commit (after allocation has stored
the open amounts) ``before_commit`` re-evaluates those counterparties and everyone sharing a
group with them. Writes that bypass the ORM (imports) call ``services.reevaluate``
themselves. A change of the hold rules (credit.* settings) is not handled here: re-evaluating
everybody takes seconds, so the settings page submits the job ``credit.reevaluate_all``
after its commit (``services.reevaluate_all_later``; docs/credit.md).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from recovery.core.history import attribute_values, install_session_listeners

logger = logging.getLogger(__name__)

PENDING = "credit_pending"


def _after_flush(session: Session, _context) -> None:
    from recovery.activities.models import Promise
    from recovery.credit.models import CreditGroup, CreditGroupMember
    from recovery.ledger.models import Adjustment, Application, Item, Receipt
    from recovery.legal.models import Lawsuit
    from recovery.parties.models import Counterparty

    # Only these attributes of a changed row can change a hold (a new or deleted row always
    # can): a lawsuit's hearings or an item's responsible person do not.
    relevant = {
        Item: ("counterparty_id", "amount", "recognized_on", "due_on", "open_amount"),
        Receipt: ("counterparty_id", "amount", "received_on", "item_id"),
        Application: ("counterparty_id", "item_id", "amount", "applied_on"),
        Promise: ("counterparty_id", "amount", "promised_on", "due_on", "cancelled"),
        Lawsuit: ("counterparty_id", "stage"),
        Adjustment: ("item_id", "amount", "dated_on", "status"),
        CreditGroupMember: ("counterparty_id", "group_id", "left_at"),
        CreditGroup: ("credit_limit", "active", "code"),
    }
    touched: set[int] = set()
    item_ids: set[int] = set()
    group_ids: set[int] = set()
    dirty = [
        obj
        for obj in session.dirty
        if type(obj) not in relevant
        or any(inspect(obj).attrs[key].history.has_changes() for key in relevant[type(obj)])
    ]
    for obj in [*session.new, *dirty, *session.deleted]:
        if isinstance(obj, Item | Receipt | Application | Promise | Lawsuit):
            touched |= attribute_values(session, obj, "counterparty_id")
        elif isinstance(obj, Adjustment):
            item_ids |= attribute_values(session, obj, "item_id")
        elif isinstance(obj, Counterparty):
            if obj.id is not None and inspect(obj).attrs.credit_limit.history.has_changes():
                touched.add(obj.id)
        elif isinstance(obj, CreditGroupMember):
            touched |= attribute_values(session, obj, "counterparty_id")
            group_ids |= attribute_values(session, obj, "group_id")
        elif isinstance(obj, CreditGroup) and obj.id is not None:
            group_ids.add(obj.id)
    if item_ids:
        items_t = Item.__table__
        touched |= set(
            session.connection().scalars(
                sa.select(items_t.c.counterparty_id).where(items_t.c.id.in_(sorted(item_ids)))
            )
        )
    if group_ids:
        members_t = CreditGroupMember.__table__
        touched |= set(
            session.connection().scalars(
                sa.select(members_t.c.counterparty_id).where(
                    members_t.c.group_id.in_(sorted(group_ids))
                )
            )
        )
    if touched:
        session.info.setdefault(PENDING, set()).update(touched)


def _before_commit(session: Session) -> None:
    # The commit flushes only after this hook: flush now so that its changes are noted.
    if session.new or session.dirty or session.deleted:
        session.flush()
    if not session.info.get(PENDING):
        return
    from flask import has_app_context

    from recovery.credit import services
    from recovery.extensions import db

    if not has_app_context() or db.session() is not session:
        # The services work on the application's session: another session's changes are
        # left to refresh_stale / reevaluate_all (none exists today).
        logger.warning("credit holds not re-evaluated: a commit outside the app's session")
        _forget(session)
        return

    # Allocation stores the open amounts after its flush: flush what is left, then evaluate.
    for _round in range(5):
        session.flush()
        pending = session.info.pop(PENDING, set())
        if not pending:
            break
        services.reevaluate(pending)


def _forget(session: Session, *_args) -> None:
    session.info.pop(PENDING, None)


def install() -> None:
    """Attach the listeners to every ORM session (idempotent)."""
    install_session_listeners(
        "credit holds", after_flush=_after_flush, before_commit=_before_commit, forget=_forget
    )
