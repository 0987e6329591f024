"""A small world for case tests: one user per role (and a second sales and finance user),
counterparties with overdue debts built through the ledger's real services.

Users read English (their language is set), so the screens' words do not depend on the
catalogs; service refusals are compared with the same lazy message, rendered the same way.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from recovery.auth.models import User
from recovery.cases import services, strategies
from recovery.extensions import db
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder

USERS = {
    "sales": ("sales",),
    "sales2": ("sales",),
    "supervisor": ("supervisor",),
    "supervisor2": ("supervisor",),
    "finance": ("finance",),
    "finance2": ("finance",),
    "legal": ("legal",),
    "executive": ("executive",),
    # Holds two step roles: may decide one step of a submission, not two.
    "finlegal": ("finance", "legal"),
}


class World:
    """Users and builders inside an app context."""

    def __init__(self, user_ids: dict[str, int], today: date):
        self.user_ids = user_ids
        self.today = today
        self.ledger = LedgerBuilder()

    def user(self, name: str) -> User:
        return db.session.get(User, self.user_ids[name])

    def counterparty(self, *, overdue=Decimal("50000.00"), days=100, responsible="sales", **kw):
        """A counterparty with one item ``days`` past due today (none when overdue is 0)."""
        kw.setdefault("responsible_id", self.user_ids[responsible] if responsible else None)
        counterparty = self.ledger.counterparty(**kw)
        if overdue:
            due = self.today - timedelta(days=days)
            self.ledger.item(counterparty, overdue, due - timedelta(days=30), due)
        return counterparty

    def open_case(self, counterparty, actor="sales", **kw):
        return services.open_case(
            counterparty, actor=self.user(actor), today=kw.pop("today", self.today), **kw
        )

    def strategy(self, case, kind, actor="sales", rationale="chosen on purpose", **record):
        """A strategy of ``kind`` with its record filled in (a draft for chain kinds)."""
        strategy = strategies.record_strategy(
            case, kind, rationale, actor=self.user(actor), as_of=self.today
        )
        if record:
            strategies.update_strategy(
                strategy,
                version=strategy.version,
                actor=self.user(actor),
                today=self.today,
                **record,
            )
        return strategy

    def secured(self, case, actor="sales"):
        strategy = self.strategy(case, "secured", actor, investigation="Visited the plant.")
        strategies.add_collateral(
            strategy,
            kind="mortgage",
            asset="Workshop No. 3",
            value=Decimal("80000.00"),
            today=self.today,
        )
        return strategy

    def submit(self, strategy, actor="sales"):
        return strategies.submit_strategy(
            strategy, version=strategy.version, actor=self.user(actor), as_of=self.today
        )

    def decide(self, strategy, who, decision="approved", reason=None):
        return strategies.decide_strategy(
            strategy, decision, reason, version=strategy.version, actor=self.user(who)
        )

    def approve_all(self, strategy):
        for who in ("finance", "legal", "executive"):
            self.decide(strategy, who)
        return strategy


@pytest.fixture
def user_ids(app, make_user):
    return {
        name: make_user(name, *roles, display_name=f"User {name}", language="en").id
        for name, roles in USERS.items()
    }


@pytest.fixture
def world(app, user_ids):
    """A World with an app context pushed for the test's duration (service tests)."""
    with app.app_context():
        yield World(user_ids, date(2025, 6, 30))
        db.session.rollback()


@pytest.fixture
def sign_in(app):
    """sign_in(name) → a test client signed in as that user (several may coexist)."""

    def do(name: str):
        client = app.test_client()
        response = login(client, name)
        assert response.status_code == 302, response.data
        return client

    return do


class ScreenWorld(World):
    """A World for screen tests: no app context stays pushed (each request must get its own
    context and session, as in production), so setup and checks run in ``with world.db():``,
    which commits at the end. Keep ids, not ORM objects, across blocks."""

    def __init__(self, app, user_ids: dict[str, int], today: date):
        super().__init__(user_ids, today)
        self.app = app

    @contextmanager
    def db(self):
        with self.app.app_context():
            yield
            db.session.commit()


@pytest.fixture
def screen_world(app, user_ids):
    """A ScreenWorld dated the company's real today (the screens use it)."""
    return ScreenWorld(app, user_ids, datetime.now(ZoneInfo("Asia/Shanghai")).date())
