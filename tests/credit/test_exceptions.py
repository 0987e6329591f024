"""Exceptions: requested with a reason, cap and expiry; decided by a leader, never the
requester; they allow supply up to the cap until they expire; revoked, never deleted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from recovery.credit import services
from recovery.credit.models import CreditException
from recovery.extensions import db


@pytest.fixture
def held(world):
    cp = world.counterparty()
    world.overdue_item(cp, "1000.00", days=100)
    return cp


def request(world, cp, requester="sales", cap="500.00", days=10):
    exception = services.request_exception(
        cp,
        amount_cap=Decimal(cap),
        valid_until=world.today + timedelta(days=days),
        reason="Strategic order, paid in advance next week",
        actor=world.user(requester),
    )
    db.session.commit()
    return exception


def test_credit_check_holds_with_reasons(world, held):
    decision = services.credit_check(held.code, Decimal("100.00"))
    assert decision.decision == "hold"
    assert [r.rule for r in decision.reasons] == ["overdue_days", "overdue_amount"]
    assert decision.exposure == 1000_00 and decision.limit is None


def test_unknown_counterparty_is_refused_with_the_reason(world):
    with pytest.raises(services.UnknownCounterparty) as refused:
        services.credit_check("NOPE", Decimal("1.00"))
    assert "NOPE" in str(refused.value.message)


def test_approved_exception_allows_up_to_the_cap_and_supply_uses_it(world, held):
    exception = request(world, held)
    assert services.credit_check(held, Decimal("100.00")).decision == "hold"
    services.decide_exception(exception, approve=True, actor=world.user("executive"))
    db.session.commit()
    allowed = services.credit_check(held, Decimal("500.00"))
    assert allowed.decision == "allow" and allowed.exception.id == exception.id
    assert services.credit_check(held, Decimal("500.01")).decision == "hold"
    # New supply recognised since the approval uses the cap.
    world.ledger.item(held, Decimal("300.00"), world.today, world.today + timedelta(days=30))
    db.session.commit()
    assert services.credit_check(held, Decimal("200.00")).decision == "allow"
    assert services.credit_check(held, Decimal("200.01")).decision == "hold"


def test_expired_exception_stops_counting(world, held):
    exception = request(world, held, days=3)
    services.decide_exception(exception, approve=True, actor=world.user("executive"))
    db.session.commit()
    later = world.today + timedelta(days=4)
    assert services.credit_check(held, Decimal("1.00"), as_of=later).decision == "hold"
    assert services.exception_state(exception, later) == "expired"


def test_nobody_approves_their_own_request_and_sales_cannot_approve(world, held):
    exception = request(world, held, requester="executive")
    with force_locale("en"), pytest.raises(services.CreditError, match="own request"):
        services.decide_exception(exception, approve=True, actor=world.user("executive"))
    with force_locale("en"), pytest.raises(services.CreditError, match="leader"):
        services.decide_exception(exception, approve=True, actor=world.user("finance"))
    services.decide_exception(exception, approve=True, actor=world.user("executive2"))
    db.session.commit()
    assert exception.status == "approved"


def test_the_counterparty_leader_may_decide(world, held):
    cp = db.session.get(type(held), held.id)
    cp.leader_id = world.user_ids["supervisor"]
    db.session.commit()
    exception = request(world, cp)
    services.decide_exception(exception, approve=False, actor=world.user("supervisor"), note="No")
    assert exception.status == "refused"


def test_bad_requests_are_refused_with_the_reason(world, held):
    cases = [
        ({"amount_cap": None}, "amount_cap"),
        ({"amount_cap": Decimal("0")}, "amount_cap"),
        ({"valid_until": world.today - timedelta(days=1)}, "valid_until"),
        ({"reason": "  "}, "reason"),
    ]
    for change, field in cases:
        values = {
            "amount_cap": Decimal("10.00"),
            "valid_until": world.today,
            "reason": "why",
            "actor": world.user("sales"),
        }
        values.update(change)
        with pytest.raises(services.CreditError) as refused:
            services.request_exception(held, **values)
        assert refused.value.field == field


def test_refusal_needs_a_note_and_revocation_keeps_the_row(world, held):
    exception = request(world, held)
    with pytest.raises(services.CreditError):
        services.decide_exception(exception, approve=False, actor=world.user("executive"))
    services.decide_exception(exception, approve=True, actor=world.user("executive"))
    db.session.commit()
    with pytest.raises(services.CreditError):
        services.revoke_exception(exception, actor=world.user("sales"), reason="changed mind")
    services.revoke_exception(exception, actor=world.user("executive"), reason="order cancelled")
    db.session.commit()
    assert db.session.get(CreditException, exception.id).status == "revoked"
    assert services.credit_check(held, Decimal("1.00")).decision == "hold"


def test_exceptions_are_audited(world, held):
    from recovery.audit.models import AuditLog

    exception = request(world, held)
    services.decide_exception(exception, approve=True, actor=world.user("executive"))
    db.session.commit()
    rows = db.session.query(AuditLog).filter_by(table_name="credit_exceptions").all()
    assert [r.action for r in rows] == ["insert", "update"]
