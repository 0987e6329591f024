"""Credit control: keep the stored hold status in step, answer credit checks, and the writes
of exceptions and groups. Plain values and the acting user in; no request, no flash.

Functions other parts call (docs/credit.md):
- ``reevaluate(counterparty_ids)`` — after writes that bypass the ORM (imports);
- ``reevaluate_all()`` — everybody (the job ``credit.reevaluate_all`` after a change of the
  hold rules, or from cron);
- ``reevaluate_all_later(user)`` — submit that job (the settings page does, once committed);
- ``rules_pending()`` — the hold rules changed and the job has not finished yet;
- ``refresh_stale()`` — re-evaluate the counterparties the calendar has moved on;
- ``credit_check(counterparty, amount, as_of)`` — the supply decision (the API's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from recovery.core import bulk
from recovery.core.money import from_fen, to_fen
from recovery.core.timeutil import utcnow
from recovery.credit import queries, rules
from recovery.credit.models import CreditException, CreditGroup, CreditGroupMember, CreditStatus
from recovery.extensions import db
from recovery.ledger import overdue
from recovery.parties.models import Counterparty
from recovery.settings.models import Setting
from recovery.settings.registry import SPECS, SettingValueError, parse

status_t = CreditStatus.__table__
EXECUTIVE = "executive"


class CreditError(ValueError):
    """A refused credit-control change or check; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownCounterparty(CreditError):
    """No counterparty has that code or id."""


def company_today() -> date:
    """Today in the company's time zone (the date holds are judged on)."""
    zone = "Asia/Shanghai"
    if has_app_context():
        zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", zone)
    return datetime.now(ZoneInfo(zone)).date()


_SETTINGS = sa.select(Setting.__table__.c.key, Setting.__table__.c.value).where(
    Setting.__table__.c.key.like("credit.%")
)
_CODE = sa.select(Counterparty.__table__.c.id).where(
    Counterparty.__table__.c.code == sa.bindparam("code")
)
_ID = sa.select(Counterparty.__table__.c.id).where(
    Counterparty.__table__.c.id == sa.bindparam("id")
)


def _credit_settings() -> dict:
    """Every credit.* setting, typed, in one query (a check must be fast)."""
    stored = dict(db.session.execute(_SETTINGS).all())
    values = {}
    for spec in SPECS:
        if spec.key.startswith("credit."):
            try:
                values[spec.key] = parse(spec, stored.get(spec.key, spec.default))
            except SettingValueError:  # as get_setting: a value that no longer parses
                values[spec.key] = parse(spec, spec.default)
    return values


def policy() -> rules.Policy:
    """The hold rules as the settings have them now."""
    s = _credit_settings()
    return rules.Policy(
        overdue_days_on=s["credit.overdue_days_rule"] == "on",
        overdue_days=s["credit.overdue_days"],
        overdue_amount_on=s["credit.overdue_amount_rule"] == "on",
        overdue_amount=to_fen(s["credit.overdue_amount"]),
        exposure_on=s["credit.exposure_rule"] == "on",
        lawsuit_on=s["credit.lawsuit_rule"] == "on",
        broken_promise_on=s["credit.broken_promise_rule"] == "on",
        broken_promise_days=s["credit.broken_promise_days"],
    )


# ---------------------------------------------------------------------------------------------
# The stored status


def _status_values(cp: int, figures: rules.Figures, pol: rules.Policy, as_of: date) -> dict:
    reasons = rules.hold_reasons(figures, pol, as_of)
    return {
        "counterparty_id": cp,
        "on_hold": bool(reasons),
        "rules": "," + ",".join(r.rule for r in reasons) + "," if reasons else "",
        "reasons": [r.to_json() for r in reasons],
        "exposure": from_fen(figures.exposure),
        "overdue": from_fen(figures.overdue),
        "days_overdue": rules.days_overdue(figures, as_of),
        "stale_on": rules.stale_on(figures, pol, as_of),
    }


_COMPARED = ("on_hold", "rules", "reasons", "exposure", "overdue", "days_overdue", "stale_on")


def _store(
    wanted: dict[int, dict], as_of: date, *, only_changed: bool, read_at: datetime | None = None
) -> int:
    """Upsert the statuses; keep ``since`` while a hold lasts. Returns the rows written.

    ``read_at``: when the figures were read (``reevaluate_all``, which runs for seconds in
    a job): a status written since then by someone else (a receipt's commit re-evaluating its
    counterparty) is fresher than ours and is kept."""
    if not wanted:
        return 0
    now = utcnow()
    ids = sorted(wanted)
    if len(ids) > 5 * queries.CHUNK:  # (nearly) everybody: one read of the whole table
        selects = [sa.select(status_t)]
    else:
        selects = [
            sa.select(status_t).where(
                bulk.one_of(status_t.c.counterparty_id, ids[start : start + queries.CHUNK])
            )
            for start in range(0, len(ids), queries.CHUNK)
        ]
    stored = {}
    for query in selects:
        for row in db.session.execute(query).mappings():
            stored[row["counterparty_id"]] = dict(row)
    rows = []
    for cp, values in sorted(wanted.items()):  # one lock order for every writer
        old = stored.get(cp)
        fresher = old is not None and old["evaluated_at"] is not None
        if read_at is not None and fresher and old["evaluated_at"] >= read_at:
            continue  # re-evaluated by a change after our read: theirs is fresher
        if values["on_hold"]:
            values["since"] = old["since"] if old and old["on_hold"] and old["since"] else now
        else:
            values["since"] = None
        if only_changed and old is not None and all(old[k] == values[k] for k in _COMPARED):
            continue
        if only_changed and old is None and not values["on_hold"] and not values["exposure"]:
            continue  # nothing to say about a counterparty never evaluated and owing nothing
        rows.append({**values, "evaluated_at": now, "evaluated_on": as_of})
    if not rows:
        return 0
    statement = bulk.upsert_statement(
        status_t,
        "counterparty_id",
        (*_COMPARED, "since", "evaluated_at", "evaluated_on"),
        # The same rule in the statement, for a row written after we read the stored ones.
        where=None if read_at is None else status_t.c.evaluated_at < read_at,
    )
    for start in range(0, len(rows), 1000):
        db.session.execute(statement, rows[start : start + 1000])
    _expire_loaded({row["counterparty_id"] for row in rows})
    return len(rows)


def _expire_loaded(ids: set[int]) -> None:
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, CreditStatus) and obj.counterparty_id in ids:
            db.session.expire(obj)


def reevaluate(counterparty_ids, as_of: date | None = None) -> int:
    """Re-evaluate these counterparties and everyone sharing a group with them, in the current
    transaction (SQL aggregates per counterparty; chunks of 500). Call it after writing
    items, receipts or adjustments without the ORM. Returns the statuses written."""
    ids = {int(cp) for cp in counterparty_ids if cp is not None}
    if not ids:
        return 0
    as_of = as_of or company_today()
    pol = policy()
    ids = queries.group_member_ids(ids)
    figures = queries.figures_for(as_of, pol, ids)
    wanted = {cp: _status_values(cp, f, pol, as_of) for cp, f in figures.items()}
    # The same changes move the worklist's overdue figures: kept by the same hook.
    overdue.keep(ids, as_of)
    return _store(wanted, as_of, only_changed=False)


def reevaluate_all(as_of: date | None = None) -> int:
    """Re-evaluate every counterparty: one pass of SQL aggregates over the open items (and the
    lawsuits, promises, limits and groups), statuses written in bulk where they changed.
    A counterparty on hold that no longer has anything the rules see is released."""
    as_of = as_of or company_today()
    read_at = utcnow()
    pol = policy()
    figures = queries.figures_for(as_of, pol, None)
    held = set(db.session.scalars(sa.select(status_t.c.counterparty_id)))
    for cp in held - set(figures):
        figures[cp] = rules.Figures()
    wanted = {cp: _status_values(cp, f, pol, as_of) for cp, f in figures.items()}
    overdue.keep_all(as_of, read_at=read_at)
    # Only what changed is written: no lock on the statuses of everybody else. A status
    # re-evaluated by a change committed meanwhile is left as that change wrote it.
    return _store(wanted, as_of, only_changed=True, read_at=read_at)


HOLD_RULE_PREFIX = "credit."  # every credit.* setting is a hold rule (docs/credit.md)


def affects_holds(keys) -> bool:
    """Does a change of these settings change who is on hold?"""
    return any(str(key).startswith(HOLD_RULE_PREFIX) for key in keys)


def reevaluate_all_later(user):
    """Submit the background job that re-evaluates everybody (``reevaluate_all``, 1–2 s at a
    million items: never inside a page request). Call it once the rule change is committed;
    ``jobs.submit`` commits the Job row. Returns the Job."""
    from recovery.jobs import services as jobs
    from recovery.jobs import tasks

    return jobs.submit(tasks.REEVALUATE_ALL, {}, user)


def reevaluate_all_now(user=None):
    """Run that job here and now (the command line, tests): the Job row records that everybody
    was re-evaluated, which is what ``rules_pending`` reads. Returns the finished Job."""
    from recovery.jobs import services as jobs
    from recovery.jobs import tasks

    return jobs.run_now(tasks.REEVALUATE_ALL, {}, user)


_RULES_CHANGED = sa.select(sa.func.max(Setting.__table__.c.updated_at)).where(
    Setting.__table__.c.key.like(HOLD_RULE_PREFIX + "%")
)


@dataclass(frozen=True)
class Pending:
    """The hold rules changed at ``changed_at`` and no re-evaluation of everybody has run
    since: the stored statuses may follow the previous rules. ``job`` is the newest job
    submitted since the change (queued, running or failed), None if none was."""

    changed_at: datetime
    job: object | None


def rules_pending() -> Pending | None:
    """None when the stored statuses follow the current hold rules: no credit.* setting was
    changed after the start of the last successful ``credit.reevaluate_all`` job (or the CLI's
    run, which records one). Two small indexed reads."""
    changed_at = db.session.execute(_RULES_CHANGED).scalar()
    if changed_at is None:
        return None
    from recovery.jobs import tasks
    from recovery.jobs.models import Job

    done = db.session.execute(
        sa.select(sa.func.max(Job.started_at)).where(
            Job.kind == tasks.REEVALUATE_ALL, Job.status == "done"
        )
    ).scalar()
    if done is not None and done >= changed_at:
        return None
    job = db.session.scalar(
        sa.select(Job)
        .where(Job.kind == tasks.REEVALUATE_ALL, Job.created_at >= changed_at)
        .order_by(Job.id.desc())
        .limit(1)
    )
    return Pending(changed_at, job)


def status_for_page(
    counterparty_id: int, as_of: date | None = None
) -> tuple[CreditStatus | None, bool]:
    """The stored status of one counterparty, brought up to date first when the calendar has
    moved on (``stale_on``) or when the hold rules changed after it was written and the
    re-evaluation of everybody has not run yet (one counterparty: milliseconds). Returns
    (status, written): the caller commits when ``written``."""
    as_of = as_of or company_today()
    status = status_of(counterparty_id)
    due = status is not None and status.stale_on is not None and status.stale_on <= as_of
    if not due:
        pending = rules_pending()
        due = pending is not None and (
            status is None
            or status.evaluated_at is None
            or status.evaluated_at < pending.changed_at
        )
    if not due:
        return status, False
    reevaluate([counterparty_id], as_of)
    return status_of(counterparty_id), True


def refresh_stale(as_of: date | None = None) -> int:
    """Re-evaluate the counterparties whose status the calendar may have changed (stale_on
    reached), and those whose kept overdue figures no longer hold (ledger/overdue.py): cheap
    when nothing is due, so pages call it before reading the statuses."""
    as_of = as_of or company_today()
    ids = set(
        db.session.scalars(
            sa.select(status_t.c.counterparty_id).where(status_t.c.stale_on <= as_of)
        )
    )
    ids |= set(overdue.stale_ids(as_of))
    return reevaluate(ids, as_of) if ids else 0


def status_of(counterparty_id: int) -> CreditStatus | None:
    return db.session.get(CreditStatus, counterparty_id)


# ---------------------------------------------------------------------------------------------
# The credit check


def find_counterparty(counterparty) -> Counterparty:
    """A Counterparty from itself, its id or its code; UnknownCounterparty otherwise."""
    if isinstance(counterparty, Counterparty):
        return counterparty
    found = None
    if isinstance(counterparty, int):
        found = db.session.get(Counterparty, counterparty)
    elif isinstance(counterparty, str) and counterparty.strip():
        found = db.session.scalar(
            sa.select(Counterparty).where(Counterparty.code == counterparty.strip())
        )
    if found is None:
        raise UnknownCounterparty(
            _l("No counterparty has the code %(code)s.", code=str(counterparty or "").strip()),
            field="counterparty",
        )
    return found


def credit_check(counterparty, amount: Decimal = Decimal("0"), as_of: date | None = None):
    """May ``amount`` (Decimal yuan) of new supply go to the counterparty (code, id or object)?

    Computed live from the ledger (six statements built once, queries.figures_one), not from
    the stored status, so it is exact at the moment of the call. Passing the code is the
    fastest: the lookup is one of the six. Returns rules.Decision (allow | hold, the
    reasons, exposure and limit in fen, the exception that allowed it)."""
    if isinstance(counterparty, Counterparty):
        cp_id = counterparty.id
    elif isinstance(counterparty, int):
        cp_id = db.session.execute(_ID, {"id": counterparty}).scalar()
    else:
        code = str(counterparty or "").strip()
        cp_id = db.session.execute(_CODE, {"code": code}).scalar() if code else None
    if cp_id is None:
        raise UnknownCounterparty(
            _l("No counterparty has the code %(code)s.", code=str(counterparty or "").strip()),
            field="counterparty",
        )
    if amount is None or amount < 0:
        raise CreditError(_l("The amount cannot be negative."), field="amount")
    as_of = as_of or company_today()
    pol = policy()
    figures, rooms = queries.figures_one(cp_id, as_of, pol)
    return rules.decide(figures, pol, as_of, to_fen(Decimal(amount)), rooms)


# ---------------------------------------------------------------------------------------------
# Exceptions


def _text(value) -> str:
    return (value or "").strip()


def may_decide(exception: CreditException, user) -> bool:
    """Leaders decide: an executive, or the counterparty's own leader — never the requester."""
    if user is None or user.id == exception.requested_by_id:
        return False
    return user.has_role(EXECUTIVE) or user.id == exception.counterparty.leader_id


def request_exception(
    counterparty, *, amount_cap, valid_until, reason, actor, today: date | None = None
) -> CreditException:
    cp = find_counterparty(counterparty)
    today = today or company_today()
    if amount_cap is None or not isinstance(amount_cap, Decimal) or amount_cap <= 0:
        raise CreditError(_l("Enter the cap as an amount above zero."), field="amount_cap")
    if valid_until is None:
        raise CreditError(_l("Enter the expiry date."), field="valid_until")
    if valid_until < today:
        raise CreditError(_l("The expiry date is in the past."), field="valid_until")
    if not _text(reason):
        raise CreditError(_l("Give the reason."), field="reason")
    exception = CreditException(
        counterparty_id=cp.id,
        amount_cap=amount_cap,
        valid_until=valid_until,
        reason=_text(reason)[:1000],
        requested_by_id=actor.id,
    )
    db.session.add(exception)
    db.session.flush()
    return exception


def decide_exception(
    exception: CreditException, *, approve: bool, actor, note: str = "", today: date | None = None
) -> CreditException:
    today = today or company_today()
    if exception.status != "requested":
        raise CreditError(_l("This request was already decided."))
    if actor is not None and actor.id == exception.requested_by_id:
        raise CreditError(_l("Nobody approves their own request."))
    if not may_decide(exception, actor):
        raise CreditError(_l("Only a leader (an executive) decides on exceptions."))
    if not approve and not _text(note):
        raise CreditError(_l("Say why the request is refused."), field="note")
    if approve and exception.valid_until < today:
        raise CreditError(_l("The request has expired; it can only be refused."))
    exception.status = "approved" if approve else "refused"
    exception.decided_by_id = actor.id
    exception.decided_at = utcnow()
    exception.approved_on = today if approve else None
    exception.decision_note = _text(note)[:1000] or None
    db.session.flush()
    return exception


def revoke_exception(exception: CreditException, *, actor, reason: str) -> CreditException:
    """Withdraw a request (its requester or a leader) or revoke an approved exception (a
    leader). Nothing is deleted: the row stays, revoked, with who, when and why."""
    if exception.status not in ("requested", "approved"):
        raise CreditError(_l("Only a pending request or an approved exception can be revoked."))
    if not _text(reason):
        raise CreditError(_l("Give the reason."), field="reason")
    own_request = exception.status == "requested" and actor.id == exception.requested_by_id
    leader = actor.has_role(EXECUTIVE) or actor.id == exception.counterparty.leader_id
    if not (own_request or leader):
        raise CreditError(
            _l("Only a leader revokes an exception; a requester withdraws their own.")
        )
    exception.status = "revoked"
    exception.revoked_by_id = actor.id
    exception.revoked_at = utcnow()
    exception.revoke_reason = _text(reason)[:1000]
    db.session.flush()
    return exception


def exception_state(exception: CreditException, today: date | None = None) -> str:
    """The status shown: requested | approved | expired | refused | revoked."""
    today = today or company_today()
    if exception.status in ("approved", "requested") and exception.valid_until < today:
        return "expired"
    return exception.status


# ---------------------------------------------------------------------------------------------
# Groups


def save_group(
    group: CreditGroup | None, *, code: str, name: str, credit_limit, note=""
) -> CreditGroup:
    code, name = _text(code), _text(name)
    if not code:
        raise CreditError(_l("Enter a code."), field="code")
    if not name:
        raise CreditError(_l("Enter a name."), field="name")
    if credit_limit is not None and credit_limit < 0:
        raise CreditError(_l("The credit limit cannot be negative."), field="credit_limit")
    clash = db.session.scalar(sa.select(CreditGroup.id).where(CreditGroup.code == code))
    if clash is not None and (group is None or clash != group.id):
        raise CreditError(_l("Another group has this code."), field="code")
    if group is None:
        group = CreditGroup(code=code)
        db.session.add(group)
    group.code, group.name, group.credit_limit = code, name, credit_limit
    group.note = _text(note) or None
    db.session.flush()
    return group


def add_member(group: CreditGroup, counterparty, *, is_parent: bool = False) -> CreditGroupMember:
    cp = find_counterparty(counterparty)
    current = db.session.scalar(
        sa.select(CreditGroupMember).where(
            CreditGroupMember.counterparty_id == cp.id, CreditGroupMember.left_at.is_(None)
        )
    )
    if current is not None:
        if current.group_id == group.id:
            raise CreditError(_l("It is already a member of this group."), field="counterparty")
        raise CreditError(
            _l("It is a member of group %(code)s; remove it there first.", code=current.group.code),
            field="counterparty",
        )
    member = CreditGroupMember(group=group, counterparty_id=cp.id, is_parent=is_parent)
    db.session.add(member)
    db.session.flush()
    return member


def remove_member(member: CreditGroupMember) -> None:
    """End a membership (kept, with the date it ended)."""
    if member.left_at is not None:
        raise CreditError(_l("It already left the group."))
    member.left_at = utcnow()
    db.session.flush()
