"""Forms of the limitation guard: an interruption or suspension recorded by hand, the end of
a suspension, a withdrawal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from recovery.core.forms import choices
from recovery.limitation.labels import EVENT_LABELS
from recovery.parties.forms import DayField


class EventForm(FlaskForm):
    kind = SelectField(_l("What happened"), choices=choices(EVENT_LABELS.items()))
    dated_on = DayField(_l("On (for a suspension: when the obstacle began)"))
    ended_on = DayField(_l("Obstacle gone on (suspension only, if it is over)"), required=False)
    note = TextAreaField(
        _l("Evidence"), validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 3}
    )
    submit = SubmitField(_l("Record"))


class EndSuspensionForm(FlaskForm):
    ended_on = DayField(_l("Obstacle gone on"))
    version = HiddenField()
    submit = SubmitField(_l("End the suspension"))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Why withdraw it"), validators=[DataRequired(), Length(max=500)])
    version = HiddenField()
    submit = SubmitField(_l("Withdraw"))
