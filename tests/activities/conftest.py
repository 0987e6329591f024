"""A small world for collection work: two sales managers with one debtor each (with named
contacts and items), a supervisor, two finance users; and helpers to post the forms."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recovery.extensions import db
from recovery.parties.models import Contact
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder

D = date
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class World:
    cp1: int  # sales1's debtor
    cp2: int  # sales2's debtor
    contact1: int  # cp1's primary contact
    contact1b: int  # cp1's second contact
    contact_inactive: int  # cp1's former contact
    contact2: int  # cp2's contact
    item1: int  # cp1: 10,000.00 due 2025-01-31
    item2: int  # cp2: 5,000.00 due 2025-02-28
    users: dict


@pytest.fixture
def world(app, make_user) -> World:
    users = {
        # English pages: the tests read the messages (zh_CN is the default language).
        name: make_user(name, *roles, language="en").id
        for name, roles in {
            "sales1": ("sales",),
            "sales2": ("sales",),
            "sup1": ("supervisor",),
            "sup2": ("supervisor",),
            "fin1": ("finance",),
            "fin2": ("finance",),
            "exec1": ("executive",),
        }.items()
    }
    with app.app_context():
        build = LedgerBuilder()
        cp1 = build.counterparty("CP1", responsible_id=users["sales1"])
        cp2 = build.counterparty("CP2", responsible_id=users["sales2"])
        contacts = [
            Contact(counterparty_id=cp1.id, name="张经理", phone="13800000001", is_primary=True),
            Contact(counterparty_id=cp1.id, name="李会计", phone="13800000002"),
            Contact(counterparty_id=cp1.id, name="王前任", phone="13800000003", active=False),
            Contact(counterparty_id=cp2.id, name="赵总", phone="13900000001", is_primary=True),
        ]
        db.session.add_all(contacts)
        db.session.flush()
        item1 = build.item(cp1, "10000.00", D(2025, 1, 1), D(2025, 1, 31), "INV-1")
        item2 = build.item(cp2, "5000.00", D(2025, 2, 1), D(2025, 2, 28), "INV-2")
        db.session.commit()
        return World(
            cp1.id,
            cp2.id,
            contacts[0].id,
            contacts[1].id,
            contacts[2].id,
            contacts[3].id,
            item1.id,
            item2.id,
            users,
        )


def sign_in(app, username: str):
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.data
    return client


def activity_data(**fields) -> dict:
    """A connected call to cp1's primary contact on a Monday morning, overridable."""
    data = {
        "kind": "call",
        "occurred_at": "2025-03-03T10:00",
        "connected": "y",
        "summary": "Called about INV-1.",
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    return {k: v for k, v in data.items() if v is not False}


def post_activity(client, counterparty_id: int, files=(), case_id=None, **fields):
    """POST the activity form; ``files``: (name, bytes) pairs."""
    data = activity_data(**fields)
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    query = f"counterparty_id={counterparty_id}"
    if case_id is not None:
        query += f"&case_id={case_id}"
    return client.post(f"/activities/new?{query}", data=data, content_type="multipart/form-data")


def evidence_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "evidence"
    return sorted(folder.iterdir()) if folder.exists() else []


def money(text) -> Decimal:
    return Decimal(str(text))
