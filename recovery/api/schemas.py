"""Marshmallow schemas of the API: what it reads (validated by webargs) and what it answers.

Amounts are strings with two decimals ("1234.50"); an amount sent may be a string or an
integer (never a JSON number with decimals: binary floats are not money). Dates are ISO
(YYYY-MM-DD); times are the company's local time, ISO without an offset.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache

import marshmallow as ma
from marshmallow import validate

from recovery.activities.models import ACTIVITY_KINDS
from recovery.api.pagination import PaginationSchema
from recovery.core.money import AmountError, parse_amount
from recovery.ledger.codes import ITEM_TYPES, RECEIPT_METHODS

AMOUNT_PATTERN = r"^-?\d+\.\d{2}$"


def amount_text(value) -> str | None:
    if value is None:
        return None
    return f"{Decimal(value).quantize(Decimal('0.01'))}"


class Amount(ma.fields.Field):
    """A money amount: "1234.50" in and out (Decimal inside)."""

    default_error_messages = {"invalid": 'Not an amount ({reason}); send e.g. "1234.50".'}

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def _serialize(self, value, attr, obj, **kwargs):
        return amount_text(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.make_error("invalid", reason="not a string")
        if len(str(value)) > 40:
            raise self.make_error("invalid", reason="too large")
        try:
            return parse_amount(value, allow_zero=self.allow_zero)
        except AmountError as error:
            raise self.make_error("invalid", reason=str(error)) from error
        except ArithmeticError as error:  # beyond Decimal's precision: far too large
            raise self.make_error("invalid", reason="too large") from error


class Rate(ma.fields.Field):
    """An annual percent rate, e.g. "6.5" (0 to 100, at most four decimals)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ma.ValidationError('Send the rate as a string, e.g. "6.5".')
        try:
            rate = Decimal(str(value).strip())
        except ArithmeticError as error:
            raise ma.ValidationError("Not a rate.") from error
        if (
            not rate.is_finite()
            or rate < 0
            or rate > 100
            or rate != rate.quantize(Decimal("0.0001"))
        ):
            raise ma.ValidationError("A rate is a percent from 0 to 100, at most 4 decimals.")
        return rate


FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


class Day(ma.fields.Date):
    """An ISO date from 1900-01-01 to 2999-12-31 (beyond is a typing mistake, and date
    arithmetic near year 9999 would overflow)."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ma.ValidationError("A date from 1900-01-01 to 2999-12-31.")
        return day


class LocalTime(ma.fields.NaiveDateTime):
    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= moment.date() <= LAST_DAY:
            raise ma.ValidationError("A time from 1900 to 2999.")
        return moment


def text(max_length: int, **kwargs):
    return ma.fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def optional_text(max_length: int):
    return ma.fields.String(validate=validate.Length(max=max_length), allow_none=True)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# ---------------------------------------------------------------------------------------------
# Pages and batch results: one generated schema per resource


def _resource_name(schema: type[ma.Schema]) -> str:
    """``ItemSchema`` → ``Item``: the name the OpenAPI document gives the resource."""
    return schema.__name__.removesuffix("Schema")


def _generated(name: str, doc: str, fields: dict[str, ma.fields.Field]) -> type[ma.Schema]:
    """A schema class named ``name`` (apispec names the component after the class)."""
    return type(name, (ma.Schema,), {"__module__": __name__, "__doc__": doc, **fields})


@cache
def page_schema(schema: type[ma.Schema]) -> type[ma.Schema]:
    """One page of a list of ``schema``: ``{"data": [...], "pagination": {...}}``, named
    ``<Resource>Page`` (``page_schema(ItemSchema)`` is ``ItemPage``).

    Built once per resource (cached): every use is the same class, so the OpenAPI document
    has one component for it and apispec never meets two classes of the same name.
    """
    return _generated(
        f"{_resource_name(schema)}Page",
        f"A page of {schema.__name__} records.",
        {
            "data": ma.fields.List(ma.fields.Nested(schema)),
            "pagination": ma.fields.Nested(PaginationSchema),
        },
    )


@cache
def batch_result_schema(schema: type[ma.Schema]) -> type[ma.Schema]:
    """What a batch created: ``{"data": [...], "count": n}``, named ``<Resource>BatchResult``
    (``batch_result_schema(ItemSchema)`` is ``ItemBatchResult``); built once, as pages."""
    return _generated(
        f"{_resource_name(schema)}BatchResult",
        f"The {schema.__name__} records a batch created.",
        {"data": ma.fields.List(ma.fields.Nested(schema)), "count": ma.fields.Integer()},
    )


# ---------------------------------------------------------------------------------------------
# Arguments


class AsOfArgs(ma.Schema):
    as_of = Day(metadata={"description": "Default: today (company time zone)."})


class ListArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SearchArgs(ListArgs):
    q = ma.fields.String(validate=validate.Length(max=100), metadata={"description": "Search"})
    as_of = Day()


class ItemListArgs(ListArgs):
    counterparty_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    project_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    open_only = ma.fields.Boolean(load_default=False)


class ReceiptListArgs(ListArgs):
    counterparty_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    received_from = Day()
    received_until = Day()


class AgingArgs(ListArgs):
    as_of = Day()
    by = ma.fields.String(
        load_default="counterparty",
        validate=validate.OneOf(["counterparty", "project", "department", "responsible"]),
    )
    basis = ma.fields.String(load_default="due", validate=validate.OneOf(["due", "age"]))


class StatementArgs(ListArgs):
    as_of = Day()
    open_only = ma.fields.Boolean(load_default=False)


class CaseListArgs(ListArgs):
    status = ma.fields.String(
        load_default="active",
        validate=validate.OneOf(["active", "all", "open", "in_progress", "referred", "closed"]),
    )
    counterparty_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class ActivityListArgs(ListArgs):
    counterparty_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    case_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


# ---------------------------------------------------------------------------------------------
# Parties


class CounterpartySchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    credit_code = ma.fields.String(allow_none=True)
    credit_limit = Amount(allow_none=True)
    financial_status = ma.fields.String()
    business_status = ma.fields.String()
    active = ma.fields.Boolean()
    department = ma.fields.String(allow_none=True)
    responsible = ma.fields.String(allow_none=True, metadata={"description": "username"})
    outstanding = Amount()
    overdue = Amount()
    unapplied_credit = Amount(allow_none=True)


class ProjectSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    employer_code = ma.fields.String(allow_none=True)
    department = ma.fields.String(allow_none=True)
    prospects = ma.fields.String()
    active = ma.fields.Boolean()
    outstanding = Amount()
    overdue = Amount()


# ---------------------------------------------------------------------------------------------
# Items and receipts


class ItemSchema(ma.Schema):
    id = ma.fields.Integer()
    document_no = ma.fields.String()
    counterparty_id = ma.fields.Integer()
    counterparty_code = ma.fields.String()
    project_code = ma.fields.String(allow_none=True)
    contract_no = ma.fields.String(allow_none=True)
    item_type = ma.fields.String()
    category = ma.fields.String()
    amount = Amount()
    open_amount = Amount(metadata={"description": "Outstanding today"})
    recognized_on = Day()
    due_on = Day()
    department = ma.fields.String(allow_none=True)
    responsible = ma.fields.String(allow_none=True)
    overdue_rate = Rate(allow_none=True)
    description = ma.fields.String(allow_none=True)


MAX_BATCH = 500  # records in one batch (all or nothing)


class LedgerDocumentInput(Strict):
    """What every document posted to the ledger (an item, a receipt) carries: the
    counterparty's code and an amount; its number (``document_number()``) has the
    subclass's own name (``document_no``, ``receipt_no``)."""

    counterparty_code = text(64, required=True)
    amount = Amount(required=True, metadata={"example": "1234.50"})


def document_number():
    """The document's own number (e.g. an invoice or a bank slip number)."""
    return text(64, required=True)


def batch_of(schema: type[ma.Schema]) -> ma.fields.List:
    """The list of a batch input: 1 to MAX_BATCH records of ``schema``."""
    return ma.fields.List(
        ma.fields.Nested(schema), required=True, validate=validate.Length(min=1, max=MAX_BATCH)
    )


class ItemInput(LedgerDocumentInput):
    document_no = document_number()
    project_code = optional_text(64)
    contract_no = optional_text(64)
    item_type = ma.fields.String(required=True, validate=validate.OneOf(sorted(ITEM_TYPES)))
    recognized_on = Day(required=True)
    due_on = Day(required=True)
    responsible_username = optional_text(64)
    overdue_rate = Rate(allow_none=True)
    description = optional_text(500)

    @ma.validates_schema
    def dates_in_order(self, data, **kwargs):
        if (
            data.get("due_on")
            and data.get("recognized_on")
            and (data["due_on"] < data["recognized_on"])
        ):
            raise ma.ValidationError(
                "The due date is before the recognition date.", field_name="due_on"
            )


class ItemBatchInput(Strict):
    items = batch_of(ItemInput)


class ReceiptSchema(ma.Schema):
    id = ma.fields.Integer()
    receipt_no = ma.fields.String()
    counterparty_id = ma.fields.Integer()
    counterparty_code = ma.fields.String()
    amount = Amount()
    received_on = Day()
    method = ma.fields.String()
    reference = ma.fields.String(allow_none=True)
    item_document_no = ma.fields.String(allow_none=True)
    applied = Amount(metadata={"description": "How much allocation applied to items"})
    unapplied = Amount()


class ReceiptInput(LedgerDocumentInput):
    receipt_no = document_number()
    received_on = Day(required=True)
    method = ma.fields.String(
        load_default="transfer", validate=validate.OneOf(sorted(RECEIPT_METHODS))
    )
    reference = optional_text(200)
    item_document_no = optional_text(64)


class ReceiptBatchInput(Strict):
    receipts = batch_of(ReceiptInput)


# ---------------------------------------------------------------------------------------------
# Aging and statement


class AgingRowSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True)
    key = ma.fields.String()
    name = ma.fields.String()
    values = ma.fields.Dict(keys=ma.fields.String(), values=Amount())
    total = Amount()


class AgingPage(ma.Schema):
    as_of = Day()
    by = ma.fields.String()
    basis = ma.fields.String()
    columns = ma.fields.List(ma.fields.String())
    data = ma.fields.List(ma.fields.Nested(AgingRowSchema))
    pagination = ma.fields.Nested(PaginationSchema)


class StatementItemSchema(ma.Schema):
    id = ma.fields.Integer()
    document_no = ma.fields.String()
    item_type = ma.fields.String()
    recognized_on = Day()
    due_on = Day()
    amount = Amount()
    applied = Amount()
    credited = Amount()
    outstanding = Amount()
    days_overdue = ma.fields.Integer()
    interest = Amount()


class StatementReceiptSchema(ma.Schema):
    id = ma.fields.Integer()
    receipt_no = ma.fields.String()
    received_on = Day()
    amount = Amount()
    applied = Amount()
    unapplied = Amount()


class CounterpartyRefSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class StatementSchema(ma.Schema):
    counterparty = ma.fields.Nested(CounterpartyRefSchema)
    as_of = Day()
    totals = ma.fields.Dict(keys=ma.fields.String(), values=Amount())
    due_aging = ma.fields.Dict(keys=ma.fields.String(), values=Amount())
    age_aging = ma.fields.Dict(keys=ma.fields.String(), values=Amount())
    item_count = ma.fields.Integer()
    receipt_count = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(StatementItemSchema))
    receipts = ma.fields.List(ma.fields.Nested(StatementReceiptSchema))
    pagination = ma.fields.Nested(PaginationSchema)


# ---------------------------------------------------------------------------------------------
# Cases and activities


class CaseSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    counterparty_id = ma.fields.Integer()
    counterparty_code = ma.fields.String()
    status = ma.fields.String()
    outcome = ma.fields.String(allow_none=True)
    cause = ma.fields.String()
    opened_on = Day()
    target_amount = Amount(allow_none=True)
    target_date = Day(allow_none=True)
    assignee = ma.fields.String(allow_none=True)


class ActivitySchema(ma.Schema):
    id = ma.fields.Integer()
    counterparty_id = ma.fields.Integer()
    counterparty_code = ma.fields.String()
    case_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String()
    occurred_at = ma.fields.String(metadata={"description": "Company local time, ISO"})
    user = ma.fields.String()
    contact_id = ma.fields.Integer(allow_none=True)
    connected = ma.fields.Boolean()
    summary = ma.fields.String()
    outcome = ma.fields.String(allow_none=True)
    next_step = ma.fields.String(allow_none=True)
    next_step_on = Day(allow_none=True)
    interrupts_limitation = ma.fields.Boolean()
    review_status = ma.fields.String()
    conduct_warning = ma.fields.String(allow_none=True)


class ActivityInput(Strict):
    counterparty_code = text(64, required=True)
    case_id = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    kind = ma.fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    occurred_at = LocalTime(
        required=True, metadata={"description": "Company local time, e.g. 2026-03-31T14:05"}
    )
    summary = text(5000, required=True)
    contact_id = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    connected = ma.fields.Boolean(load_default=True)
    outcome = optional_text(500)
    next_step = optional_text(500)
    next_step_on = Day(allow_none=True)
    proof_of_arrival = optional_text(300)
    debtor_acknowledged = ma.fields.Boolean(load_default=False)
    conduct_override_reason = optional_text(500)
    promise_amount = Amount(allow_none=True)
    promise_due_on = Day(allow_none=True)
    promise_note = optional_text(500)


# ---------------------------------------------------------------------------------------------
# Credit check


class CreditCheckInput(Strict):
    counterparty_code = text(64, required=True)
    amount = Amount(required=True, allow_zero=True, metadata={"example": "50000.00"})
    as_of = Day(metadata={"description": "Default: today"})


class CreditReasonSchema(ma.Schema):
    rule = ma.fields.String()
    value = ma.fields.String(metadata={"description": "An amount, or days / a count"})
    limit = ma.fields.String()
    group = ma.fields.String(allow_none=True)


class CreditExceptionSchema(ma.Schema):
    id = ma.fields.Integer()
    cap = Amount()
    used = Amount()
    remaining = Amount()
    valid_until = Day()


class CreditCheckSchema(ma.Schema):
    counterparty_code = ma.fields.String()
    amount = Amount()
    as_of = Day()
    decision = ma.fields.String(validate=validate.OneOf(["allow", "hold"]))
    reasons = ma.fields.List(ma.fields.Nested(CreditReasonSchema))
    exposure = Amount()
    limit = Amount(allow_none=True)
    exception = ma.fields.Nested(CreditExceptionSchema, allow_none=True)


# ---------------------------------------------------------------------------------------------
# Errors (documented in the OpenAPI document)


class ErrorBodySchema(ma.Schema):
    status = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)
