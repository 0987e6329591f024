"""The public "AR late payments" data set: 2,466 real invoices with their due and settlement
dates (``../shared/data/ar_late_payments.csv``), loaded into the ledger.

Each customer becomes a counterparty, each invoice an item (recognised on the invoice date, due
on the due date, for the invoice amount) and each settlement a receipt on the settlement date
naming its invoice, for the full amount. Allocation then runs as for any document, so the days
late and days to settle the ledger gives can be checked against the file's own columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from recovery import PROJECT_ROOT
from recovery.core.money import AmountError, parse_amount
from recovery.core.sqltime import days_between
from recovery.demo.ledger import insert_with_audit
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.ledger.models import Application, Item, Receipt
from recovery.parties.models import Counterparty

DEFAULT_PATH = PROJECT_ROOT.parent / "shared" / "data" / "ar_late_payments.csv"
COLUMNS = (
    "countryCode",
    "customerID",
    "PaperlessDate",
    "invoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceAmount",
    "Disputed",
    "SettledDate",
    "PaperlessBill",
    "DaysToSettle",
    "DaysLate",
)
RECEIPT_PREFIX = "ST-"  # receipt number: ST-<invoice number>


class DataSetError(ValueError):
    """The file is missing or not the data set; the message says where and why."""


@dataclass(frozen=True)
class Invoice:
    country: str
    customer: str
    number: str
    invoice_on: date
    due_on: date
    amount: Decimal
    disputed: bool
    settled_on: date
    paperless: str
    days_to_settle: int
    days_late: int


def _us_date(text: str) -> date:
    return datetime.strptime(text.strip(), "%m/%d/%Y").date()


def read_invoices(path: Path) -> list[Invoice]:
    """Parse the file (US dates M/D/YYYY, amounts with up to two decimals); refuse it whole,
    naming the line, on any malformed row."""
    path = Path(path)
    if not path.is_file():
        raise DataSetError(f"{path}: no such file")
    invoices = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DataSetError(f"{path}: missing columns {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                invoices.append(
                    Invoice(
                        country=row["countryCode"].strip(),
                        customer=row["customerID"].strip(),
                        number=row["invoiceNumber"].strip(),
                        invoice_on=_us_date(row["InvoiceDate"]),
                        due_on=_us_date(row["DueDate"]),
                        amount=parse_amount(row["InvoiceAmount"]),
                        disputed=row["Disputed"].strip().lower() == "yes",
                        settled_on=_us_date(row["SettledDate"]),
                        paperless=row["PaperlessBill"].strip(),
                        days_to_settle=int(row["DaysToSettle"]),
                        days_late=int(row["DaysLate"]),
                    )
                )
            except (ValueError, AmountError) as exc:
                raise DataSetError(f"{path}, line {line}: {exc}") from exc
    numbers = [i.number for i in invoices]
    if len(set(numbers)) != len(numbers):
        raise DataSetError(f"{path}: invoice numbers repeat")
    return invoices


@dataclass
class LoadResult:
    invoices: int = 0
    counterparties: int = 0
    items: int = 0
    receipts: int = 0
    matching: int = 0


def load(path: Path | None = None) -> LoadResult:
    """Add the data set's customers, invoices and settlements that the ledger lacks (loading
    twice adds nothing), replay allocation for the customers touched, and count the invoices
    whose days late and days to settle, as the ledger now gives them, match the file."""
    invoices = read_invoices(path or DEFAULT_PATH)
    result = LoadResult(invoices=len(invoices))
    cp_t, items_t, receipts_t = Counterparty.__table__, Item.__table__, Receipt.__table__

    customers = sorted({(i.customer, i.country) for i in invoices})
    known = set(db.session.scalars(sa.select(cp_t.c.code).where(cp_t.c.code.in_(
        [code for code, _country in customers]
    ))))  # fmt: skip
    new_parties = [
        {
            "code": code,
            "name": f"AR late payments customer {code}",
            "kind": "customer",
            "financial_status": "good",
            "business_status": "normal",
            "active": True,
        }
        for code, _country in customers
        if code not in known
    ]
    insert_with_audit(cp_t, new_parties, "code")
    result.counterparties = len(new_parties)
    party_ids = dict(db.session.execute(sa.select(cp_t.c.code, cp_t.c.id).where(
        cp_t.c.code.in_([code for code, _country in customers])
    )).all())  # fmt: skip
    # Bulk inserts below bypass the session listener: keep the month-end snapshots right.
    from recovery.dashboard import snapshots

    snapshots.will_change(party_ids.values())

    existing_items = _existing(items_t.c.document_no, [i.number for i in invoices])
    new_items = [
        {
            "document_no": i.number,
            "counterparty_id": party_ids[i.customer],
            "item_type": "goods",
            "category": "accounts_receivable",
            "amount": i.amount,
            "recognized_on": i.invoice_on,
            "due_on": i.due_on,
            "description": (
                f"country {i.country}; {i.paperless.lower()} bill"
                + ("; disputed" if i.disputed else "")
            ),
            "open_amount": i.amount,
        }
        for i in invoices
        if i.number not in existing_items
    ]
    insert_with_audit(items_t, new_items, "document_no")
    result.items = len(new_items)
    item_ids = dict(db.session.execute(sa.select(items_t.c.document_no, items_t.c.id).where(
        items_t.c.document_no.in_([i.number for i in invoices])
    )).all())  # fmt: skip

    existing_receipts = _existing(
        receipts_t.c.receipt_no, [RECEIPT_PREFIX + i.number for i in invoices]
    )
    new_receipts = [
        {
            "receipt_no": RECEIPT_PREFIX + i.number,
            "counterparty_id": party_ids[i.customer],
            "amount": i.amount,
            "received_on": i.settled_on,
            "method": "transfer",
            "reference": f"settlement of invoice {i.number}",
            "item_id": item_ids[i.number],
        }
        for i in invoices
        if RECEIPT_PREFIX + i.number not in existing_receipts
    ]
    insert_with_audit(receipts_t, new_receipts, "receipt_no")
    result.receipts = len(new_receipts)

    touched = {row["counterparty_id"] for row in new_items + new_receipts}
    for counterparty_id in sorted(touched):
        ledger.reallocate(counterparty_id)

    computed = settlement_days([i.number for i in invoices])
    result.matching = sum(
        1
        for i in invoices
        if computed.get(i.number, (None, None, None))[1:] == (i.days_to_settle, i.days_late)
    )
    return result


def _existing(column, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 5000):
        chunk = values[start : start + 5000]
        found.update(db.session.scalars(sa.select(column).where(column.in_(chunk))))
    return found


def settlement_days(document_numbers: list[str] | None = None):
    """{document_no: (fully paid on, days to settle, days late)} for items fully paid by
    their applications, in one SQL query.

    Fully paid on = the last application's date of an item whose open amount is 0; days to
    settle = from recognition to that date; days late = from the due date to it, 0 when paid
    on or before the due date.
    """
    items_t, apps_t = Item.__table__, Application.__table__
    paid = (
        sa.select(apps_t.c.item_id, sa.func.max(apps_t.c.applied_on).label("paid_on"))
        .group_by(apps_t.c.item_id)
        .subquery("paid")
    )
    late = days_between(paid.c.paid_on, items_t.c.due_on)
    query = (
        sa.select(
            items_t.c.document_no,
            paid.c.paid_on,
            days_between(paid.c.paid_on, items_t.c.recognized_on),
            sa.case((late > 0, late), else_=0),
        )
        .join(paid, paid.c.item_id == items_t.c.id)
        .where(items_t.c.open_amount == 0)
    )
    out = {}
    numbers = document_numbers
    chunks = (
        [None]
        if numbers is None
        else [numbers[start : start + 5000] for start in range(0, len(numbers), 5000)]
    )
    for chunk in chunks:
        chunk_query = query if chunk is None else query.where(items_t.c.document_no.in_(chunk))
        for number, paid_on, to_settle, days_late in db.session.execute(chunk_query):
            out[number] = (paid_on, int(to_settle), int(days_late))
    return out
