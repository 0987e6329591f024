"""Forms of the responsibility screens: reassignment, leader, hand-over and its checklist."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from recovery.parties.forms import optional_int


class ReassignForm(FlaskForm):
    to_user_id = SelectField(_l("New first-responsible person"), coerce=optional_int)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Reassign"))


class LeaderForm(FlaskForm):
    leader_id = SelectField(_l("Leader"), coerce=optional_int)
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    next = HiddenField()
    submit = SubmitField(_l("Set the leader"))


class HandoverForm(FlaskForm):
    from_user_id = SelectField(_l("Person leaving"), coerce=optional_int)
    to_user_id = SelectField(_l("Successor"), coerce=optional_int)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    extra_lines = TextAreaField(
        _l("More checklist lines (one per line, optional)"),
        validators=[Optional(), Length(max=4000)],
    )
    submit = SubmitField(_l("Draft the hand-over"))


class CheckLineForm(Form):
    check_id = HiddenField()
    done = BooleanField(_l("Done"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ChecklistForm(FlaskForm):
    lines = FieldList(FormField(CheckLineForm))
    save = SubmitField(_l("Save the checklist"))
    apply = SubmitField(_l("Save and apply the hand-over"))


class ConfirmForm(FlaskForm):
    """A POST with only the CSRF token (cancel a draft)."""

    submit = SubmitField(_l("Cancel this draft"))
