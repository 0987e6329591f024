"""Forms of the provisions pages: a specific provision, its decision, runs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from recovery.core.forms import choices
from recovery.parties.forms import AmountField, DayField, RateField

METHOD_LABELS = {
    "rate": _l("A rate of the outstanding"),
    "amount": _l("A fixed amount"),
    "matrix": _l("Back to the matrix (end the individual assessment)"),
}


class SpecificForm(FlaskForm):
    counterparty_code = StringField(
        _l("Counterparty code"), validators=[DataRequired(), Length(max=64)]
    )
    method = SelectField(_l("Assessment"), choices=choices(METHOD_LABELS.items()))
    rate = RateField(_l("Rate (% of the outstanding, up to 100)"))
    amount = AmountField(_l("Amount (at most the outstanding)"), required=False)
    effective_from = DayField(_l("Effective from"), validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason (the evidence of the assessment)"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Propose"))

    def validate_rate(self, field):
        if self.method.data == "rate" and field.data is None and not field.errors:
            raise ValidationError(_l("Enter the rate."))

    def validate_amount(self, field):
        if self.method.data == "amount" and field.data is None and not field.errors:
            raise ValidationError(_l("Enter the amount."))


class DecisionForm(FlaskForm):
    version = HiddenField()
    note = StringField(_l("Note (required to reject)"), validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class VersionForm(FlaskForm):
    """A button that changes a record: only the version it was shown at."""

    version = HiddenField()
    submit = SubmitField(_l("Confirm"))


class RunForm(FlaskForm):
    as_of = DayField(_l("As of"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save as a run"))
