"""Export of items, receipts and credit notes / write-offs in the import format, and a response
helper for any table.

The exported columns are exactly the import columns (English or Chinese headers), so a file
exported here imports back unchanged: export → import into an empty database gives the same
reports. Values are written as the importer reads them: codes for types, kinds and methods,
department names, usernames, plain decimals, ISO dates. Formula-like text is neutralised by
recovery.core.spreadsheets (and the leading apostrophe is removed again on import).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response

from recovery.auth.models import Department, User
from recovery.core import spreadsheets
from recovery.extensions import db
from recovery.imports.formats import headers
from recovery.ledger.models import Adjustment, Item, Receipt
from recovery.ledger.queries import LedgerFilter
from recovery.parties.models import Contract, Counterparty, Project

YIELD_PER = 5000


def send_table(columns: Sequence[str], rows: Iterable[Sequence], fmt: str, filename: str):
    """A download response of ``rows`` under ``columns`` as CSV or XLSX.

    ``filename`` may hold Chinese: the header carries an ASCII fallback and the UTF-8 name
    (RFC 6266). Raises ValueError for an unknown format.
    """
    if fmt not in spreadsheets.FORMATS:
        raise ValueError(f"unknown format {fmt}")
    if not filename.lower().endswith("." + fmt):
        filename = f"{filename}.{fmt}"
    data = spreadsheets.write_table(columns, rows, fmt, title=filename.rsplit(".", 1)[0])
    response = Response(data, mimetype=spreadsheets.MIMETYPES[fmt])
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    fallback = fallback.replace('"', "_").replace("\\", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _rate(value) -> Decimal | None:
    """6.5000 → 6.5 (the file shows the rate as typed, without exponent)."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return Decimal(format(value.normalize(), "f"))


def effective_annual_rate(item_rate, contract_rate, contract_basis, day_count: int):
    """The rate the item's overdue interest is computed at, as the file's annual percent: its
    own, else its contract's — a rate agreed per day times the day count (0.05 %/day at
    actual/365 is 18.25 % a year: the same interest to the fen, as rules.interest_from_fen_days
    divides the annual rate by the same day count) — else none (the default setting applies)."""
    if item_rate is not None:
        return _rate(item_rate)
    if contract_rate is None:
        return None
    if contract_basis == "daily":
        return _rate(Decimal(contract_rate) * day_count)
    return _rate(contract_rate)


def item_rows(item_filter: LedgerFilter | None = None, as_of: date | None = None) -> Iterator[list]:
    """One row per item, in the import's column order.

    ``as_of`` given: the ledger as of that date (items recognised by then); the filter's
    overdue and bucket conditions are evaluated as of that date, else as of today.
    overdue_rate is the item's effective annual rate (effective_annual_rate), so that the
    contract's overdue terms travel with its items.
    """
    from recovery.ledger.statement import interest_terms

    day_count = interest_terms().day_count
    items, cps = Item.__table__, Counterparty.__table__
    projects, contracts = Project.__table__, Contract.__table__
    departments, users = Department.__table__, User.__table__
    query = (
        sa.select(
            cps.c.code,
            cps.c.name,
            cps.c.kind,
            projects.c.code,
            projects.c.name,
            contracts.c.number,
            items.c.document_no,
            items.c.item_type,
            items.c.amount,
            items.c.recognized_on,
            items.c.due_on,
            departments.c.name,
            users.c.username,
            items.c.overdue_rate,
            contracts.c.overdue_rate,
            contracts.c.rate_basis,
        )
        .select_from(items)
        .join(cps, cps.c.id == items.c.counterparty_id)
        .outerjoin(projects, projects.c.id == items.c.project_id)
        .outerjoin(contracts, contracts.c.id == items.c.contract_id)
        .outerjoin(departments, departments.c.id == items.c.department_id)
        .outerjoin(users, users.c.id == items.c.responsible_id)
        .order_by(cps.c.code, items.c.recognized_on, items.c.document_no)
    )
    if item_filter is not None:
        query = item_filter.apply(query, items.c, as_of or date.today())
    if as_of is not None:
        query = query.where(items.c.recognized_on <= as_of)
    for row in db.session.execute(query.execution_options(yield_per=YIELD_PER)):
        values = list(row[:13])
        values.append(effective_annual_rate(row[13], row[14], row[15], day_count))
        yield values


def receipt_rows(
    item_filter: LedgerFilter | None = None, as_of: date | None = None
) -> Iterator[list]:
    """One row per receipt, in the import's column order.

    Of the filter, the counterparty and the visibility (a sales user's own accounts) apply;
    ``as_of`` keeps the receipts received by then.
    """
    receipts, cps, items = Receipt.__table__, Counterparty.__table__, Item.__table__
    query = (
        sa.select(
            receipts.c.receipt_no,
            cps.c.code,
            receipts.c.amount,
            receipts.c.received_on,
            receipts.c.method,
            items.c.document_no,
            receipts.c.reference,
        )
        .select_from(receipts)
        .join(cps, cps.c.id == receipts.c.counterparty_id)
        .outerjoin(items, items.c.id == receipts.c.item_id)
        .order_by(cps.c.code, receipts.c.received_on, receipts.c.receipt_no)
    )
    if item_filter is not None and item_filter.counterparty_id is not None:
        query = query.where(receipts.c.counterparty_id == item_filter.counterparty_id)
    if item_filter is not None and item_filter.visible_to is not None:
        # A sales user sees the receipts of the counterparties they are responsible for, or
        # for one of whose items they are.
        own_items = sa.select(items.c.counterparty_id).where(
            items.c.responsible_id == item_filter.visible_to
        )
        query = query.where(
            sa.or_(
                cps.c.responsible_id == item_filter.visible_to,
                receipts.c.counterparty_id.in_(own_items),
            )
        )
    if as_of is not None:
        query = query.where(receipts.c.received_on <= as_of)
    for row in db.session.execute(query.execution_options(yield_per=YIELD_PER)):
        yield list(row)


def adjustment_rows(
    item_filter: LedgerFilter | None = None, as_of: date | None = None
) -> Iterator[list]:
    """One row per approved credit note or write-off, in the import's column order (proposed
    and rejected ones are not part of the ledger's figures).

    Of the filter, the counterparty and the visibility apply (as for receipts); ``as_of``
    keeps those dated by then."""
    adjustments, items, cps = Adjustment.__table__, Item.__table__, Counterparty.__table__
    query = (
        sa.select(
            adjustments.c.number,
            items.c.document_no,
            adjustments.c.kind,
            adjustments.c.amount,
            adjustments.c.dated_on,
            adjustments.c.reason,
        )
        .select_from(adjustments)
        .join(items, items.c.id == adjustments.c.item_id)
        .join(cps, cps.c.id == items.c.counterparty_id)
        .where(adjustments.c.status == "approved")
        .order_by(cps.c.code, adjustments.c.dated_on, adjustments.c.number)
    )
    if item_filter is not None and item_filter.counterparty_id is not None:
        query = query.where(items.c.counterparty_id == item_filter.counterparty_id)
    if item_filter is not None and item_filter.visible_to is not None:
        own_items = sa.select(items.c.counterparty_id).where(
            items.c.responsible_id == item_filter.visible_to
        )
        query = query.where(
            sa.or_(
                cps.c.responsible_id == item_filter.visible_to,
                items.c.counterparty_id.in_(own_items),
            )
        )
    if as_of is not None:
        query = query.where(adjustments.c.dated_on <= as_of)
    for row in db.session.execute(query.execution_options(yield_per=YIELD_PER)):
        yield list(row)


ROWS = {"items": item_rows, "receipts": receipt_rows, "adjustments": adjustment_rows}


def export_table(kind: str, item_filter=None, as_of=None, language: str = "en"):
    """(columns, rows) of an export of ``kind`` ("items", "receipts" or "adjustments")."""
    return headers(kind, language), ROWS[kind](item_filter, as_of)
