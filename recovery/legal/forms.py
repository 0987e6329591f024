"""Forms of the legal domain. Forms that change a referral or a lawsuit carry its ``version``
(optimistic locking): a save from an old page is refused by the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from recovery.admin.forms import MultiCheckboxField
from recovery.core.forms import choices
from recovery.legal.labels import (
    CLAIM_TYPE_LABELS,
    COST_KIND_LABELS,
    EVIDENCE_KIND_LABELS,
    HEARING_KIND_LABELS,
    JUDGMENT_KIND_LABELS,
    OUTCOME_LABELS,
)
from recovery.parties.forms import AmountField, DayField, RateField, optional_int


class VersionForm(FlaskForm):
    """A button that changes a referral or lawsuit: only the version it was shown at."""

    version = HiddenField()


class ReferralForm(VersionForm):
    claim_type = SelectField(_l("Type of claim"), choices=choices(CLAIM_TYPE_LABELS.items()))
    claim_as_of = DayField(_l("Claim computed as of"))
    note = TextAreaField(
        _l("Note for legal: the debtor, what was tried, why sue"),
        validators=[Optional(), Length(max=5000)],
    )
    submit = SubmitField(_l("Save"))


class ReferralEditForm(ReferralForm):
    item_ids = MultiCheckboxField(_l("Items claimed"), coerce=int)


class UploadForm(FlaskForm):
    kind = SelectField(_l("Kind of evidence"), choices=choices(EVIDENCE_KIND_LABELS.items()))
    note = StringField(_l("Description"), validators=[Optional(), Length(max=300)])
    files = MultipleFileField(_l("Files"))
    submit = SubmitField(_l("Upload"))


class AttachForm(FlaskForm):
    evidence_file_id = SelectField(_l("File held for this counterparty"), coerce=optional_int)
    kind = SelectField(_l("Kind of evidence"), choices=choices(EVIDENCE_KIND_LABELS.items()))
    submit = SubmitField(_l("Add to the package"))


class ReviewForm(VersionForm):
    reason = TextAreaField(
        _l("Reasons (required to decline)"), validators=[Optional(), Length(max=1000)]
    )
    missing = MultiCheckboxField(
        _l("Missing evidence (required to return)"),
        choices=choices(EVIDENCE_KIND_LABELS.items()),
        validate_choice=False,
    )
    accept = SubmitField(_l("Accept"))
    return_ = SubmitField(_l("Return for more evidence"), name="return")
    decline = SubmitField(_l("Decline"))


class FileForm(FlaskForm):
    court = StringField(_l("Court"), validators=[DataRequired(), Length(max=200)])
    case_number = StringField(_l("Court case number"), validators=[DataRequired(), Length(max=100)])
    filed_on = DayField(_l("Filed on"))
    court_fee = AmountField(_l("Court fee paid (optional)"), required=False)
    submit = SubmitField(_l("File the suit"))


class PreservationForm(VersionForm):
    applied_on = DayField(_l("Preservation granted on"))
    ruling = StringField(_l("Ruling number"), validators=[Optional(), Length(max=100)])
    assets = StringField(
        _l("Frozen or seized (accounts, property)"), validators=[DataRequired(), Length(max=500)]
    )
    amount = AmountField(_l("Amount preserved (optional)"), required=False)
    submit = SubmitField(_l("Record the preservation"))


class HearingForm(VersionForm):
    held_on = DayField(_l("Hearing date"))
    kind = SelectField(_l("Kind"), choices=choices(HEARING_KIND_LABELS.items()))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Add the hearing"))


class CancelHearingForm(VersionForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Cancel the hearing"))


class JudgmentForm(VersionForm):
    kind = SelectField(_l("Judgment or mediation"), choices=choices(JUDGMENT_KIND_LABELS.items()))
    judgment_on = DayField(_l("Given on"))
    awarded_principal = AmountField(_l("Principal awarded"), allow_zero=True)
    awarded_interest = AmountField(_l("Interest awarded"), allow_zero=True)
    awarded_costs = AmountField(_l("Costs awarded"), allow_zero=True)
    effective_on = DayField(_l("Takes effect on"))
    performance_deadline = DayField(_l("Performance deadline"))
    post_judgment_rate = RateField(_l("Interest running on the unpaid principal (annual %)"))
    interest_runs_from = DayField(_l("That interest runs from"), required=False)
    submit = SubmitField(_l("Record the judgment"))


class EnforcementForm(VersionForm):
    applied_on = DayField(_l("Enforcement applied for on"))
    court = StringField(_l("Enforcing court"), validators=[Optional(), Length(max=200)])
    case_number = StringField(
        _l("Enforcement case number"), validators=[DataRequired(), Length(max=100)]
    )
    submit = SubmitField(_l("Apply for enforcement"))


class RecoveryForm(VersionForm):
    receipt_no = StringField(_l("Receipt number"), validators=[DataRequired(), Length(max=64)])
    amount = AmountField(_l("Amount recovered"))
    received_on = DayField(_l("Received on"))
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Record the recovery"))


class CostForm(FlaskForm):
    kind = SelectField(_l("Cost"), choices=choices(COST_KIND_LABELS.items()))
    amount = AmountField(_l("Amount"))
    incurred_on = DayField(_l("Date"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Add the cost"))


class CloseForm(VersionForm):
    outcome = SelectField(_l("Outcome"), choices=choices(OUTCOME_LABELS.items()))
    closed_on = DayField(_l("Closed on"))
    note = TextAreaField(_l("How it ended"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Close the suit"))
