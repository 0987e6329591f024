"""The overdue figures kept per counterparty (recovery/ledger/overdue.py) give the same
answer as summing the open items: on random ledgers kept on one day and read on later days
(due dates, recognitions, payments dated after the day kept), and kept in step by the writes
of the real services on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from recovery.core.sqltime import as_date
from recovery.credit import services as credit_services
from recovery.extensions import db
from recovery.ledger import overdue
from recovery.ledger.models import OverdueFigures
from recovery.parties.models import Counterparty
from tests.ledger.conftest import LedgerBuilder
from tests.ledger.test_properties import (
    LEDGER_SETTINGS,
    as_of_dates,
    enter_ledger,
    ledgers,
    rolled_back,
)


def _rows(query) -> dict[int, tuple]:
    found = {}
    for row in db.session.execute(query):
        found[row.counterparty_id] = (
            int(row.overdue_fen),
            int(row.fen_days),
            int(row.days_overdue),
            as_date(row.oldest_due_on),
        )
    return {cp: values for cp, values in found.items() if values[0] > 0}


def _everybody():
    return sa.select(Counterparty.__table__.c.id)


def _holding(as_of: date) -> set[int]:
    t = OverdueFigures.__table__
    return set(db.session.scalars(sa.select(t.c.counterparty_id).where(overdue._holds(as_of))))


@LEDGER_SETTINGS
@given(spec=ledgers(), data=st.data())
def test_kept_figures_read_later_equal_the_summed_ones(app, spec, data):
    with rolled_back(app):
        entered = enter_ledger(spec)
        ids = list(entered.cp_ids)
        dates = data.draw(as_of_dates(spec, count=4))
        kept_on = data.draw(st.sampled_from(dates))
        if data.draw(st.booleans()):
            overdue.keep(ids, kept_on)
        else:
            overdue.keep_all(kept_on)
        # On the day kept every row holds: the kept branch is what is read.
        assert _holding(kept_on) == set(ids)
        later = [kept_on + timedelta(days=n) for n in (0, 1, 2, 31, 400)]
        later += [d for d in dates + spec.days() if d >= kept_on]
        for as_of in sorted(set(later)):
            assert _rows(overdue.figures(as_of, _everybody())) == _rows(
                overdue.summed(as_of, None)
            ), (kept_on, as_of)


@pytest.fixture
def one_counterparty(app, make_user):
    """(ledger builder, today, a committed counterparty), in an app context."""
    make_user("keeper", "finance")
    with app.app_context():
        ledger = LedgerBuilder()
        cp = ledger.counterparty()
        db.session.commit()
        yield ledger, credit_services.company_today(), cp
        db.session.rollback()


def test_writes_keep_the_figures_in_step(one_counterparty):
    ledger, today, cp = one_counterparty
    ledger.item(cp, Decimal("300.00"), today - timedelta(days=60), today - timedelta(days=30))
    ledger.item(cp, Decimal("200.00"), today - timedelta(days=20), today - timedelta(days=5))
    ledger.item(cp, Decimal("900.00"), today - timedelta(days=2), today + timedelta(days=7))
    db.session.commit()

    kept = db.session.get(OverdueFigures, cp.id)
    assert kept.evaluated_on == today
    assert kept.overdue_fen == 50000
    assert kept.fen_days == 30000 * 30 + 20000 * 5
    assert kept.oldest_due_on == today - timedelta(days=30)
    # The next change by the calendar alone: the third item falls due.
    assert kept.valid_until == today + timedelta(days=8)

    ledger.receipt(cp, Decimal("350.00"), today)  # pays the oldest, then 50 of the next
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(OverdueFigures, cp.id)
    assert kept.overdue_fen == 15000
    assert kept.fen_days == 15000 * 5
    assert kept.oldest_due_on == today - timedelta(days=5)
    for as_of in (today, today + timedelta(days=3), today + timedelta(days=8)):
        ids = sa.select(Counterparty.__table__.c.id).where(Counterparty.__table__.c.id == cp.id)
        assert _rows(overdue.figures(as_of, ids)) == _rows(overdue.summed(as_of, ids))


def test_stale_figures_are_kept_again_by_the_refresh(one_counterparty):
    ledger, today, cp = one_counterparty
    ledger.item(cp, Decimal("100.00"), today - timedelta(days=10), today + timedelta(days=1))
    db.session.commit()
    later = today + timedelta(days=3)
    assert cp.id in overdue.stale_ids(later)
    credit_services.refresh_stale(later)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(OverdueFigures, cp.id)
    assert (kept.evaluated_on, kept.overdue_fen, kept.valid_until) == (later, 10000, None)
    assert cp.id not in overdue.stale_ids(later)


def test_a_job_does_not_overwrite_figures_kept_after_it_began(one_counterparty):
    ledger, today, cp = one_counterparty
    ledger.item(cp, Decimal("100.00"), today - timedelta(days=40), today - timedelta(days=10))
    db.session.commit()
    began = db.session.get(OverdueFigures, cp.id).evaluated_at - timedelta(seconds=1)
    db.session.execute(sa.update(OverdueFigures.__table__).values(overdue_fen=1))  # a marker
    overdue.keep_all(today, read_at=began)
    db.session.expire_all()
    assert db.session.get(OverdueFigures, cp.id).overdue_fen == 1
    overdue.keep_all(today)
    db.session.expire_all()
    assert db.session.get(OverdueFigures, cp.id).overdue_fen == 10000
