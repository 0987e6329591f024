"""The hold rules and the decision, by hand (pure functions)."""

from datetime import date, timedelta

from recovery.credit import rules

TODAY = date(2026, 6, 30)
P = rules.Policy(overdue_days=90, overdue_amount=0, broken_promise_days=30)


def codes(reasons):
    return [r.rule for r in reasons]


def test_nothing_open_is_no_hold():
    assert rules.hold_reasons(rules.Figures(), P, TODAY) == []
    assert rules.decide(rules.Figures(), P, TODAY).decision == "allow"


def test_overdue_days_trips_above_n_and_not_at_n():
    at_n = rules.Figures(exposure=100, overdue=100, oldest_due=TODAY - timedelta(days=90))
    policy = rules.Policy(overdue_days=90, overdue_amount_on=False)
    assert rules.hold_reasons(at_n, policy, TODAY) == []
    over = rules.Figures(exposure=100, overdue=100, oldest_due=TODAY - timedelta(days=95))
    assert rules.hold_reasons(over, policy, TODAY) == [rules.Reason("overdue_days", 95, 90)]


def test_overdue_amount_trips_above_m():
    policy = rules.Policy(overdue_days_on=False, overdue_amount=100_00)
    f = rules.Figures(exposure=200_00, overdue=100_00, oldest_due=TODAY - timedelta(days=3))
    assert rules.hold_reasons(f, policy, TODAY) == []
    f.overdue = 100_01
    assert codes(rules.hold_reasons(f, policy, TODAY)) == ["overdue_amount"]


def test_exposure_and_group_limits():
    f = rules.Figures(exposure=1_200_000_00, limit=1_000_000_00)
    assert rules.hold_reasons(f, P, TODAY) == [
        rules.Reason("exposure_limit", 1_200_000_00, 1_000_000_00)
    ]
    g = rules.Figures(exposure=10, group_code="G1", group_exposure=500, group_limit=400)
    assert rules.hold_reasons(g, P, TODAY) == [rules.Reason("group_limit", 500, 400, "G1")]
    off = rules.Policy(exposure_on=False)
    assert rules.hold_reasons(f, off, TODAY) == []


def test_lawsuit_and_broken_promise_and_switches():
    f = rules.Figures(open_lawsuits=1, broken_promises=2, last_broken_due=TODAY - timedelta(5))
    assert codes(rules.hold_reasons(f, P, TODAY)) == ["lawsuit", "broken_promise"]
    off = rules.Policy(lawsuit_on=False, broken_promise_on=False)
    assert rules.hold_reasons(f, off, TODAY) == []


def test_order_above_limit_is_a_hold_and_exception_allows_up_to_cap():
    f = rules.Figures(exposure=900, limit=1000)
    assert rules.decide(f, P, TODAY, 100).decision == "allow"
    held = rules.decide(f, P, TODAY, 101)
    assert held.decision == "hold" and codes(held.reasons) == ["order_limit"]
    room = rules.ExceptionRoom(7, cap=500, used=200, valid_until=TODAY)
    assert rules.decide(f, P, TODAY, 300, [room]).decision == "allow"
    assert rules.decide(f, P, TODAY, 300, [room]).exception == room
    assert rules.decide(f, P, TODAY, 301, [room]).decision == "hold"
    expired = rules.ExceptionRoom(8, cap=500, used=0, valid_until=TODAY - timedelta(days=1))
    assert rules.decide(f, P, TODAY, 101, [expired]).decision == "hold"


def test_stale_on_is_the_next_calendar_change():
    f = rules.Figures(
        exposure=1,
        overdue=1,
        oldest_due=TODAY - timedelta(days=10),
        next_due=TODAY + timedelta(days=3),
    )
    # The next item falls due in 4 days; the oldest passes 90 days in 81.
    assert rules.stale_on(f, P, TODAY) == TODAY + timedelta(days=4)
    f.next_due = None
    assert rules.stale_on(f, P, TODAY) == TODAY + timedelta(days=81)
    assert rules.stale_on(rules.Figures(), P, TODAY) is None


def test_stale_on_at_the_end_of_the_calendar_is_no_crash():
    """An item due on 9999-12-31 (the API's fuzzing found it): no day after it to wait for."""
    f = rules.Figures(exposure=1, next_due=date.max, oldest_due=date.max)
    assert rules.stale_on(f, P, TODAY) is None
    f.oldest_due = date.max - timedelta(days=90)
    assert rules.stale_on(f, P, TODAY) is None  # 91 days after it is past the calendar
    f.oldest_due = date.max - timedelta(days=91)
    assert rules.stale_on(f, P, TODAY) == date.max


def test_decision_as_json_has_exact_yuan():
    f = rules.Figures(exposure=120_000_000, limit=100_000_000, oldest_due=TODAY - timedelta(95))
    room = rules.ExceptionRoom(3, cap=50_000, used=1, valid_until=TODAY)
    data = rules.decide(f, P, TODAY, 5, [room]).to_json()
    assert data == {
        "decision": "allow",
        "reasons": [
            {"rule": "overdue_days", "value": 95, "limit": 90},
            {"rule": "exposure_limit", "value": "1200000.00", "limit": "1000000.00"},
        ],
        "exposure": "1200000.00",
        "limit": "1000000.00",
        "exception": {"id": 3, "cap": "500.00", "remaining": "499.99", "valid_until": "2026-06-30"},
    }
