"""Forms of collection work: activities (with evidence and a promise), promises, visit
reviews, disputes and their resolution."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from recovery.activities.rules import (
    DISPUTE_REASON_LABELS,
    KIND_LABELS,
)
from recovery.core.forms import choices
from recovery.parties.forms import AmountField, DayField, optional_int


class MomentField(StringField):
    """A local date and time typed in an <input type=datetime-local> (YYYY-MM-DDTHH:MM)."""

    FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"type": "datetime-local"})
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%Y-%m-%dT%H:%M") if isinstance(self.data, datetime) else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            raise ValueError(_l("Enter the date and time."))
        for pattern in self.FORMATS:
            try:
                self.data = datetime.strptime(text, pattern)
                return
            except ValueError:
                continue
        raise ValueError(_l("Not a date and time: write it as YYYY-MM-DD HH:MM."))


class ActivityForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()))
    occurred_at = MomentField(_l("When (local time)"))
    contact_id = SelectField(_l("Contact"), coerce=optional_int)
    connected = BooleanField(_l("The call connected"), default=True)
    summary = TextAreaField(
        _l("What happened"), validators=[DataRequired(), Length(max=5000)], render_kw={"rows": 4}
    )
    outcome = StringField(_l("Outcome"), validators=[Optional(), Length(max=500)])
    debtor_acknowledged = BooleanField(_l("The debtor acknowledged the debt"))
    proof_of_arrival = StringField(_l("Proof of arrival"), validators=[Optional(), Length(max=300)])
    next_step = StringField(_l("Next step"), validators=[Optional(), Length(max=500)])
    next_step_on = DayField(_l("Next step on"), required=False)
    files = MultipleFileField(_l("Evidence files"))
    promise_amount = AmountField(_l("Amount promised"), required=False)
    promise_due_on = DayField(_l("Promised by"), required=False)
    promise_note = StringField(_l("Note on the promise"), validators=[Optional(), Length(max=500)])
    conduct_override_reason = TextAreaField(
        _l("Reason to go ahead anyway"), validators=[Optional(), Length(max=500)]
    )
    submit = SubmitField(_l("Save"))


class PromiseForm(FlaskForm):
    amount = AmountField(_l("Amount promised"))
    promised_on = DayField(_l("Promised on"))
    due_on = DayField(_l("Promised by"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save the promise"))


class CancelPromiseForm(FlaskForm):
    reason = StringField(_l("Why it is withdrawn"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Withdraw the promise"))


class ReviewForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve"))
    send_back = SubmitField(_l("Return"))


class ResubmitForm(FlaskForm):
    supplement = TextAreaField(
        _l("What you add"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 3}
    )
    files = MultipleFileField(_l("Evidence files"))
    submit = SubmitField(_l("Send for review again"))


class DisputeForm(FlaskForm):
    item_id = SelectField(_l("Item"), coerce=optional_int)
    amount = AmountField(_l("Amount in dispute"))
    reason = SelectField(_l("Reason"), choices=choices(DISPUTE_REASON_LABELS.items()))
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 3}
    )
    owner_id = SelectField(_l("Owner"), coerce=optional_int)
    deadline = DayField(_l("Deadline"))
    submit = SubmitField(_l("Open the dispute"))


class ResolveForm(FlaskForm):
    note = TextAreaField(
        _l("Resolution note"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 3}
    )
    credit_amount = AmountField(_l("Credit (when accepted)"), required=False)
    credit_number = StringField(
        _l("Credit note number (when accepted)"), validators=[Optional(), Length(max=64)]
    )
    accept = SubmitField(_l("Accept: propose a credit note"))
    reject = SubmitField(_l("Reject: collection continues"))
