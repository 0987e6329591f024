"""The unapplied credit at the month's end: read from the receipts' stored unapplied amounts
(ledger.queries.unapplied_credit_total), it is the same figure as received by then − applied
by then, with money received and applied on both sides of the month's end."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale

from recovery.core.money import ZERO, from_fen
from recovery.extensions import db
from recovery.ledger.models import Application, Receipt
from recovery.ledger.queries import fen
from recovery.monthly import queries, report

TODAY = date(2026, 8, 5)


def build_credit(build):
    """June 2026, with money on both sides of its end.

    E01: 1000.00 recognised 10 May; 300.00 received 20 May (applied in May); 900.00 received
    15 June (700.00 applied in June, 200.00 credit at its end, of which 150.00 is applied on
    3 July to an item recognised then); 250.00 received 20 June naming an item recognised on
    5 July (credit at June's end, applied after it); 500.00 received 10 July (after the end).
    F01: 80.00 received 1 April, never applied.
    At 30 June: received 1530.00 − applied 1000.00 = 530.00.
    """
    e01 = build.counterparty("E01")
    f01 = build.counterparty("F01")
    build.item(e01, "1000.00", date(2026, 5, 10), date(2026, 6, 10))
    build.receipt(e01, "300.00", date(2026, 5, 20))
    build.receipt(e01, "900.00", date(2026, 6, 15))
    later = build.item(e01, "250.00", date(2026, 7, 5), date(2026, 8, 5))
    build.receipt(e01, "250.00", date(2026, 6, 20), item=later)
    build.item(e01, "150.00", date(2026, 7, 3), date(2026, 8, 3))
    build.receipt(e01, "500.00", date(2026, 7, 10))
    build.receipt(f01, "80.00", date(2026, 4, 1))
    db.session.commit()


def old_formula(last: date) -> Decimal:
    """Every receipt received by ``last`` less every application applied by then."""
    receipts = Receipt.__table__
    apps = Application.__table__
    received = db.session.scalar(
        sa.select(sa.func.sum(fen(receipts.c.amount))).where(receipts.c.received_on <= last)
    )
    applied = db.session.scalar(
        sa.select(sa.func.sum(fen(apps.c.amount))).where(apps.c.applied_on <= last)
    )
    return from_fen(int(received or 0) - int(applied or 0))


def test_the_month_end_credit_is_received_less_applied_by_then(build):
    build_credit(build)
    # The movements straddle June's end as the scenario says.
    apps = Application.__table__
    after = db.session.scalar(
        sa.select(sa.func.count()).where(apps.c.applied_on > date(2026, 6, 30))
    )
    assert after == 2  # 150.00 on 3 July and the earmarked 250.00 on 5 July
    stored = db.session.scalar(sa.select(sa.func.sum(fen(Receipt.__table__.c.unapplied_amount))))
    assert from_fen(int(stored)) == Decimal("630.00")  # 50 + 500 + 80 today

    assert old_formula(date(2026, 6, 30)) == Decimal("530.00")
    for first, last in (
        (date(2026, 3, 1), date(2026, 3, 31)),  # before any money
        (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 31)),
        (date(2026, 6, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 7, 31)),
    ):
        flow = queries.roll_forward(first, last, ZERO)
        assert flow.unapplied_credit == old_formula(last), last
    assert queries.roll_forward(date(2026, 3, 1), date(2026, 3, 31), ZERO).unapplied_credit == (
        Decimal("0.00")
    )
    assert queries.roll_forward(date(2026, 7, 1), date(2026, 7, 31), ZERO).unapplied_credit == (
        Decimal("630.00")
    )


def test_the_report_shows_it(build):
    build_credit(build)
    with force_locale("en"):
        built = report.build(report.parse_month("2026-06"), today=TODAY)
        receivables = next(s for s in built.sections if s.key == "receivables")
        figures = {str(label): value for label, value in receivables.figures}
    assert figures["Unapplied credit at the month's end"] == Decimal("530.00")
    assert figures["Money received in the month"] == Decimal("1150.00")
