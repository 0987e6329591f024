"""The limitation guard: expiry of every open item (queries.py), interruptions and suspensions
recorded by hand, and the warnings (worklist and e-mail). Rules in docs/legal.md.

``expiry_rows`` and ``expiring_count`` are what the other parts call.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from recovery.auth.models import User, UserRole
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.models import Item
from recovery.limitation.models import EVENT_KINDS, LimitationEvent, LimitationWarning
from recovery.limitation.queries import (
    ExpiryRow,
    earliest_expiry_by_counterparty,
    expiring_count,
    expiry_rows,
)
from recovery.settings.services import get_setting

__all__ = [
    "ExpiryRow",
    "LimitationError",
    "StaleEvent",
    "earliest_warned_expiry",
    "end_suspension",
    "expiring_count",
    "expiry_rows",
    "record_event",
    "send_warnings",
    "summary",
    "warning_days",
    "withdraw_event",
]


class LimitationError(ValueError):
    """A refused change; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEvent(LimitationError):
    """The event was changed by somebody else after the page was opened."""


def _clean(text: str | None) -> str:
    return (text or "").strip()


# ---------------------------------------------------------------------------------------------
# Recorded by hand


def record_event(
    item: Item,
    *,
    kind: str,
    dated_on: date,
    note: str,
    actor: User,
    today: date,
    ended_on: date | None = None,
) -> LimitationEvent:
    """An interruption or a suspension of the item's limitation, with its evidence.

    Refused: a date in the future (not known yet), a date before the item's due date (the
    period had not started: nothing to interrupt or suspend), an end before the start or in
    the future, an end on an interruption, no evidence note."""
    if kind not in EVENT_KINDS:
        raise LimitationError(_l("Choose what happened."), field="kind")
    if dated_on is None:
        raise LimitationError(_l("Enter the date."), field="dated_on")
    if dated_on > today:
        raise LimitationError(
            _l("The date is in the future: record it once it has happened."), field="dated_on"
        )
    if dated_on < item.due_on:
        raise LimitationError(
            _l(
                "The date is before the item's due date (%(due)s): limitation had not started, "
                "so there was nothing to interrupt or suspend.",
                due=item.due_on.isoformat(),
            ),
            field="dated_on",
        )
    if ended_on is not None:
        if kind != "suspension":
            raise LimitationError(_l("Only a suspension has an end."), field="ended_on")
        _check_end(dated_on, ended_on, today)
    note = _clean(note)
    if not note:
        raise LimitationError(
            _l("Say what proves it (the document, who signed for it, where it is kept)."),
            field="note",
        )
    event = LimitationEvent(
        item_id=item.id,
        kind=kind,
        dated_on=dated_on,
        ended_on=ended_on,
        note=note[:1000],
        recorded_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _check_end(start: date, end: date, today: date) -> None:
    if end < start:
        raise LimitationError(_l("The obstacle cannot end before it began."), field="ended_on")
    if end > today:
        raise LimitationError(
            _l("The end is in the future: record it once the obstacle is gone."),
            field="ended_on",
        )


def _check_version(event: LimitationEvent, version: int | None) -> None:
    if version is not None and version != event.version:
        who = event.updated_by.display_name if event.updated_by is not None else _("the system")
        raise StaleEvent(
            _l(
                "Changed by %(who)s at %(when)s after you opened it: nothing was done. Look at "
                "the current state and try again.",
                who=who,
                when=event.updated_at.strftime("%Y-%m-%d %H:%M") + " UTC",
            )
        )


def end_suspension(
    event: LimitationEvent, *, ended_on: date, actor: User, today: date, version: int | None
) -> LimitationEvent:
    """The day the obstacle was gone: the period ends six months later (art. 194)."""
    _check_version(event, version)
    if event.kind != "suspension" or event.withdrawn:
        raise LimitationError(_l("Only a standing suspension can be ended."))
    if event.ended_on is not None:
        raise LimitationError(_l("This suspension has already ended."))
    if ended_on is None:
        raise LimitationError(_l("Enter the date."), field="ended_on")
    _check_end(event.dated_on, ended_on, today)
    event.ended_on = ended_on
    event.updated_by_id = actor.id
    db.session.flush()
    return event


def withdraw_event(
    event: LimitationEvent, *, reason: str, actor: User, version: int | None
) -> LimitationEvent:
    """Withdraw an event recorded by mistake: it stays, with the reason, and counts no more."""
    _check_version(event, version)
    if event.withdrawn:
        raise LimitationError(_l("This was already withdrawn."))
    reason = _clean(reason)
    if not reason:
        raise LimitationError(_l("Say why it is withdrawn."), field="reason")
    event.withdrawn = True
    event.withdraw_reason = reason[:500]
    event.updated_by_id = actor.id
    db.session.flush()
    return event


# ---------------------------------------------------------------------------------------------
# Warnings


def warning_days() -> list[int]:
    """The warning thresholds in days, largest first (setting limitation.warning_days)."""
    return sorted(
        {int(days) for days in get_setting("limitation.warning_days") or []}, reverse=True
    )


def threshold_of(days_left: int, thresholds: list[int]) -> int | None:
    """The smallest threshold the item has reached (None: not within any)."""
    reached = [days for days in thresholds if days_left <= days]
    return min(reached) if reached else None


def earliest_warned_expiry(as_of: date, counterparty_ids) -> dict[int, date]:
    """{counterparty_id: the earliest expiry date} of those counterparties (ids or a SELECT)
    with an open item within the longest warning (or already expired): the worklist sign."""
    thresholds = warning_days()
    if not thresholds:
        return {}
    return earliest_expiry_by_counterparty(as_of, thresholds[0], counterparty_ids)


def kept_warned_expiry(as_of: date, accounts) -> dict[int, date]:
    """``earliest_warned_expiry`` of the accounts (a SELECT of counterparty ids, or a list),
    read from the signs kept for them (recovery/limitation/kept.py) where they still hold,
    computed and kept for the others. It commits what it keeps: call it where nothing else
    is pending (a page)."""
    thresholds = warning_days()
    if not thresholds:
        return {}
    from recovery.limitation import kept

    return kept.earliest_warned(as_of, thresholds[0], accounts)


def keep_signs(as_of: date) -> tuple[int, int]:
    """Keep every counterparty's worklist sign for the day (the daily command); returns
    (counterparties, signs computed). Nothing to keep when no warning is set."""
    thresholds = warning_days()
    if not thresholds:
        return 0, 0
    from recovery.limitation import kept

    return kept.keep_all(as_of, thresholds[0])


@dataclass
class Summary:
    """Legal's worklist line: open items by the warning they have reached."""

    bands: list[tuple[int, int]]  # (threshold days, items with 0..threshold days left)
    expired: int  # items whose limitation has already ended

    @property
    def any(self) -> bool:
        return bool(self.expired or any(count for _days, count in self.bands))


def summary(as_of: date) -> Summary:
    thresholds = warning_days()
    if not thresholds:
        return Summary([], 0)
    rows = expiry_rows(as_of, within=thresholds[0])
    left = [row.days_left for row in rows]
    return Summary(
        bands=[(days, sum(1 for n in left if 0 <= n <= days)) for days in thresholds],
        expired=sum(1 for n in left if n < 0),
    )


def legal_users() -> list[User]:
    return db.session.scalars(
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "legal", User.active.is_(True))
        .order_by(User.id)
    ).all()


@dataclass
class WarningRun:
    """What one run of the warnings did."""

    as_of: date
    items: int = 0  # items with a warning due (some threshold reached, not yet sent)
    sent: list[tuple[str, int]] = field(default_factory=list)  # (address, items)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)
    without_address: list[str] = field(default_factory=list)  # people with no e-mail
    mail_off: bool = False


def _due_warnings(rows: list[ExpiryRow], thresholds: list[int], recipients_of):
    """{user: [(row, [thresholds to record])]} — the thresholds reached and not yet sent to
    that person for that item and expiry date."""
    sent = defaultdict(set)
    item_ids = [row.item_id for row in rows]
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        for item_id, threshold, expires_on, user_id in db.session.execute(
            sa.select(
                LimitationWarning.item_id,
                LimitationWarning.threshold_days,
                LimitationWarning.expires_on,
                LimitationWarning.user_id,
            ).where(LimitationWarning.item_id.in_(chunk))
        ):
            sent[(item_id, expires_on, user_id)].add(threshold)
    due = defaultdict(list)
    for row in rows:
        reached = [days for days in thresholds if row.days_left <= days]
        for user in recipients_of(row):
            missing = [
                days for days in reached if days not in sent[(row.item_id, row.expires_on, user.id)]
            ]
            if missing:
                due[user].append((row, missing))
    return due


def _warning_text(user: User, lines, as_of: date) -> tuple[str, str]:
    subject = _(
        "Limitation warning: %(n)s item(s) expiring or expired (as of %(date)s)",
        n=len(lines),
        date=as_of.isoformat(),
    )
    body = [
        _("Dear %(name)s,", name=user.display_name),
        "",
        _(
            "The limitation period (诉讼时效) of the following open items ends soon or has "
            "ended. After it ends the court will not enforce the debt: interrupt it in time — "
            "a demand with proof that it reached the debtor, a written acknowledgement or "
            "promise, a payment, or a suit."
        ),
        "",
    ]
    for row, missing in lines:
        values = {
            "no": row.document_no,
            "code": row.counterparty_code,
            "name": row.counterparty_name,
            "amount": f"{row.outstanding:,.2f}",
            "date": row.expires_on.isoformat(),
            "days": abs(row.days_left),
            "threshold": min(missing),
        }
        if row.days_left < 0:
            line = _(
                "%(no)s  %(code)s %(name)s  outstanding %(amount)s  EXPIRED on %(date)s "
                "(%(days)s days ago)",
                **values,
            )
        else:
            line = _(
                "%(no)s  %(code)s %(name)s  outstanding %(amount)s  expires %(date)s "
                "(%(days)s days left; %(threshold)s-day warning)",
                **values,
            )
        body.append(line)
        body.append("    " + row.rule_note)
    body += ["", _("This message was sent by the receivables system; it is not repeated.")]
    return subject, "\n".join(body)


def send_warnings(as_of: date) -> WarningRun:
    """Send the warnings due as of the date, by e-mail, once per item, threshold, expiry date
    and person: to the item's first-responsible person (else the counterparty's) and to every
    active legal user. One message per person. Sent warnings are recorded (and committed per
    message), so that a run repeated the same day, or the next day, sends nothing again; a
    message that could not be sent is not recorded and goes out on the next run.

    Without e-mail configured nothing is sent or recorded (the worklists show the warnings
    anyway)."""
    from recovery.core.mail import MailError, mail_configured, send_mail

    run = WarningRun(as_of=as_of)
    thresholds = warning_days()
    if not thresholds:
        return run
    rows = expiry_rows(as_of, within=thresholds[0])
    legal = legal_users()
    users = {user.id: user for user in legal}
    responsible_ids = {row.responsible_id for row in rows if row.responsible_id} - users.keys()
    if responsible_ids:
        for user in db.session.scalars(
            sa.select(User).where(User.id.in_(responsible_ids), User.active.is_(True))
        ):
            users[user.id] = user

    def recipients_of(row: ExpiryRow):
        people = list(legal)
        responsible = users.get(row.responsible_id)
        if responsible is not None and responsible not in people:
            people.insert(0, responsible)
        return people

    due = _due_warnings(rows, thresholds, recipients_of)
    run.items = len({row.item_id for lines in due.values() for row, _missing in lines})
    if not due:
        return run
    if not mail_configured():
        run.mail_off = True
        return run
    for user in sorted(due, key=lambda u: u.id):
        lines = sorted(due[user], key=lambda line: (line[0].expires_on, line[0].document_no))
        if not (user.email or "").strip():
            run.without_address.append(user.display_name)
            continue
        subject, body = _warning_text(user, lines, as_of)
        try:
            send_mail([user.email.strip()], subject, body)
        except MailError as error:
            run.failed.append((user.email, error.reason))
            continue
        now = utcnow()
        db.session.execute(
            sa.insert(LimitationWarning),
            [
                {
                    "item_id": row.item_id,
                    "threshold_days": days,
                    "expires_on": row.expires_on,
                    "user_id": user.id,
                    "as_of": as_of,
                    "sent_at": now,
                }
                for row, missing in lines
                for days in missing
            ],
        )
        db.session.commit()
        run.sent.append((user.email, len(lines)))
    return run
