"""Forms of the letters: generate one, record its delivery, e-mail it, run a batch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import Length, NumberRange, Optional

from recovery.activities.forms import MomentField
from recovery.core.forms import choices
from recovery.letters.labels import DELIVERY_METHOD_LABELS, KIND_LABELS, LEVEL_LABELS
from recovery.parties.forms import DayField, optional_int


def optional_text(value):
    """A select's text value, None for its empty choice (rendered as "None")."""
    return None if value in (None, "", "None") else value


class LetterForm(FlaskForm):
    kind = SelectField(_l("Kind of letter"), choices=choices(KIND_LABELS.items()))
    letter_date = DayField(_l("Letter date (figures as of)"))
    deadline = DayField(_l("Deadline (empty: the default)"), required=False)
    submit = SubmitField(_l("Generate the letter"))


class DeliveryForm(FlaskForm):
    delivered_at = MomentField(_l("Delivered (local time)"))
    method = SelectField(_l("Proof"), choices=choices(DELIVERY_METHOD_LABELS.items()))
    proof = StringField(
        _l("Details of the proof (who signed, tracking number …)"),
        validators=[Optional(), Length(max=250)],
    )
    contact_id = SelectField(_l("Received by (contact)"), coerce=optional_int)
    files = MultipleFileField(_l("Scan of the receipt or delivery record"))
    version = HiddenField()
    submit = SubmitField(_l("Record the delivery"))


class EmailForm(FlaskForm):
    contact_id = SelectField(_l("Send to"), coerce=optional_int)
    submit = SubmitField(_l("E-mail the letter"))


class BatchForm(FlaskForm):
    kind = SelectField(_l("Kind of letter"), choices=choices(KIND_LABELS.items()))
    letter_date = DayField(_l("Letter date (figures as of)"))
    overdue_more_than = IntegerField(
        _l("Overdue more than (days; empty: any)"),
        validators=[Optional(), NumberRange(min=0, max=36500)],
    )
    department_id = SelectField(_l("Counterparty's department (and below)"), coerce=optional_int)
    level = SelectField(
        _l("Demand level"),
        choices=choices([(None, _l("Any level")), *LEVEL_LABELS.items()]),
        coerce=optional_text,
    )
    send_email = BooleanField(_l("E-mail each letter to the debtor's contact"))
    submit = SubmitField(_l("Run the batch"))


class ButtonForm(FlaskForm):
    """A button that changes something (POST with its CSRF token)."""

    submit = SubmitField(_l("Send the failed e-mails again"))
