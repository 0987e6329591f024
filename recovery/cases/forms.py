"""Forms of the cases domain. Forms that change a case or strategy carry its ``version``
(optimistic locking): a save from an old page is refused by the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from recovery.cases.labels import (
    CAUSE_LABELS,
    COLLATERAL_KIND_LABELS,
    OUTCOME_LABELS,
    STRATEGY_KIND_LABELS,
)
from recovery.core.forms import choices
from recovery.parties.forms import AmountField, DayField, optional_int


class CaseForm(FlaskForm):
    cause = SelectField(_l("Cause of arrears"), choices=choices(CAUSE_LABELS.items()))
    cause_note = StringField(_l("About the cause"), validators=[Optional(), Length(max=500)])
    target_amount = AmountField(_l("Target amount to recover"), required=False)
    target_date = DayField(_l("Target date"), required=False)
    plan = TextAreaField(_l("Plan"), validators=[Optional(), Length(max=5000)])
    opening_reason = TextAreaField(
        _l("Reason for opening (required when nothing is overdue)"),
        validators=[Optional(), Length(max=500)],
    )
    assignee_id = SelectField(_l("Collector"), coerce=optional_int)
    origin = HiddenField(default="manual")
    version = HiddenField()
    submit = SubmitField(_l("Save"))


class VersionForm(FlaskForm):
    """A button that changes a case or strategy: only the version it was shown at."""

    version = HiddenField()


class AssignForm(VersionForm):
    assignee_id = SelectField(_l("Collector"), coerce=optional_int)
    submit = SubmitField(_l("Assign"))


class ReferForm(VersionForm):
    note = TextAreaField(_l("Note for legal"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Refer to legal"))


class CloseForm(VersionForm):
    outcome = SelectField(_l("Outcome"), choices=choices(OUTCOME_LABELS.items()))
    note = TextAreaField(_l("Closing note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Close the case"))


class ExtensionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    next_plan = TextAreaField(_l("Next plan"), validators=[DataRequired(), Length(max=500)])
    until_on = DayField(_l("Visit by"))
    submit = SubmitField(_l("Request the extension"))


class ExtensionDecisionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class StrategyNewForm(FlaskForm):
    kind = SelectField(_l("Chosen strategy"), choices=choices(STRATEGY_KIND_LABELS.items()))
    rationale = TextAreaField(
        _l("Rationale (required when you choose another strategy than the proposal)"),
        validators=[Optional(), Length(max=5000)],
    )
    submit = SubmitField(_l("Record the strategy"))


class StrategyForm(FlaskForm):
    """Every record field; the view keeps those the strategy's kind and status allow."""

    rationale = TextAreaField(_l("Rationale"), validators=[Optional(), Length(max=5000)])
    investigation = TextAreaField(
        _l("Investigation record"), validators=[Optional(), Length(max=20000)]
    )
    appraised_value = AmountField(_l("Appraised value"), required=False)
    appraiser = StringField(_l("Appraiser"), validators=[Optional(), Length(max=200)])
    appraised_on = DayField(_l("Appraised on"), required=False)
    preservation = StringField(
        _l("Preservation (保全) of the asset"), validators=[Optional(), Length(max=500)]
    )
    accepted_value = AmountField(_l("Accepted value"), required=False)
    title_registration_no = StringField(
        _l("Title transfer registration no."), validators=[Optional(), Length(max=100)]
    )
    title_registered_on = DayField(_l("Title transfer registered on"), required=False)
    transferee = StringField(_l("Transferee"), validators=[Optional(), Length(max=200)])
    transfer_price = AmountField(_l("Transfer price"), required=False)
    netting_party = StringField(
        _l("Group party whose payable is set off"), validators=[Optional(), Length(max=200)]
    )
    netting_amount = AmountField(_l("Netting amount"), required=False)
    version = HiddenField()
    submit = SubmitField(_l("Save"))


class CollateralForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(COLLATERAL_KIND_LABELS.items()))
    asset = StringField(_l("Asset or guarantor"), validators=[DataRequired(), Length(max=300)])
    value = AmountField(_l("Value"))
    registration_no = StringField(_l("Registration no."), validators=[Optional(), Length(max=100)])
    registered_on = DayField(_l("Registered on"), required=False)
    registry_office = StringField(_l("Registry office"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class RegistrationForm(FlaskForm):
    registration_no = StringField(_l("Registration no."), validators=[Optional(), Length(max=100)])
    registered_on = DayField(_l("Registered on"), required=False)
    registry_office = StringField(_l("Registry office"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class DecisionForm(VersionForm):
    reason = TextAreaField(
        _l("Reason (required to reject or send back)"), validators=[Optional(), Length(max=500)]
    )
    approve = SubmitField(_l("Approve"))
    send_back = SubmitField(_l("Send back"))
    reject = SubmitField(_l("Reject"))

    def decision(self) -> str | None:
        if self.approve.data:
            return "approved"
        if self.send_back.data:
            return "sent_back"
        if self.reject.data:
            return "rejected"
        return None
