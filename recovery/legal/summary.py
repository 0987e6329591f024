"""The referral summary for legal (移交法务摘要), as a PDF: the case, the claim computed line by
line, the evidence package and its checklist. The screen and the PDF share the macros of
templates/legal/_macros.html.

A summary is generated when a referral is sent (and each time it is sent again) and stored
as an evidence file of the case (a generated name, its SHA-256), linked from the referral:
the record of what legal received. It can also be printed afresh at any time.
"""

from __future__ import annotations

from flask import current_app, has_request_context, render_template

from recovery.activities.models import EvidenceFile
from recovery.core.pdf import render_pdf
from recovery.core.timeutil import utcnow
from recovery.legal import checklist, claims
from recovery.legal.models import Referral
from recovery.legal.services import store_file
from recovery.settings.services import get_setting

PORTRAIT_CSS = """
@page { size: A4 portrait; }
dt { font-weight: bold; margin-top: 1.5mm; }
dd { margin: 0 0 0 4mm; }
.letterhead { font-size: 10pt; color: #333; margin-bottom: 1mm; }
"""


def summary_context(referral: Referral) -> dict:
    item_ids = checklist.claimed_item_ids(referral)
    lines = claims.claim_lines(referral.counterparty_id, item_ids, referral.claim_as_of)
    principal, interest = claims.totals(lines)
    return {
        "referral": referral,
        "lines": lines,
        "principal": principal,
        "interest": interest,
        "package": checklist.build_package(referral),
        "company": get_setting("company.name"),
    }


def summary_pdf(referral: Referral, *, printed_by=None) -> bytes:
    context = {"printing": True, "printed_at": utcnow(), "printed_by": printed_by}
    context.update(summary_context(referral))
    if has_request_context():
        html = render_template("legal/summary_pdf.html", **context)
    else:
        # A job or a command: the templates' helpers need a request (anonymous, no links).
        with current_app.test_request_context():
            html = render_template("legal/summary_pdf.html", **context)
    return render_pdf(html, extra_css=PORTRAIT_CSS)


def summary_filename(referral: Referral) -> str:
    return f"referral-{referral.number}-{referral.counterparty.code}.pdf"


def store_summary(referral: Referral, *, actor) -> EvidenceFile:
    """Render the summary and keep it as evidence of the case, linked from the referral."""
    pdf = summary_pdf(referral, printed_by=actor)
    record = store_file(
        pdf,
        name=summary_filename(referral),
        content_type="application/pdf",
        counterparty_id=referral.counterparty_id,
        case_id=referral.case_id,
        actor=actor,
    )
    referral.summary_file_id = record.id
    return record
