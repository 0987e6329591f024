"""Items and receipts (read, create, batch create), aging and a counterparty's statement.

Writes go through recovery.ledger.services (allocation replayed, audited, credit holds
re-evaluated by their listeners), need the write scope and the finance role, are all or
nothing, and honour Idempotency-Key (recovery.api.idempotency).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from recovery.api import access, blueprint
from recovery.api.common import (
    counterparty_by_code,
    not_found,
    scope,
    today,
    user_by_username,
    username_of,
)
from recovery.api.errors import ApiError
from recovery.api.idempotency import IDEMPOTENT, write_once
from recovery.api.pagination import page_of, page_of_list, pagination
from recovery.api.schemas import (
    AgingArgs,
    AgingPage,
    ItemBatchInput,
    ItemInput,
    ItemListArgs,
    ItemSchema,
    ReceiptBatchInput,
    ReceiptInput,
    ReceiptListArgs,
    ReceiptSchema,
    StatementArgs,
    StatementSchema,
    batch_result_schema,
    page_schema,
)
from recovery.core.money import ZERO, from_fen
from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SALES, SUPERVISOR
from recovery.extensions import db
from recovery.ledger import queries, screen_queries, services
from recovery.ledger.models import Application, Item, Receipt
from recovery.ledger.statement import build_statement
from recovery.parties.models import Contract, Counterparty, Project

bp = blueprint("api_ledger", "Items, receipts, aging and statements")

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
WRITERS = (FINANCE,)


# ---------------------------------------------------------------------------------------------
# Items


def item_json(item: Item) -> dict:
    return {
        "id": item.id,
        "document_no": item.document_no,
        "counterparty_id": item.counterparty_id,
        "counterparty_code": item.counterparty.code,
        "project_code": item.project.code if item.project else None,
        "contract_no": item.contract.number if item.contract else None,
        "item_type": item.item_type,
        "category": item.category,
        "amount": item.amount,
        "open_amount": item.open_amount,
        "recognized_on": item.recognized_on,
        "due_on": item.due_on,
        "department": item.department.name if item.department else None,
        "responsible": username_of(item.responsible),
        "overdue_rate": item.overdue_rate,
        "description": item.description,
    }


ITEM_LOADS = (
    selectinload(Item.counterparty),
    selectinload(Item.project),
    selectinload(Item.contract),
    selectinload(Item.department),
    selectinload(Item.responsible),
)


def _visible_item_query():
    query = sa.select(Item).options(*ITEM_LOADS)
    item_filter = queries.LedgerFilter(visible_to=scope())
    return item_filter.apply(query, Item.__table__.c, today())


@bp.route("/items", methods=["GET"])
@access(*READERS)
@bp.arguments(ItemListArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(ItemSchema))
def items(page, per_page, counterparty_id=None, project_id=None, open_only=False):
    """Items by id (a sales user: those of their accounts)."""
    query = _visible_item_query()
    if counterparty_id:
        query = query.where(Item.counterparty_id == counterparty_id)
    if project_id:
        query = query.where(Item.project_id == project_id)
    if open_only:
        query = query.where(Item.open_amount != ZERO)
    rows, paging = page_of(query.order_by(Item.id), page, per_page)
    return {"data": [item_json(i) for i in rows], "pagination": paging}


@bp.route("/items/<int:item_id>", methods=["GET"])
@access(*READERS)
@bp.response(200, ItemSchema)
def item(item_id: int):
    """One item."""
    found = db.session.scalar(_visible_item_query().where(Item.id == item_id))
    if found is None:
        raise not_found(_("No item has this id."))
    return item_json(found)


def _lookup(model, column, value, field, message, errors):
    if not value:
        return None
    found = db.session.scalar(sa.select(model).where(column == value.strip()))
    if found is None:
        errors[field] = [message]
    return found


def _item_values(data: dict) -> tuple[dict | None, dict]:
    """Plain values for services.create_item, or None with the errors per field."""
    errors: dict[str, list[str]] = {}
    counterparty = counterparty_by_code(data["counterparty_code"])
    if counterparty is None:
        errors["counterparty_code"] = [_("No counterparty has this code.")]
    project = _lookup(
        Project, Project.code, data.get("project_code"), "project_code",
        _("No project has this code."), errors,
    )  # fmt: skip
    contract = _lookup(
        Contract, Contract.number, data.get("contract_no"), "contract_no",
        _("No contract has this number."), errors,
    )  # fmt: skip
    if (
        contract is not None
        and counterparty is not None
        and (contract.counterparty_id != counterparty.id)
    ):
        errors["contract_no"] = [_("The contract is another counterparty's.")]
    responsible_id = None
    if data.get("responsible_username"):
        user = user_by_username(data["responsible_username"])
        if user is None:
            errors["responsible_username"] = [_("No active user has this username.")]
        else:
            responsible_id = user.id
    if errors:
        return None, errors
    return {
        "document_no": data["document_no"].strip(),
        "counterparty_id": counterparty.id,
        "project_id": project.id if project else None,
        "contract_id": contract.id if contract else None,
        "item_type": data["item_type"],
        "amount": data["amount"],
        "recognized_on": data["recognized_on"],
        "due_on": data["due_on"],
        "department_id": None,
        "responsible_id": responsible_id,
        "overdue_rate": data.get("overdue_rate"),
        "description": (data.get("description") or "").strip() or None,
    }, {}


def _service_error(error: services.LedgerError, default_field: str) -> dict:
    return {error.field or default_field: [str(error.message)]}


def _create_all(records: list[dict], values_of, key: str, duplicate, create, error_field):
    """Create every record or none: first check them all, then write them all. ``values_of``
    gives (values, errors) per record; ``duplicate(n)`` the message for a number already in
    record n; ``error_field(error)`` the per-field errors of a refusal by the service."""
    problems: dict[str, dict] = {}
    prepared = []
    seen: dict[str, int] = {}
    for index, data in enumerate(records):
        values, errors = values_of(data)
        number = data[key].strip()
        if number in seen:
            errors[key] = [duplicate(seen[number])]
        seen.setdefault(number, index)
        if errors:
            problems[str(index)] = errors
        prepared.append(values)
    if problems:
        raise _batch_refused(problems, len(records))
    created = []
    for index, values in enumerate(prepared):
        try:
            created.append(create(**values))
        except services.LedgerError as error:
            db.session.rollback()
            raise _batch_refused({str(index): error_field(error)}, len(records)) from None
    return created


def _create_items(records: list[dict]) -> list[Item]:
    return _create_all(
        records,
        _item_values,
        "document_no",
        lambda n: _("The same document number is in record %(n)s.", n=n),
        services.create_item,
        lambda error: _service_error(error, "document_no"),
    )


def _batch_refused(problems: dict, count: int) -> ApiError:
    if count == 1:
        return ApiError(422, details={"fields": problems["0"]})
    return ApiError(
        422,
        _(
            "%(n)s of %(total)s records are refused; nothing was saved.",
            n=len(problems),
            total=count,
        ),
        details={"records": problems},
    )


@bp.route("/items", methods=["POST"])
@access(*WRITERS, write=True)
@bp.doc(**IDEMPOTENT)
@bp.arguments(ItemInput)
@bp.response(201, ItemSchema)
def item_create(data):
    """Add an item (finance). Allocation is replayed for its counterparty."""

    def write():
        (created,) = _create_items([data])
        return ItemSchema().dump(item_json(created)), 201

    return write_once(write)


@bp.route("/items/batch", methods=["POST"])
@access(*WRITERS, write=True)
@bp.doc(**IDEMPOTENT)
@bp.arguments(ItemBatchInput)
@bp.response(201, batch_result_schema(ItemSchema))
def item_batch(data):
    """Add up to 500 items at once: all of them, or none (with the errors per record)."""

    def write():
        created = _create_items(data["items"])
        body = {"data": [item_json(i) for i in created], "count": len(created)}
        return batch_result_schema(ItemSchema)().dump(body), 201

    return write_once(write)


# ---------------------------------------------------------------------------------------------
# Receipts


def _applied(receipt_ids: list[int]) -> dict[int, object]:
    if not receipt_ids:
        return {}
    table = Application.__table__
    rows = db.session.execute(
        sa.select(table.c.receipt_id, sa.func.sum(queries.fen(table.c.amount)))
        .where(table.c.receipt_id.in_(receipt_ids))
        .group_by(table.c.receipt_id)
    )
    return {r[0]: from_fen(r[1] or 0) for r in rows}


def receipt_json(receipt: Receipt, applied) -> dict:
    applied = applied if applied is not None else ZERO
    return {
        "id": receipt.id,
        "receipt_no": receipt.receipt_no,
        "counterparty_id": receipt.counterparty_id,
        "counterparty_code": receipt.counterparty.code,
        "amount": receipt.amount,
        "received_on": receipt.received_on,
        "method": receipt.method,
        "reference": receipt.reference,
        "item_document_no": receipt.item.document_no if receipt.item else None,
        "applied": applied,
        "unapplied": receipt.amount - applied,
    }


def _visible_receipt_query():
    query = sa.select(Receipt).options(
        selectinload(Receipt.counterparty), selectinload(Receipt.item)
    )
    user_id = scope()
    if user_id is not None:
        query = query.where(
            Receipt.counterparty_id.in_(screen_queries.visible_counterparty_ids(user_id))
        )
    return query


@bp.route("/receipts", methods=["GET"])
@access(*READERS)
@bp.arguments(ReceiptListArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(ReceiptSchema))
def receipts(page, per_page, counterparty_id=None, received_from=None, received_until=None):
    """Receipts by id (a sales user: those of their accounts)."""
    query = _visible_receipt_query()
    if counterparty_id:
        query = query.where(Receipt.counterparty_id == counterparty_id)
    if received_from:
        query = query.where(Receipt.received_on >= received_from)
    if received_until:
        query = query.where(Receipt.received_on <= received_until)
    rows, paging = page_of(query.order_by(Receipt.id), page, per_page)
    applied = _applied([r.id for r in rows])
    return {"data": [receipt_json(r, applied.get(r.id)) for r in rows], "pagination": paging}


@bp.route("/receipts/<int:receipt_id>", methods=["GET"])
@access(*READERS)
@bp.response(200, ReceiptSchema)
def receipt(receipt_id: int):
    """One receipt, with how much of it allocation applied."""
    found = db.session.scalar(_visible_receipt_query().where(Receipt.id == receipt_id))
    if found is None:
        raise not_found(_("No receipt has this id."))
    return receipt_json(found, _applied([found.id]).get(found.id))


def _receipt_values(data: dict) -> tuple[dict | None, dict]:
    errors: dict[str, list[str]] = {}
    counterparty = counterparty_by_code(data["counterparty_code"])
    if counterparty is None:
        errors["counterparty_code"] = [_("No counterparty has this code.")]
    item_id = None
    if data.get("item_document_no"):
        item_id = db.session.scalar(
            sa.select(Item.id).where(Item.document_no == data["item_document_no"].strip())
        )
        if item_id is None:
            errors["item_document_no"] = [_("No item has this document number.")]
    if errors:
        return None, errors
    return {
        "receipt_no": data["receipt_no"].strip(),
        "counterparty_id": counterparty.id,
        "amount": data["amount"],
        "received_on": data["received_on"],
        "method": data.get("method") or "transfer",
        "reference": (data.get("reference") or "").strip() or None,
        "item_id": item_id,
    }, {}


RECEIPT_FIELDS = {"item_id": "item_document_no", "counterparty_id": "counterparty_code"}


def _create_receipts(records: list[dict]) -> list[Receipt]:
    def error_field(error: services.LedgerError) -> dict:
        field = RECEIPT_FIELDS.get(error.field, error.field) or "receipt_no"
        return {field: [str(error.message)]}

    return _create_all(
        records,
        _receipt_values,
        "receipt_no",
        lambda n: _("The same receipt number is in record %(n)s.", n=n),
        services.create_receipt,
        error_field,
    )


def _receipts_body(created: list[Receipt]) -> list[dict]:
    db.session.flush()
    applied = _applied([r.id for r in created])
    return [ReceiptSchema().dump(receipt_json(r, applied.get(r.id))) for r in created]


@bp.route("/receipts", methods=["POST"])
@access(*WRITERS, write=True)
@bp.doc(**IDEMPOTENT)
@bp.arguments(ReceiptInput)
@bp.response(201, ReceiptSchema)
def receipt_create(data):
    """Add a receipt (finance): allocation applies it to the counterparty's items."""

    def write():
        (body,) = _receipts_body(_create_receipts([data]))
        return body, 201

    return write_once(write)


@bp.route("/receipts/batch", methods=["POST"])
@access(*WRITERS, write=True)
@bp.doc(**IDEMPOTENT)
@bp.arguments(ReceiptBatchInput)
@bp.response(201, batch_result_schema(ReceiptSchema))
def receipt_batch(data):
    """Add up to 500 receipts at once: all of them, or none (with the errors per record)."""

    def write():
        body = _receipts_body(_create_receipts(data["receipts"]))
        return {"data": body, "count": len(body)}, 201

    return write_once(write)


# ---------------------------------------------------------------------------------------------
# Aging and statement


@bp.route("/aging", methods=["GET"])
@access(*READERS)
@bp.arguments(AgingArgs, location="query", as_kwargs=True)
@bp.response(200, AgingPage)
def aging(page, per_page, as_of=None, by="counterparty", basis="due"):
    """Aging as of a date, by counterparty, project, department or responsible person, on
    days past due or account age (a sales user: their own accounts)."""
    day = as_of or today()
    item_filter = queries.LedgerFilter(visible_to=scope())
    rows = queries.aging(day, by=by, basis=basis, item_filter=item_filter)
    columns = list(queries.DUE_COLUMNS if basis == "due" else queries.AGE_COLUMNS)
    chunk, paging = page_of_list(rows, page, per_page)
    data = []
    for row in chunk:
        values = dict(row.values)
        data.append(
            {
                "id": row.key_id if isinstance(row.key_id, int) else None,
                "key": str(row.key),
                "name": str(row.name),
                "values": values,
                "total": values.get("outstanding", ZERO),
            }
        )
    return {
        "as_of": day,
        "by": by,
        "basis": basis,
        "columns": columns,
        "data": data,
        "pagination": paging,
    }


@bp.route("/counterparties/<int:counterparty_id>/statement", methods=["GET"])
@access(*READERS)
@bp.arguments(StatementArgs, location="query", as_kwargs=True)
@bp.response(200, StatementSchema)
def statement(counterparty_id: int, page, per_page, as_of=None, open_only=False):
    """A counterparty's statement as of a date: totals, both agings, one page of items (all,
    or only open ones) and the same page of receipts."""
    counterparty = db.session.get(Counterparty, counterparty_id)
    if counterparty is None or not screen_queries.counterparty_visible(counterparty_id, scope()):
        raise not_found(_("No counterparty has this id."))
    day = as_of or today()
    st = build_statement(
        counterparty_id, day, page=page, receipts_page=page, per_page=per_page, open_only=open_only
    )
    total = st.open_item_count if open_only else st.item_count
    return {
        "counterparty": {
            "id": counterparty.id,
            "code": counterparty.code,
            "name": counterparty.name,
        },
        "as_of": day,
        "totals": {
            "amount": st.amount,
            "applied": st.applied,
            "credited": st.credited,
            "outstanding": st.outstanding,
            "overdue": st.overdue,
            "interest": st.interest,
            "received": st.received,
            "unapplied_credit": st.unapplied_credit,
        },
        "due_aging": st.due_aging,
        "age_aging": st.age_aging,
        "item_count": total,
        "receipt_count": st.receipt_count,
        "items": [
            {
                "id": line.id,
                "document_no": line.document_no,
                "item_type": line.item_type,
                "recognized_on": line.recognized_on,
                "due_on": line.due_on,
                "amount": line.amount,
                "applied": line.applied,
                "credited": line.credited,
                "outstanding": line.outstanding,
                "days_overdue": getattr(line, "days_overdue", 0) or 0,
                "interest": line.interest,
            }
            for line in st.items
        ],
        "receipts": [
            {
                "id": r.id,
                "receipt_no": r.receipt_no,
                "received_on": r.received_on,
                "amount": r.amount,
                "applied": r.applied,
                "unapplied": r.unapplied,
            }
            for r in st.receipts
        ],
        "pagination": pagination(page, per_page, max(total, st.receipt_count)),
    }
