"""Forms of the ledger: items, receipts, credit notes / write-offs and their approval."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from recovery.core.forms import choices
from recovery.ledger.codes import ITEM_TYPES, RECEIPT_METHODS
from recovery.parties.forms import AmountField, DayField, RateField, optional_int

ADJUSTMENT_KINDS = {"credit_note": _l("Credit note"), "write_off": _l("Write-off")}
ADJUSTMENT_STATUSES = {
    "proposed": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


class ItemForm(FlaskForm):
    document_no = StringField(_l("Document number"), validators=[DataRequired(), Length(max=64)])
    counterparty_code = StringField(
        _l("Counterparty code"), validators=[DataRequired(), Length(max=64)]
    )
    project_code = StringField(_l("Project code"), validators=[Optional(), Length(max=64)])
    contract_no = StringField(_l("Contract number"), validators=[Optional(), Length(max=64)])
    item_type = SelectField(
        _l("Type"), choices=choices((code, c.label) for code, c in ITEM_TYPES.items())
    )
    amount = AmountField(_l("Amount"))
    recognized_on = DayField(_l("Recognised on"))
    due_on = DayField(_l("Due on"))
    department_id = SelectField(_l("Owning department"), coerce=optional_int)
    responsible_id = SelectField(_l("Responsible person"), coerce=optional_int)
    overdue_rate = RateField(_l("Overdue interest rate (annual %, optional)"))
    description = StringField(_l("Description"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save"))

    def validate_due_on(self, field):
        if field.data and self.recognized_on.data and field.data < self.recognized_on.data:
            raise ValidationError(_l("The due date is before the recognition date."))


class ReceiptForm(FlaskForm):
    receipt_no = StringField(_l("Receipt number"), validators=[DataRequired(), Length(max=64)])
    counterparty_code = StringField(
        _l("Counterparty code"), validators=[DataRequired(), Length(max=64)]
    )
    amount = AmountField(_l("Amount"))
    received_on = DayField(_l("Received on"))
    method = SelectField(
        _l("Method"), choices=choices((code, c.label) for code, c in RECEIPT_METHODS.items())
    )
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=200)])
    item_document_no = StringField(
        _l("Pays the item (document number, optional)"), validators=[Optional(), Length(max=64)]
    )
    submit = SubmitField(_l("Save"))


class AdjustmentForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(ADJUSTMENT_KINDS.items()))
    number = StringField(_l("Document number"), validators=[DataRequired(), Length(max=64)])
    amount = AmountField(_l("Amount"))
    dated_on = DayField(_l("Dated"))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Propose"))


class DecisionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


__all__ = [
    "ADJUSTMENT_KINDS",
    "ADJUSTMENT_STATUSES",
    "AdjustmentForm",
    "DecisionForm",
    "ItemForm",
    "ReceiptForm",
    "optional_int",
]
