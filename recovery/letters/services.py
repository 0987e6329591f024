"""Letters to a debtor: what goes in them, the PDF, storing it, delivery and e-mail.

Three kinds (docs/legal.md, "Letters and batch runs"):

- a *demand letter* (催款函) lists every item overdue on the letter date with its overdue
  interest as of that date (the ledger's rule: ``ledger.statement``), the total, the payment
  account and a deadline. Its level follows the oldest overdue item's days past due:
  a payment reminder below ``letters.formal_demand_days``, a formal demand with interest
  from there, a final demand before legal action from ``letters.final_demand_days``. A
  reminder claims the overdue amounts only; the other two claim the interest too. A
  counterparty with nothing overdue gets no demand letter (refused with the reason);
- a *balance confirmation* (询证函) of the open items and the balance as of a date, with a
  reply slip;
- a *statement of account* (对账单) as of a date: totals, aging, open items.

Letters are written in the company's language (``BABEL_DEFAULT_LOCALE``, Chinese), whatever
the language of the user who generates them. The PDF is stored as an EvidenceFile (random
name, SHA-256) linked to the counterparty and its case (the one named, else its open case).

Recording the proof of delivery makes the letter an activity (``demand`` for a demand letter,
``confirmation`` for a confirmation — its signed reply —, ``letter`` for a statement) with a
proof of arrival: it interrupts limitation (DOMAIN §3). An e-mail accepted by the mail server
is recorded as an ``email`` activity without proof: it does not interrupt until the delivery
is recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from recovery.activities import evidence
from recovery.activities import services as activity_services
from recovery.activities.models import Activity, EvidenceFile
from recovery.auth.models import User
from recovery.cases.errors import last_change
from recovery.cases.models import RecoveryCase
from recovery.core.mail import MailError, mail_configured, send_mail
from recovery.core.money import display_amount, round_fen, to_fen
from recovery.core.pdf import render_pdf
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger.statement import ItemLine, Statement, build_statement, interest_terms
from recovery.letters.labels import (
    ACTIVITY_KIND,
    DELIVERY_METHOD_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
)
from recovery.letters.models import DELIVERY_METHODS, LETTER_KINDS, Letter
from recovery.parties.models import Contact, Counterparty
from recovery.settings.services import get_setting

ZERO = Decimal("0.00")
LINES_PER_QUERY = 500
PDF_TYPE = "application/pdf"
# A delivery may be typed a little ahead of the server clock (a phone's clock), no more.
FUTURE_TOLERANCE = timedelta(minutes=5)

LETTER_CSS = """
@page {
  size: A4 portrait;
  margin: 18mm 18mm 20mm;
  @bottom-left { content: string(letter-number); font-size: 8pt; color: #555; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; }
}
html { font-size: 10pt; line-height: 1.5; }
.letter-number { string-set: letter-number content(); }
.letterhead { text-align: center; border-bottom: 1.2pt solid #222; padding-bottom: 2mm;
              margin-bottom: 5mm; }
.letterhead .company { font-size: 17pt; font-weight: bold; letter-spacing: 1pt; }
.letterhead .contact { font-size: 8.5pt; color: #444; }
h1 { text-align: center; font-size: 16pt; margin: 2mm 0 4mm; letter-spacing: 2pt; }
.meta { text-align: right; font-size: 9pt; margin-bottom: 4mm; }
.addressee { font-weight: bold; margin-bottom: 3mm; }
p { text-indent: 2em; margin: 0 0 2.5mm; }
p.plain { text-indent: 0; }
table { font-size: 8.5pt; }
.total td { font-weight: bold; }
.pay { border: 0.6pt solid #999; padding: 2mm 3mm; margin: 3mm 0; }
.pay p { text-indent: 0; margin: 0; }
.signature { margin-top: 10mm; margin-left: 55%; }
.signature p { text-indent: 0; margin: 0 0 2mm; }
.warning { font-weight: bold; }
.reply { margin-top: 8mm; border-top: 1pt dashed #555; padding-top: 4mm;
         page-break-inside: avoid; }
.reply h2 { text-align: center; font-size: 12pt; }
.reply p { text-indent: 0; }
.box { display: inline-block; width: 3.2mm; height: 3.2mm; border: 0.6pt solid #222;
       margin-right: 1.5mm; vertical-align: -0.4mm; }
.blank { display: inline-block; min-width: 55mm; border-bottom: 0.6pt solid #222; }
"""


class LetterError(ValueError):
    """A refused letter or delivery; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------------
# What goes in a letter


def demand_level(days_overdue: int, formal_days: int, final_days: int) -> str:
    """reminder below ``formal_days`` days past due, formal from there, final from
    ``final_days`` (DOMAIN §3: days past due = letter date − due date)."""
    if days_overdue >= final_days:
        return "final"
    if days_overdue >= formal_days:
        return "formal"
    return "reminder"


def level_for(days_overdue: int) -> str:
    return demand_level(
        days_overdue,
        get_setting("letters.formal_demand_days"),
        get_setting("letters.final_demand_days"),
    )


@dataclass
class LetterContent:
    """Everything a letter prints, computed as of its date."""

    counterparty: Counterparty
    kind: str
    letter_date: date
    deadline: date | None
    case: RecoveryCase | None
    statement: Statement  # the totals as of the letter date
    lines: list[ItemLine]  # the items the letter lists
    level: str | None = None
    days_overdue: int = 0
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    total: Decimal = ZERO
    unapplied_credit: Decimal = ZERO
    addressee: Contact | None = None
    company: dict = field(default_factory=dict)

    @property
    def claims_interest(self) -> bool:
        return self.kind == "demand" and self.level != "reminder"


def open_lines(counterparty_id: int, as_of: date) -> tuple[Statement, list[ItemLine]]:
    """The counterparty's statement as of the date and all its open item lines, in the order
    of payment (due date first), read a few hundred at a time."""
    terms = interest_terms()
    page, lines = 1, []
    while True:
        statement = build_statement(
            counterparty_id,
            as_of,
            terms,
            page=page,
            receipts_page=1,
            per_page=LINES_PER_QUERY,
            open_only=True,
        )
        lines.extend(line for line in statement.items if line.outstanding > 0)
        if page * LINES_PER_QUERY >= statement.open_item_count:
            return statement, lines
        page += 1


def company_settings() -> dict:
    return {
        "name": get_setting("company.name"),
        "address": get_setting("company.address"),
        "phone": get_setting("company.phone"),
        "payment_account": get_setting("company.payment_account"),
    }


def addressee_of(counterparty_id: int) -> Contact | None:
    """The debtor's primary active contact (the letter is addressed to the debtor itself,
    for the attention of this person)."""
    return db.session.scalar(
        sa.select(Contact)
        .where(
            Contact.counterparty_id == counterparty_id,
            Contact.active.is_(True),
            Contact.is_primary.is_(True),
        )
        .order_by(Contact.id)
        .limit(1)
    )


def case_for(counterparty_id: int, case_id: int | None) -> RecoveryCase | None:
    """The case named (the counterparty's, not closed), else the counterparty's open case."""
    if case_id is None:
        return activity_services.open_case_of(counterparty_id)
    case = db.session.get(RecoveryCase, case_id)
    if case is None or case.counterparty_id != counterparty_id:
        raise LetterError(_l("This case is not the counterparty's."), field="case_id")
    if case.status == "closed":
        raise LetterError(_l("This case is closed."), field="case_id")
    return case


def default_deadline(letter_date: date) -> date:
    return letter_date + timedelta(days=get_setting("letters.deadline_days"))


def prepare(
    counterparty_id: int,
    kind: str,
    letter_date: date | None,
    *,
    deadline: date | None = None,
    case_id: int | None = None,
    today: date | None = None,
) -> LetterContent:
    """Check the request and compute the letter's content (nothing is written)."""
    if kind not in LETTER_KINDS:
        raise LetterError(_l("Choose the kind of letter."), field="kind")
    counterparty = db.session.get(Counterparty, counterparty_id) if counterparty_id else None
    if counterparty is None:
        raise LetterError(_l("No such counterparty."), field="counterparty_id")
    today = today or activity_services.company_today()
    if letter_date is None:
        raise LetterError(_l("Enter the letter's date."), field="letter_date")
    if letter_date > today:
        raise LetterError(
            _l("A letter cannot be dated after today (%(today)s).", today=today.isoformat()),
            field="letter_date",
        )
    deadline = deadline or default_deadline(letter_date)
    if deadline <= letter_date:
        raise LetterError(_l("The deadline must be after the letter's date."), field="deadline")
    case = case_for(counterparty.id, case_id)
    statement, lines = open_lines(counterparty.id, letter_date)
    content = LetterContent(
        counterparty=counterparty,
        kind=kind,
        letter_date=letter_date,
        deadline=deadline,
        case=case,
        statement=statement,
        lines=lines,
        unapplied_credit=statement.unapplied_credit,
        addressee=addressee_of(counterparty.id),
        company=company_settings(),
    )
    overdue = [line for line in lines if line.days_overdue > 0]
    content.days_overdue = max((line.days_overdue for line in overdue), default=0)
    if kind == "demand":
        if not overdue:
            raise LetterError(
                _l(
                    "%(name)s has nothing overdue on %(date)s: there is nothing to demand. "
                    "A balance confirmation or a statement of account can be sent instead.",
                    name=counterparty.name,
                    date=letter_date.isoformat(),
                ),
                field="kind",
            )
        content.lines = overdue
        content.level = level_for(content.days_overdue)
        content.principal = sum((line.outstanding for line in overdue), ZERO)
        content.interest = round_fen(sum((line.interest for line in overdue), ZERO))
        content.total = content.principal + (content.interest if content.claims_interest else 0)
    else:
        content.principal = sum((line.outstanding for line in lines), ZERO)
        content.interest = round_fen(sum((line.interest for line in overdue), ZERO))
        content.total = content.principal - content.unapplied_credit
    return content


# ---------------------------------------------------------------------------------------------
# The PDF


def letter_locale() -> str:
    """Letters go out in the company's language, not the user's."""
    return current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh_CN"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _group_words(number: int) -> str:
    """A number below 10,000 in capital figures: inner zeros read once, trailing ones not."""
    words, zero = "", False
    for place in (3, 2, 1, 0):
        digit = number // 10**place % 10
        if digit == 0:
            zero = bool(words)
            continue
        if zero:
            words += "零"
            zero = False
        words += _DIGITS[digit] + _PLACES[place]
    return words


def rmb_capitals(amount: Decimal) -> str:
    """An amount in the capital figures of Chinese financial documents (人民币大写):
    1,050.05 → 壹仟零伍拾元零伍分; 100,000 → 壹拾万元整."""
    fen = to_fen(amount)
    sign = "负" if fen < 0 else ""
    fen = abs(fen)
    if fen == 0:
        return "零元整"
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    words = ""
    if yuan:
        groups = []
        while yuan:
            yuan, group = divmod(yuan, 10000)
            groups.append(group)
        gap = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                gap = bool(words)
                continue
            if words and (gap or group < 1000):
                words += "零"
            words += _group_words(group) + _GROUPS[index]
            gap = False
        words += "元"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif cents and words:
        words += "零"
    words += _DIGITS[cents] + "分" if cents else "整"
    return sign + words


def letter_filename(kind: str, number: str, counterparty_code: str) -> str:
    """ "<kind>-<number>-<code>.pdf" in the letter's language, safe in a ZIP and a download."""
    with _letter_language():
        title = str(KIND_LABELS[kind])
    name = f"{title}-{number}-{counterparty_code}"
    return re.sub(r"[^\w.-]+", "_", name).strip("._") + ".pdf"


def _render(template: str, **context) -> str:
    """A template rendered without the page's context processors (navigation, the signed-in
    user): letters are also made by background jobs, outside any request."""
    return current_app.jinja_env.get_template(template).render(**context)


@contextlib.contextmanager
def _letter_language():
    with force_locale(letter_locale()):
        yield


def render_letter(content: LetterContent, number: str) -> bytes:
    """The letter as PDF, in the company's language."""
    template = f"letters/pdf/{content.level}.html" if content.kind == "demand" else None
    template = template or f"letters/pdf/{content.kind}.html"
    with _letter_language():
        html = _render(
            template,
            c=content,
            number=number,
            company=content.company,
            kind_title=KIND_LABELS[content.kind],
            level_title=LEVEL_LABELS.get(content.level or ""),
            long_date=lambda day: format_date(day, "long") if day else "",
            amount=display_amount,
            capitals=rmb_capitals if letter_locale().startswith("zh") else None,
            lang="zh-CN" if letter_locale().startswith("zh") else "en",
        )
    return render_pdf(html, extra_css=LETTER_CSS)


# ---------------------------------------------------------------------------------------------
# Storing


@dataclass
class Generated:
    """A letter written to the database session and its PDF written to disk; ``path`` is for
    removing the file when the transaction fails (``discard``)."""

    letter: Letter
    path: Path


def discard(generated) -> None:
    for item in generated:
        with contextlib.suppress(FileNotFoundError):
            os.remove(item.path)


def _store_pdf(pdf: bytes, name: str) -> tuple[str, str, Path]:
    """Write the PDF into the evidence folder under a random name: (stored name, SHA-256)."""
    stored_name = secrets.token_hex(16)
    path = evidence.evidence_folder() / stored_name
    with open(path, "xb") as handle:
        handle.write(pdf)
    return stored_name, hashlib.sha256(pdf).hexdigest(), path


def _next_number(letter_date: date) -> str:
    """LTR-<year>-<serial>: the serial follows the highest id so far (gaps are harmless)."""
    last = db.session.scalar(sa.select(sa.func.max(Letter.id))) or 0
    return f"LTR-{letter_date.year}-{last + 1:05d}"


def generate_letter(
    counterparty_id: int,
    kind: str,
    letter_date: date,
    *,
    actor: User,
    deadline: date | None = None,
    case_id: int | None = None,
    batch_id: int | None = None,
    today: date | None = None,
) -> Generated:
    """Compute, render and store a letter (the PDF file and the rows; the caller commits, and
    calls ``discard([generated])`` if the commit fails)."""
    content = prepare(
        counterparty_id, kind, letter_date, deadline=deadline, case_id=case_id, today=today
    )
    number = _next_number(letter_date)
    pdf = render_letter(content, number)
    name = letter_filename(kind, number, content.counterparty.code)
    stored_name, sha256, path = _store_pdf(pdf, name)
    try:
        record = EvidenceFile(
            counterparty_id=content.counterparty.id,
            case_id=content.case.id if content.case else None,
            original_name=name,
            stored_name=stored_name,
            content_type=PDF_TYPE,
            size=len(pdf),
            sha256=sha256,
            description=f"{KIND_LABELS[kind]} {number}"[:300],
            uploaded_by_id=actor.id,
        )
        letter = Letter(
            number=number,
            counterparty_id=content.counterparty.id,
            case_id=content.case.id if content.case else None,
            kind=kind,
            level=content.level,
            letter_date=letter_date,
            deadline=content.deadline,
            days_overdue=content.days_overdue,
            item_count=len(content.lines),
            principal=content.principal,
            interest=content.interest,
            total=content.total,
            file=record,
            batch_id=batch_id,
            created_by_id=actor.id,
            updated_by_id=actor.id,
        )
        db.session.add_all([record, letter])
        db.session.flush()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        raise
    return Generated(letter, path)


def pdf_bytes(letter: Letter) -> bytes:
    return evidence.stored_path(letter.file.stored_name).read_bytes()


# ---------------------------------------------------------------------------------------------
# Delivery


def _check_version(letter: Letter, expected) -> None:
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        expected = None
    if expected is not None and expected != letter.version:
        raise _stale(letter)


def _stale(letter: Letter) -> LetterError:
    from flask_babel import format_datetime

    who, when = last_change(letter)
    return LetterError(
        _l(
            "Changed by %(who)s at %(when)s after you opened it: nothing was saved. "
            "Look at the letter as it is now and try again.",
            who=who,
            when=format_datetime(when, "short") if when else "—",
        )
    )


def record_delivery(
    letter: Letter,
    *,
    delivered_at: datetime | None,
    method: str | None,
    proof: str | None,
    actor: User,
    contact_id: int | None = None,
    files=(),
    version=None,
    now: datetime | None = None,
) -> Activity:
    """Record how and when the letter reached the debtor (for a confirmation: when its signed
    reply came back). ``delivered_at`` is local company time. It becomes an activity with that
    proof of arrival, so it interrupts limitation; the letter's PDF joins its evidence."""
    _check_version(letter, version)
    if letter.delivered_at is not None:
        who = letter.delivery_recorded_by.display_name if letter.delivery_recorded_by else "—"
        raise LetterError(
            _l(
                "The delivery of this letter was already recorded (by %(who)s).",
                who=who,
            )
        )
    if method not in DELIVERY_METHODS:
        raise LetterError(_l("Choose how it was delivered."), field="method")
    proof = (proof or "").strip()
    if not proof:
        raise LetterError(
            _l("Describe the proof: who signed, the tracking number, the receipt …"),
            field="proof",
        )
    if delivered_at is None:
        raise LetterError(_l("Enter when it was delivered."), field="delivered_at")
    if delivered_at.date() < letter.letter_date:
        raise LetterError(
            _l(
                "A letter cannot arrive before its date (%(date)s).",
                date=letter.letter_date.isoformat(),
            ),
            field="delivered_at",
        )
    now = now or utcnow()
    if activity_services.local_to_utc(delivered_at) > now + FUTURE_TOLERANCE:
        raise LetterError(_l("A delivery cannot be in the future."), field="delivered_at")
    case = letter.case if letter.case is not None and letter.case.status != "closed" else None
    method_label = str(DELIVERY_METHOD_LABELS[method])
    values = activity_services.ActivityInput(
        counterparty_id=letter.counterparty_id,
        case_id=case.id if case else None,
        kind=ACTIVITY_KIND[letter.kind],
        occurred_at=delivered_at,
        summary=_delivery_summary(letter, method_label),
        contact_id=contact_id,
        proof_of_arrival=f"{method_label}: {proof}"[:300],
        files=list(files),
    )
    try:
        activity = activity_services.record_activity(values, actor=actor, now=now)
    except activity_services.ActivityError as error:
        field_name = {"occurred_at": "delivered_at"}.get(error.field, error.field)
        raise LetterError(error.message, field=field_name) from error
    if letter.file.activity_id is None:
        letter.file.activity_id = activity.id
    letter.delivered_at = activity.occurred_at
    letter.delivery_method = method
    letter.delivery_proof = proof[:300]
    letter.delivery_activity_id = activity.id
    letter.delivery_recorded_by_id = actor.id
    letter.updated_by_id = actor.id
    try:
        db.session.flush()
    except StaleDataError as error:
        raise _stale(letter) from error
    return activity


def _delivery_summary(letter: Letter, method_label: str) -> str:
    if letter.kind == "demand":
        return _(
            "%(level)s %(number)s of %(date)s delivered (%(method)s): %(total)s demanded, "
            "to be paid by %(deadline)s.",
            level=LEVEL_LABELS[letter.level],
            number=letter.number,
            date=letter.letter_date.isoformat(),
            method=method_label,
            total=display_amount(letter.total),
            deadline=letter.deadline.isoformat() if letter.deadline else "—",
        )
    if letter.kind == "confirmation":
        return _(
            "Balance confirmation %(number)s of %(date)s (balance %(total)s) came back signed "
            "(%(method)s).",
            number=letter.number,
            date=letter.letter_date.isoformat(),
            total=display_amount(letter.total),
            method=method_label,
        )
    return _(
        "Statement of account %(number)s of %(date)s (balance %(total)s) delivered (%(method)s).",
        number=letter.number,
        date=letter.letter_date.isoformat(),
        total=display_amount(letter.total),
        method=method_label,
    )


# ---------------------------------------------------------------------------------------------
# E-mail


def email_contacts(counterparty_id: int) -> list[Contact]:
    """The debtor's active named contacts with an e-mail address, the primary one first:
    nobody else is written to (DOMAIN §7: no disclosure to third parties)."""
    return db.session.scalars(
        sa.select(Contact)
        .where(
            Contact.counterparty_id == counterparty_id,
            Contact.active.is_(True),
            Contact.email.is_not(None),
            sa.func.trim(Contact.email) != "",
        )
        .order_by(Contact.is_primary.desc(), Contact.name, Contact.id)
    ).all()


def email_text(letter: Letter) -> tuple[str, str]:
    """The subject and body of the e-mail carrying a letter (the company's language)."""
    with _letter_language():
        company = get_setting("company.name")
        title = str(
            LEVEL_LABELS[letter.level] if letter.kind == "demand" else KIND_LABELS[letter.kind]
        )
        subject = _(
            "%(title)s %(number)s from %(company)s",
            title=title,
            number=letter.number,
            company=company,
        )
        body = _render(
            "letters/email.txt",
            letter=letter,
            title=title,
            company=company_settings(),
            amount=display_amount,
        )
    return subject, body


def email_letter(letter: Letter, contact: Contact, *, actor: User) -> Activity:
    """E-mail the letter's PDF to one of the debtor's named contacts and record it as an
    ``email`` activity. The server's acceptance is not proof of arrival: the activity does
    not interrupt limitation until the delivery is recorded. MailError when not sent (then
    nothing is recorded)."""
    if contact is None or contact.counterparty_id != letter.counterparty_id or not contact.active:
        raise LetterError(_l("Choose one of the debtor's active contacts."), field="contact_id")
    if not (contact.email or "").strip():
        raise LetterError(_l("This contact has no e-mail address."), field="contact_id")
    if not mail_configured():
        raise MailError(_l("e-mail is not configured (RECOVERY_SMTP_HOST, RECOVERY_SMTP_SENDER)"))
    subject, body = email_text(letter)
    send_mail(
        [contact.email.strip()],
        subject,
        body,
        [(letter.file.original_name, pdf_bytes(letter), PDF_TYPE)],
    )
    case = letter.case if letter.case is not None and letter.case.status != "closed" else None
    values = activity_services.ActivityInput(
        counterparty_id=letter.counterparty_id,
        case_id=case.id if case else None,
        kind="email",
        occurred_at=activity_services.utc_to_local(utcnow()).replace(microsecond=0),
        summary=_(
            "%(title)s %(number)s e-mailed to %(email)s (accepted by the mail server; arrival "
            "not proven until its delivery is recorded).",
            title=KIND_LABELS[letter.kind],
            number=letter.number,
            email=contact.email.strip(),
        ),
        contact_id=contact.id,
    )
    return activity_services.record_activity(values, actor=actor)
