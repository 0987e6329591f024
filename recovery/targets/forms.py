"""Forms of the targets pages. The target form carries the version it was shown at
(optimistic locking): a save from an old page is refused by the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from recovery.core.forms import choices
from recovery.parties.forms import AmountField, optional_int

SCOPES = {"department": _l("A department"), "person": _l("A person")}


class TargetForm(FlaskForm):
    scope = SelectField(_l("Target of"), choices=choices(SCOPES.items()))
    department_id = SelectField(_l("Department"), coerce=optional_int)
    user_id = SelectField(_l("Person"), coerce=optional_int)
    period = StringField(
        _l("Period: a month (2026-03), a quarter (2026-Q1) or a year (2026)"),
        validators=[Length(max=10)],
    )
    recovery = AmountField(_l("Amount to recover (CNY)"), allow_zero=True)
    overdue_reduction = AmountField(_l("Reduce overdue by (CNY, over the period)"), allow_zero=True)
    reason = TextAreaField(
        _l("Reason (required for a period that is over)"),
        validators=[Optional(), Length(max=500)],
    )
    version = HiddenField()
    submit = SubmitField(_l("Save"))


class ProposeForm(FlaskForm):
    by = HiddenField()
    period = HiddenField()
    submit = SubmitField(_l("Propose the reward and penalty list"))


class DecisionForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField(_l("Note (required to reject)"), validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))
