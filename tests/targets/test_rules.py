"""The reward/penalty rule, by hand (exact Decimal arithmetic, nothing rounded)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

from recovery.targets.rules import RewardRule, explain, reward

RULE = RewardRule(
    bonus_unit=Decimal("10000.00"),
    bonus_per_unit=Decimal("100.00"),
    threshold_percent=Decimal("80"),
    below_threshold_deduction=Decimal("500.00"),
    broken_promise_deduction=Decimal("50.00"),
)
D = Decimal


@pytest.mark.parametrize(
    ("recovered", "target", "broken", "units", "bonus", "threshold", "promises", "net"),
    [
        # 25,500.00 above target: two full units of 10,000.00 → 200.00; one broken promise.
        ("35500.00", "10000.00", 1, 2, "200.00", "0.00", "50.00", "150.00"),
        # 9,999.99 above target: less than one unit, no bonus.
        ("19999.99", "10000.00", 0, 0, "0.00", "0.00", "0.00", "0.00"),
        # Exactly 20,000.00 above: two units.
        ("30000.00", "10000.00", 0, 2, "200.00", "0.00", "0.00", "200.00"),
        # 79.9999 % is below 80 %: the deduction; 80.00 % exactly is not below.
        ("7999.99", "10000.00", 0, 0, "0.00", "500.00", "0.00", "-500.00"),
        ("8000.00", "10000.00", 0, 0, "0.00", "0.00", "0.00", "0.00"),
        # A target of zero: no completion, so neither bonus nor completion deduction.
        ("50000.00", "0.00", 0, 0, "0.00", "0.00", "0.00", "0.00"),
        # No target at all: the same; three broken promises still cost 3 × 50.00.
        ("50000.00", None, 3, 0, "0.00", "0.00", "150.00", "-150.00"),
        # Nothing recovered against a target: below the threshold.
        ("0.00", "1.00", 2, 0, "0.00", "500.00", "100.00", "-600.00"),
    ],
)
def test_reward_by_hand(recovered, target, broken, units, bonus, threshold, promises, net):
    result = reward(
        RULE,
        recovered=D(recovered),
        target=D(target) if target is not None else None,
        broken_promises=broken,
    )
    assert result.bonus_units == units
    assert result.bonus == D(bonus)
    assert result.threshold_deduction == D(threshold)
    assert result.promise_deduction == D(promises)
    assert result.deduction == D(threshold) + D(promises)
    assert result.net == D(net)


def test_a_rule_without_bonus_or_deductions():
    rule = RewardRule(D("0.01"), D("0.00"), D("0"), D("0.00"), D("0.00"))
    result = reward(rule, recovered=D("100.00"), target=D("1.00"), broken_promises=4)
    assert result.bonus_units == 9900 and result.bonus == D("0.00")
    assert result.net == D("0.00")


def test_explanations(app):
    with app.app_context(), force_locale("en"):
        lines = explain(RULE, recovered=D("35500.00"), target=D("10000.00"), broken_promises=1)
        assert lines == [
            "25,500.00 above target: 2 full unit(s) of 10,000.00 × 100.00 = 200.00 bonus.",
            "1 broken promise(s) × 50.00 = 50.00 deduction.",
        ]
        below = explain(RULE, recovered=D("7999.99"), target=D("10000.00"), broken_promises=0)
        assert below == ["Not above target: no bonus.", "Completion below 80 %: deduction 500.00."]
        short = explain(RULE, recovered=D("19999.99"), target=D("10000.00"), broken_promises=0)
        assert "less than one full unit" in short[0]
        assert "zero" in explain(RULE, recovered=D("5.00"), target=D("0"), broken_promises=0)[0]
        assert (
            "No recovery target"
            in explain(RULE, recovered=D("5.00"), target=None, broken_promises=0)[0]
        )
