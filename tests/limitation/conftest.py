"""Builders for the limitation tests: the worklist's builder (ledger, activities, promises)
plus contracts and events recorded by hand."""

from __future__ import annotations

from datetime import date

import pytest

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.limitation.models import LimitationEvent
from recovery.parties import services as parties
from tests.conftest import TEST_PASSWORD
from tests.worklist.conftest import L, WorkBuilder  # noqa: F401 - L re-exported

AS_OF = date(2025, 6, 30)


class LimitationBuilder(WorkBuilder):
    def user(self, username, *roles, active=True, **values):
        values.setdefault("display_name", username)
        user = auth.create_user(username, TEST_PASSWORD, roles or ("sales",), **values)
        user.active = active
        db.session.flush()
        return user

    def contract(self, counterparty, number=None, installments=False, **values):
        return parties.save_contract(
            number=number or self._next("K"),
            counterparty_id=counterparty.id,
            installments=installments,
            **values,
        )

    def event(self, item, kind, dated_on, user, ended_on=None, note="evidence", **values):
        event = LimitationEvent(
            item_id=item.id,
            kind=kind,
            dated_on=dated_on,
            ended_on=ended_on,
            note=note,
            recorded_by_id=user.id,
            **values,
        )
        db.session.add(event)
        db.session.flush()
        return event


@pytest.fixture
def lim(app):
    """A LimitationBuilder with an app context pushed for the test's duration."""
    with app.app_context():
        yield LimitationBuilder()
        db.session.rollback()
