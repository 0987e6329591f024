"""Batch runs: the letters of every counterparty matching a filter, as one background job.

``start_batch`` stores the batch and submits the job; the job (``run_batch``) generates one
letter per counterparty, one after the other, committing each (so the letters made so far
stay when a later one fails, and a mail server that goes down half-way loses nothing), and
reports progress. When e-mail was asked for, each letter goes to the debtor's primary
contact with an e-mail address (else another active contact with one) — a debtor with none
is skipped and reported (``no_email``); a send the server refuses or that cannot reach it is
``failed`` with the reason, and ``resend_failed`` (a job too) retries only those.

Conduct (DOMAIN §7, docs/recovery-work.md): e-mails are read when the debtor chooses, so the
contact hours do not apply and the daily limit counts calls only; only the debtor's own named
contacts are written to.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from recovery.auth.models import User
from recovery.core.mail import MailError, mail_configured
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.ledger import queries
from recovery.letters import services
from recovery.letters.labels import KIND_LABELS
from recovery.letters.models import DEMAND_LEVELS, LETTER_KINDS, BatchLine, Letter, LetterBatch
from recovery.parties.models import Counterparty
from recovery.settings.services import get_setting
from recovery.worklist.queries import department_subtree

JOB_KIND = "letters_batch"
RESEND_KIND = "letters_resend"
ZIP_IN_MEMORY = 8 * 1024 * 1024
PHASES = {
    "letters": _l("Generating the letters"),
    "resend": _l("Sending the failed e-mails again"),
}


@dataclass
class BatchFilter:
    kind: str = "demand"
    letter_date: date | None = None
    overdue_more_than: int | None = None  # days; None: any (a demand needs something overdue)
    department_id: int | None = None  # the counterparty's department, and the ones below it
    level: str | None = None  # demand letters only


def _check(values: BatchFilter) -> None:
    if values.kind not in LETTER_KINDS:
        raise services.LetterError(_l("Choose the kind of letter."), field="kind")
    if values.letter_date is None:
        raise services.LetterError(_l("Enter the letter's date."), field="letter_date")
    today = services.activity_services.company_today()
    if values.letter_date > today:
        raise services.LetterError(
            _l("A letter cannot be dated after today (%(today)s).", today=today.isoformat()),
            field="letter_date",
        )
    if values.overdue_more_than is not None and values.overdue_more_than < 0:
        raise services.LetterError(_l("Enter a number of days, 0 or more."), "overdue_more_than")
    if values.level is not None:
        if values.level not in DEMAND_LEVELS:
            raise services.LetterError(_l("Choose a level."), field="level")
        if values.kind != "demand":
            raise services.LetterError(_l("Only demand letters have levels."), field="level")


def matching_counterparties(values: BatchFilter) -> list[int]:
    """The counterparties the filter selects, by code, in one grouped SQL query over the
    ledger as of the letter date: those with an open balance (a demand: with something
    overdue) whose oldest overdue item is more than ``overdue_more_than`` days past due, in
    the department (or below), whose demand level is the one asked for."""
    as_of = values.letter_date
    balances = queries.outstanding_items(as_of)
    is_open = balances.c.outstanding_fen > 0
    overdue_due = sa.case((balances.c.due_on < as_of, balances.c.due_on))
    oldest_overdue = sa.func.min(overdue_due)
    counterparties = Counterparty.__table__
    query = (
        sa.select(balances.c.counterparty_id)
        .join(counterparties, counterparties.c.id == balances.c.counterparty_id)
        .where(is_open)
        .group_by(balances.c.counterparty_id, counterparties.c.code)
        .order_by(counterparties.c.code)
    )
    if values.department_id is not None:
        query = query.where(
            counterparties.c.department_id.in_(department_subtree(values.department_id))
        )
    # Days past due = as_of − due: "more than N days" is a due date before as_of − N.
    conditions = []
    if values.kind == "demand":
        conditions.append(oldest_overdue.is_not(None))
    if values.overdue_more_than is not None:
        conditions.append(oldest_overdue < as_of - timedelta(days=values.overdue_more_than))
    if values.level is not None:
        formal = as_of - timedelta(days=get_setting("letters.formal_demand_days"))
        final = as_of - timedelta(days=get_setting("letters.final_demand_days"))
        conditions.append(
            {
                "reminder": oldest_overdue > formal,
                "formal": sa.and_(oldest_overdue <= formal, oldest_overdue > final),
                "final": oldest_overdue <= final,
            }[values.level]
        )
    if conditions:
        query = query.having(sa.and_(*conditions))
    return list(db.session.scalars(query))


def start_batch(values: BatchFilter, *, send_email: bool, actor: User) -> LetterBatch:
    """Store the batch and submit its job (commits: the worker reads the batch)."""
    _check(values)
    if send_email and not mail_configured():
        raise services.LetterError(
            _l("E-mail is not configured on this server: the letters can only be downloaded."),
            field="send_email",
        )
    batch = LetterBatch(
        kind=values.kind,
        letter_date=values.letter_date,
        overdue_more_than=values.overdue_more_than,
        department_id=values.department_id,
        level=values.level,
        send_email=send_email,
        created_by_id=actor.id,
    )
    db.session.add(batch)
    db.session.flush()
    job = jobs.submit(JOB_KIND, {"batch_id": batch.id}, actor)
    batch = db.session.get(LetterBatch, batch.id)
    batch.job_id = job.id
    db.session.commit()
    return batch


def describe_batch(batch: LetterBatch) -> str:
    parts = [str(KIND_LABELS[batch.kind]), batch.letter_date.isoformat()]
    if batch.overdue_more_than is not None:
        parts.append(str(_l("overdue > %(n)s days", n=batch.overdue_more_than)))
    if batch.department is not None:
        parts.append(batch.department.name)
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------
# The jobs


def _send(line: BatchLine, actor: User) -> None:
    """E-mail the line's letter and record the outcome on the line (never raises MailError)."""
    contacts = services.email_contacts(line.counterparty_id)
    if not contacts:
        line.send_status = "no_email"
        line.error = None
        return
    contact = contacts[0]
    line.contact_id, line.email = contact.id, contact.email.strip()[:200]
    line.attempts += 1
    try:
        activity = services.email_letter(line.letter, contact, actor=actor)
    except (MailError, services.LetterError) as error:
        line.send_status = "failed"
        line.error = str(error.reason if isinstance(error, MailError) else error.message)[:500]
        return
    line.send_status = "sent"
    line.error = None
    line.sent_at = utcnow()
    line.activity_id = activity.id


def run_batch(params: dict, progress) -> dict:
    """The job: one letter per matching counterparty, e-mailed when asked, each committed."""
    batch = db.session.get(LetterBatch, params["batch_id"])
    actor = db.session.get(User, batch.created_by_id)
    values = BatchFilter(
        batch.kind, batch.letter_date, batch.overdue_more_than, batch.department_id, batch.level
    )
    done_ids = set(
        db.session.scalars(
            sa.select(BatchLine.counterparty_id).where(BatchLine.batch_id == batch.id)
        )
    )
    counterparty_ids = [cp for cp in matching_counterparties(values) if cp not in done_ids]
    total = len(counterparty_ids)
    progress("letters", 0, total)
    for done, counterparty_id in enumerate(counterparty_ids, start=1):
        line = BatchLine(batch_id=batch.id, counterparty_id=counterparty_id)
        generated = None
        try:
            generated = services.generate_letter(
                counterparty_id, batch.kind, batch.letter_date, actor=actor, batch_id=batch.id
            )
        except services.LetterError as error:
            line.refusal = str(error.message)[:500]
        else:
            line.letter = generated.letter
        db.session.add(line)
        try:
            db.session.commit()
        except BaseException:
            db.session.rollback()
            if generated is not None:
                services.discard([generated])
            raise
        if line.letter_id is not None and batch.send_email:
            _send(line, actor)
            db.session.commit()
        progress("letters", done, total)
    batch = db.session.get(LetterBatch, batch.id)
    batch.finished_at = utcnow()
    db.session.commit()
    return summary(batch)


def resend_failed(batch: LetterBatch, *, actor: User):
    """Submit a job that retries only the batch's failed e-mails."""
    if not mail_configured():
        raise services.LetterError(_l("E-mail is not configured on this server."))
    if not failed_lines(batch.id):
        raise services.LetterError(_l("No e-mail of this batch failed: nothing to resend."))
    return jobs.submit(RESEND_KIND, {"batch_id": batch.id}, actor)


def failed_lines(batch_id: int) -> list[BatchLine]:
    return db.session.scalars(
        sa.select(BatchLine)
        .where(BatchLine.batch_id == batch_id, BatchLine.send_status == "failed")
        .order_by(BatchLine.id)
    ).all()


def run_resend(params: dict, progress) -> dict:
    batch = db.session.get(LetterBatch, params["batch_id"])
    actor = db.session.get(User, batch.created_by_id)
    lines = failed_lines(batch.id)
    progress("resend", 0, len(lines))
    for done, line in enumerate(lines, start=1):
        _send(line, actor)
        db.session.commit()
        progress("resend", done, len(lines))
    return {**summary(db.session.get(LetterBatch, batch.id)), "resent": len(lines)}


def summary(batch: LetterBatch) -> dict:
    """Counts of a batch (SQL): letters, refused, and e-mails by status."""
    line = BatchLine
    row = db.session.execute(
        sa.select(
            sa.func.count(line.id),
            sa.func.count(line.letter_id),
            sa.func.sum(sa.case((line.send_status == "sent", 1), else_=0)),
            sa.func.sum(sa.case((line.send_status == "failed", 1), else_=0)),
            sa.func.sum(sa.case((line.send_status == "no_email", 1), else_=0)),
        ).where(line.batch_id == batch.id)
    ).one()
    lines, letters, sent, failed, no_email = (int(value or 0) for value in row)
    return {
        "batch_id": batch.id,
        "counterparties": lines,
        "letters": letters,
        "refused": lines - letters,
        "sent": sent,
        "failed": failed,
        "no_email": no_email,
        "send_email": batch.send_email,
    }


def _describe_job(params: dict):
    batch = db.session.get(LetterBatch, params.get("batch_id"))
    return describe_batch(batch) if batch is not None else ""


jobs.register(
    jobs.Task(
        kind=JOB_KIND,
        label=_l("Letter batch"),
        work=run_batch,
        result_template="letters/_job_result.html",
        phases=PHASES,
        describe=_describe_job,
    )
)
jobs.register(
    jobs.Task(
        kind=RESEND_KIND,
        label=_l("Letter batch: resend failed e-mails"),
        work=run_resend,
        result_template="letters/_job_result.html",
        phases=PHASES,
        describe=_describe_job,
    )
)


# ---------------------------------------------------------------------------------------------
# The ZIP


def batch_letters(batch_id: int) -> list[Letter]:
    return db.session.scalars(
        sa.select(Letter).where(Letter.batch_id == batch_id).order_by(Letter.id)
    ).all()


def zip_of(letters: list[Letter]):
    """A ZIP of the letters' stored PDFs under their file names (PDFs are compressed
    already: stored, not deflated), in memory up to a few MB, then in a temporary file."""
    buffer = tempfile.SpooledTemporaryFile(max_size=ZIP_IN_MEMORY)  # noqa: SIM115 - sent
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for letter in letters:
            archive.writestr(letter.file.original_name, services.pdf_bytes(letter))
    buffer.seek(0)
    return buffer
