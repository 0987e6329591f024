"""Builders for the worklist tests: the ledger builder, plus cases, activities and promises
written with the ORM (so these tests do not depend on the forms of the other parts)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from recovery.activities.models import Activity, Promise
from recovery.cases.models import ExtensionRequest, RecoveryCase
from recovery.extensions import db
from recovery.worklist.service_levels import to_utc
from tests.ledger.conftest import LedgerBuilder, build  # noqa: F401 - the fixture, re-exported


def L(*parts) -> datetime:  # noqa: N802 - a Beijing wall-clock time as stored (naive UTC)
    return to_utc(datetime(*parts))


class WorkBuilder(LedgerBuilder):
    """The ledger builder plus the recovery records."""

    def case(self, counterparty, *, opened_at: datetime, number=None, **values) -> RecoveryCase:
        values.setdefault("opened_on", opened_at.date())
        case = RecoveryCase(
            number=number or self._next("CASE"),
            counterparty_id=counterparty.id,
            opened_at=opened_at,
            **values,
        )
        db.session.add(case)
        db.session.flush()
        return case

    def activity(self, counterparty, user, occurred_at: datetime, kind="call", case=None, **values):
        values.setdefault("summary", f"{kind} with {counterparty.code}")
        activity = Activity(
            counterparty_id=counterparty.id,
            case_id=case.id if case is not None else None,
            user_id=user.id,
            kind=kind,
            occurred_at=occurred_at,
            **values,
        )
        db.session.add(activity)
        db.session.flush()
        return activity

    def promise(self, counterparty, user, amount, promised_on: date, due_on: date, **values):
        promise = Promise(
            counterparty_id=counterparty.id,
            amount=Decimal(str(amount)),
            promised_on=promised_on,
            due_on=due_on,
            recorded_by_id=user.id,
            **values,
        )
        db.session.add(promise)
        db.session.flush()
        return promise

    def extension(self, case, user, requested_at, until_on, status="pending", **values):
        extension = ExtensionRequest(
            case_id=case.id,
            requested_by_id=user.id,
            requested_at=requested_at,
            reason="The debtor's site is closed this week",
            next_plan="Visit when it reopens",
            until_on=until_on,
            status=status,
            **values,
        )
        db.session.add(extension)
        db.session.flush()
        return extension


@pytest.fixture
def work(app):
    """A WorkBuilder with an app context pushed for the test's duration."""
    with app.app_context():
        yield WorkBuilder()
        db.session.rollback()
