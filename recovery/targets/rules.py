"""The reward/penalty rule (考核奖罚): pure, exact Decimal arithmetic (docs/targets.md).

- **Bonus**: for every *full* ``bonus_unit`` recovered above the recovery target,
  ``bonus_per_unit``. A part of a unit earns nothing (floor). Only with a target above zero.
- **Completion deduction**: ``below_threshold_deduction`` once, when the recovery target is
  above zero and recovered × 100 < threshold % × target (compared exactly, not rounded).
- **Broken promises**: ``broken_promise_deduction`` per broken promise to pay.
- **Net** = bonus − both deductions (may be negative).

Every amount is fen × a whole number, so nothing is ever rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from recovery.core.money import ZERO, display_amount


@dataclass(frozen=True)
class RewardRule:
    bonus_unit: Decimal
    bonus_per_unit: Decimal
    threshold_percent: Decimal
    below_threshold_deduction: Decimal
    broken_promise_deduction: Decimal

    @property
    def threshold_text(self) -> str:
        """80 rather than 80.0000 or 8E+1."""
        return format(self.threshold_percent.normalize(), "f")

    @classmethod
    def from_settings(cls) -> RewardRule:
        from recovery.settings.services import get_setting

        return cls(
            bonus_unit=get_setting("rewards.bonus_unit"),
            bonus_per_unit=get_setting("rewards.bonus_per_unit"),
            threshold_percent=get_setting("rewards.threshold_percent"),
            below_threshold_deduction=get_setting("rewards.below_threshold_deduction"),
            broken_promise_deduction=get_setting("rewards.broken_promise_deduction"),
        )


@dataclass(frozen=True)
class Reward:
    bonus_units: int
    bonus: Decimal
    threshold_deduction: Decimal
    promise_deduction: Decimal

    @property
    def deduction(self) -> Decimal:
        return self.threshold_deduction + self.promise_deduction

    @property
    def net(self) -> Decimal:
        return self.bonus - self.deduction


def reward(
    rule: RewardRule, *, recovered: Decimal, target: Decimal | None, broken_promises: int
) -> Reward:
    units = 0
    threshold_deduction = ZERO
    if target:  # None (no target) and zero: neither bonus nor completion deduction
        above = recovered - target
        if above > 0 and rule.bonus_unit > 0:
            units = int(above // rule.bonus_unit)
        if recovered * 100 < rule.threshold_percent * target:
            threshold_deduction = rule.below_threshold_deduction
    return Reward(
        bonus_units=units,
        bonus=rule.bonus_per_unit * units,
        threshold_deduction=threshold_deduction,
        promise_deduction=rule.broken_promise_deduction * broken_promises,
    )


def explain(
    rule: RewardRule, *, recovered: Decimal, target: Decimal | None, broken_promises: int
) -> list[str]:
    """The lines that say how the reward was computed, in the reader's language."""
    result = reward(rule, recovered=recovered, target=target, broken_promises=broken_promises)
    lines = []
    if target is None:
        lines.append(_l("No recovery target for the period: no bonus and no completion deduction."))
    elif target == 0:
        lines.append(
            _l("The recovery target is zero: no completion to measure, no bonus, no deduction.")
        )
    else:
        above = recovered - target
        if above > 0 and result.bonus_units:
            lines.append(
                _l(
                    "%(above)s above target: %(units)s full unit(s) of %(unit)s × %(per)s = "
                    "%(bonus)s bonus.",
                    above=display_amount(above),
                    units=result.bonus_units,
                    unit=display_amount(rule.bonus_unit),
                    per=display_amount(rule.bonus_per_unit),
                    bonus=display_amount(result.bonus),
                )
            )
        elif above > 0:
            lines.append(
                _l(
                    "%(above)s above target: less than one full unit of %(unit)s, no bonus.",
                    above=display_amount(above),
                    unit=display_amount(rule.bonus_unit),
                )
            )
        else:
            lines.append(_l("Not above target: no bonus."))
        if result.threshold_deduction or recovered * 100 < rule.threshold_percent * target:
            lines.append(
                _l(
                    "Completion below %(threshold)s %%: deduction %(amount)s.",
                    threshold=rule.threshold_text,
                    amount=display_amount(result.threshold_deduction),
                )
            )
    if broken_promises:
        lines.append(
            _l(
                "%(n)s broken promise(s) × %(per)s = %(amount)s deduction.",
                n=broken_promises,
                per=display_amount(rule.broken_promise_deduction),
                amount=display_amount(result.promise_deduction),
            )
        )
    return [str(line) for line in lines]
