"""Telling the case owner what legal decided on a referral.

The worklist shows it always (recovery.legal.queries.notices_for); an e-mail goes out too when
outgoing mail is configured (recovery.core.mail). E-mail is never required: a send that fails
is logged and the decision stands.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from recovery.auth.models import User
from recovery.core import mail
from recovery.extensions import db
from recovery.legal.labels import DECISION_LABELS
from recovery.legal.models import Referral
from recovery.legal.services import missing_labels


def case_owners(referral: Referral) -> list[User]:
    """Who prepared or sent the referral and who works its case: active, distinct."""
    ids = [referral.created_by_id, referral.submitted_by_id, referral.case.assignee_id]
    found = []
    for user_id in dict.fromkeys(i for i in ids if i is not None):
        user = db.session.get(User, user_id)
        if user is not None and user.active:
            found.append(user)
    return found


def _link(referral: Referral) -> str | None:
    try:
        return url_for("legal.referral", referral_id=referral.id, _external=True)
    except RuntimeError:  # no request and no SERVER_NAME: the message goes without a link
        return None


def decision_message(referral: Referral) -> tuple[str, str]:
    """(subject, body) in the current locale."""
    decision = str(DECISION_LABELS.get(referral.status, referral.status))
    subject = _(
        "Referral %(no)s (%(code)s): %(decision)s",
        no=referral.number,
        code=referral.counterparty.code,
        decision=decision,
    )
    lines = [
        _(
            "Legal's decision on referral %(no)s of case %(case)s, %(name)s: %(decision)s.",
            no=referral.number,
            case=referral.case.number,
            name=referral.counterparty.name,
            decision=decision,
        )
    ]
    if referral.status == "returned":
        lines.append(_("Missing: %(kinds)s", kinds="; ".join(missing_labels(referral))))
    if referral.decision_reason:
        lines.append(_("Legal's note: %(note)s", note=referral.decision_reason))
    if referral.decided_by is not None:
        lines.append(_("Decided by %(name)s.", name=referral.decided_by.display_name))
    link = _link(referral)
    if link:
        lines.append(link)
    return subject, "\n\n".join(lines)


def notify_decision(referral: Referral) -> list[str]:
    """E-mail the case owners (when mail is configured); returns the addresses sent to."""
    if not mail.mail_configured():
        return []
    sent = []
    for user in case_owners(referral):
        if not mail.valid_address(user.email):
            continue
        with force_locale(user.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")):
            subject, body = decision_message(referral)
        try:
            mail.send_mail([user.email], subject, body)
        except mail.MailError as error:
            current_app.logger.warning(
                "referral %s: e-mail to %s failed: %s", referral.number, user.email, error.reason
            )
            continue
        sent.append(user.email)
    return sent
