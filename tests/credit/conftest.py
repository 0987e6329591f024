"""Credit-control tests: users read English; ledgers built through the real services and
committed, so the session listener re-evaluates the holds as in production."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from recovery.credit import services
from recovery.credit.models import CreditStatus
from recovery.extensions import db
from tests.ledger.conftest import LedgerBuilder

USERS = {
    "sales": ("sales",),
    "sales2": ("sales",),
    "finance": ("finance",),
    "supervisor": ("supervisor",),
    "executive": ("executive",),
    "executive2": ("executive",),
    "legal": ("legal",),
    "admin": ("admin",),
}


class World:
    def __init__(self, user_ids):
        self.user_ids = user_ids
        self.ledger = LedgerBuilder()
        self.today = services.company_today()

    def user(self, name):
        from recovery.auth.models import User

        return db.session.get(User, self.user_ids[name])

    def counterparty(self, responsible="sales", **kw):
        kw.setdefault("responsible_id", self.user_ids[responsible] if responsible else None)
        cp = self.ledger.counterparty(**kw)
        db.session.commit()
        return cp

    def overdue_item(self, cp, amount, days):
        """An item ``days`` past due today (not yet due when days <= 0)."""
        due = self.today - timedelta(days=days)
        item = self.ledger.item(cp, Decimal(str(amount)), due - timedelta(days=30), due)
        db.session.commit()
        return item

    def pay(self, cp, amount, on=None):
        receipt = self.ledger.receipt(cp, Decimal(str(amount)), on or self.today)
        db.session.commit()
        return receipt

    def status(self, cp) -> CreditStatus | None:
        db.session.expire_all()
        return db.session.get(CreditStatus, cp.id)

    def rules_of(self, cp) -> set[str]:
        status = self.status(cp)
        return {r["rule"] for r in status.reasons} if status else set()


@pytest.fixture
def users(make_user):
    return {
        name: make_user(name, *roles, display_name=f"User {name}", language="en").id
        for name, roles in USERS.items()
    }


@pytest.fixture
def world(app, users):
    with app.app_context():
        yield World(users)
        db.session.rollback()


D = date


@pytest.fixture
def within(app, users):
    """within(fn) runs fn(World) in its own app context and commits: screen tests keep no
    context pushed, so that each request gets its own (its own g, user and session)."""

    builder = LedgerBuilder()  # one numbering of codes across the blocks

    def run(fn):
        with app.app_context():
            world = World(users)
            world.ledger = builder
            result = fn(world)
            db.session.commit()
            return result

    return run
