"""Fixtures of the API tests: users with tokens, a little ledger."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from recovery.extensions import db


@pytest.fixture
def token_for(app, make_user):
    """token_for(username, *roles, scope="write", expires_at=None) -> the plain token."""

    def make(username, *roles, scope="write", expires_at=None):
        from recovery.api import tokens
        from recovery.auth.models import User

        user = make_user(username, *roles)
        with app.app_context():
            _token, plain = tokens.create_token(
                db.session.get(User, user.id), name="ERP", scope=scope, expires_at=expires_at
            )
            db.session.commit()
        return plain

    return make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def ledger(app, make_user):
    """Two counterparties (C1 owned by sales user "rep", C2 by nobody) with items."""
    from recovery.ledger import services
    from recovery.parties import services as parties

    rep = make_user("rep", "sales")
    with app.app_context():
        c1 = parties.save_counterparty(code="C1", name="客户一", responsible_id=rep.id)
        c2 = parties.save_counterparty(code="C2", name="客户二", credit_limit=Decimal("1000.00"))
        today = date.today()
        services.create_item(
            document_no="I-1",
            counterparty_id=c1.id,
            item_type="progress",
            amount=Decimal("500.00"),
            recognized_on=today - timedelta(days=200),
            due_on=today - timedelta(days=150),
        )
        services.create_item(
            document_no="I-2",
            counterparty_id=c2.id,
            item_type="progress",
            amount=Decimal("800.00"),
            recognized_on=today - timedelta(days=10),
            due_on=today + timedelta(days=20),
        )
        db.session.commit()
        ids = {"C1": c1.id, "C2": c2.id, "rep": rep.id}
    return ids


def now_local_text() -> str:
    return (datetime.now() - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S")
