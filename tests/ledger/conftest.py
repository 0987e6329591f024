"""Builders for ledger tests: counterparties, items and receipts through the real services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.parties import services as parties


class LedgerBuilder:
    """Creates documents through the services (so allocation runs) inside an app context."""

    def __init__(self):
        self._counter = 0

    def _next(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:05d}"

    def counterparty(self, code=None, name=None, kind="customer", **values):
        code = code or self._next("C")
        return parties.save_counterparty(code=code, name=name or f"客户{code}", kind=kind, **values)

    def item(self, counterparty, amount, recognized_on, due_on, document_no=None, **values):
        values.setdefault("item_type", "goods")
        return ledger.create_item(
            document_no=document_no or self._next("INV"),
            counterparty_id=counterparty.id,
            amount=Decimal(str(amount)),
            recognized_on=recognized_on,
            due_on=due_on,
            **values,
        )

    def receipt(self, counterparty, amount, received_on, receipt_no=None, item=None, **values):
        return ledger.create_receipt(
            receipt_no=receipt_no or self._next("R"),
            counterparty_id=counterparty.id,
            amount=Decimal(str(amount)),
            received_on=received_on,
            item_id=item.id if item is not None else None,
            **values,
        )


@pytest.fixture
def build(app):
    """A LedgerBuilder with an app context pushed for the test's duration."""
    with app.app_context():
        yield LedgerBuilder()
        db.session.rollback()


D = date
