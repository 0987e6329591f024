"""Forms for counterparties, contacts, projects and contracts, and the input fields the ledger
forms share: amounts (exact, parsed by core.money.parse_amount), dates, rates.

Each field keeps what was typed, so a refused form shows it again with the reason beside it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from recovery.core.forms import choices
from recovery.core.money import AmountError, format_amount, parse_amount
from recovery.ledger.codes import BUSINESS_STATUS, COUNTERPARTY_KINDS, FINANCIAL_STATUS, PROSPECTS

# The reasons parse_amount gives, as the user reads them.
AMOUNT_REASONS = {
    "empty": _l("Enter an amount."),
    "not a number": _l("Not an amount: write digits, e.g. 1234.50."),
    "more than two decimals": _l("At most two decimals (whole fen)."),
    "negative": _l("The amount cannot be negative."),
    "zero": _l("The amount cannot be zero."),
    "too large": _l("The amount is too large."),
}


def amount_reason(error: AmountError):
    return AMOUNT_REASONS.get(str(error), _l("Not a valid amount."))


class AmountField(StringField):
    """An exact yuan amount (Decimal, two decimals). ``required`` refuses an empty value."""

    def __init__(self, label=None, validators=None, required=True, allow_zero=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.allow_zero = allow_zero

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_amount(self.data) if self.data is not None else ""

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = None
        if not str(text).strip():
            if self.required:
                raise ValueError(AMOUNT_REASONS["empty"])
            return
        try:
            self.data = parse_amount(text, allow_zero=self.allow_zero)
        except AmountError as error:
            raise ValueError(amount_reason(error)) from error


class DayField(StringField):
    """A calendar date typed as YYYY-MM-DD (an <input type=date>)."""

    def __init__(self, label=None, validators=None, required=True, **kwargs):
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(label, validators, **kwargs)
        self.required = required

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            if self.required:
                raise ValueError(_l("Enter a date."))
            return
        try:
            self.data = date.fromisoformat(text)
        except ValueError as error:
            raise ValueError(_l("Not a date: write it as YYYY-MM-DD (e.g. 2025-03-31).")) from error


class RateField(StringField):
    """An optional rate in percent, 0–100 with at most four decimals (e.g. 0.05 or 6.5)."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format(self.data.normalize(), "f") if self.data is not None else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().rstrip("%").strip()
        self.data = None
        if not text:
            return
        try:
            rate = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(_l("Not a rate: write a percentage, e.g. 6.5.")) from error
        if not rate.is_finite() or rate < 0 or rate > 100:
            raise ValueError(_l("The rate must be between 0 and 100 %."))
        if rate != rate.quantize(Decimal("0.0001")):
            raise ValueError(_l("At most four decimals."))
        self.data = rate


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def attach_error(form, error, default: str, renames: dict[str, str] | None = None) -> None:
    """Show a service's refusal (LedgerError / PartyError) beside the field it names."""
    name = (renames or {}).get(error.field, error.field) or default
    field = getattr(form, name, None) or getattr(form, default)
    field.errors = [*field.errors, error.message]


class CounterpartyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"), choices=choices((c, v.label) for c, v in COUNTERPARTY_KINDS.items())
    )
    credit_code = StringField(
        _l("Unified social credit code"), validators=[Optional(), Length(max=30)]
    )
    credit_limit = AmountField(_l("Credit limit"), required=False, allow_zero=True)
    financial_status = SelectField(
        _l("Financial status"), choices=choices((c, v.label) for c, v in FINANCIAL_STATUS.items())
    )
    business_status = SelectField(
        _l("Business status"), choices=choices((c, v.label) for c, v in BUSINESS_STATUS.items())
    )
    department_id = SelectField(_l("Department"), coerce=optional_int)
    responsible_id = SelectField(_l("Responsible person"), coerce=optional_int)
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_l("Position"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    is_primary = BooleanField(_l("Primary contact"))
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ProjectForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    employer_code = StringField(
        _l("Employer (counterparty code)"), validators=[Optional(), Length(max=64)]
    )
    department_id = SelectField(_l("Department or subsidiary"), coerce=optional_int)
    prospects = SelectField(
        _l("Prospects"), choices=choices((c, v.label) for c, v in PROSPECTS.items())
    )
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


RATE_BASES = {"annual": _l("per year"), "daily": _l("per day")}


class ContractForm(FlaskForm):
    number = StringField(_l("Contract number"), validators=[DataRequired(), Length(max=64)])
    counterparty_code = StringField(
        _l("Counterparty code"), validators=[DataRequired(), Length(max=64)]
    )
    project_code = StringField(_l("Project code"), validators=[Optional(), Length(max=64)])
    signed_on = DayField(_l("Signed on"), required=False)
    amount = AmountField(_l("Contract amount"), required=False)
    overdue_rate = RateField(_l("Overdue interest rate (%)"))
    rate_basis = SelectField(_l("Rate stated"), choices=choices(RATE_BASES.items()))
    reviewed = BooleanField(_l("Passed contract review"), default=True)
    signer_id = SelectField(_l("Signer"), coerce=optional_int)
    installments = BooleanField(_l("Installments of one debt (同一债务分期履行)"), default=False)
    submit = SubmitField(_l("Save"))


class ArchiveForm(FlaskForm):
    """Close and archive a counterparty (retention: nothing is deleted)."""

    # The day the counterparty closed (关闭日期), not a lawsuit's (结案日期).
    closed_on = DayField(lazy_pgettext("counterparty", "Closed on"))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Close and archive"))
