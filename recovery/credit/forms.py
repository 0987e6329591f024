"""Forms of credit control: exception requests and decisions, groups and their members."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from recovery.parties.forms import AmountField, DayField


class ExceptionRequestForm(FlaskForm):
    counterparty = StringField(_l("Counterparty code"), validators=[Length(max=64)])
    amount_cap = AmountField(_l("Supply allowed up to (CNY)"))
    valid_until = DayField(_l("Valid until"))
    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)])


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note (required to refuse)"), validators=[Optional(), Length(max=1000)])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)])


class GroupForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=64)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    credit_limit = AmountField(_l("Group credit limit (CNY)"), required=False, allow_zero=True)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class MemberForm(FlaskForm):
    counterparty = StringField(_l("Counterparty code"), validators=[Length(max=64)])
    is_parent = BooleanField(_l("Parent company"))


class CheckForm(FlaskForm):
    counterparty = StringField(_l("Counterparty code"), validators=[Length(max=64)])
    amount = AmountField(_l("Order amount (CNY)"), required=False, allow_zero=True)
