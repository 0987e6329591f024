"""Pure rules of the letters: the level by days overdue, amounts in capital figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recovery.letters.services import demand_level, rmb_capitals


@pytest.mark.parametrize(
    ("days", "level"),
    [
        (1, "reminder"),
        (30, "reminder"),
        (31, "formal"),
        (90, "formal"),
        (91, "final"),
        (4000, "final"),
    ],
)
def test_level_by_days_overdue(days, level):
    assert demand_level(days, 31, 91) == level


def test_thresholds_come_from_the_arguments():
    assert demand_level(10, 10, 20) == "formal"
    assert demand_level(20, 10, 20) == "final"
    assert demand_level(9, 10, 20) == "reminder"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("1", "壹元整"),
        ("1.05", "壹元零伍分"),
        ("1.50", "壹元伍角整"),
        ("10", "壹拾元整"),
        ("15.20", "壹拾伍元贰角整"),
        ("101", "壹佰零壹元整"),
        ("1050.05", "壹仟零伍拾元零伍分"),
        ("1001", "壹仟零壹元整"),
        ("10000", "壹万元整"),
        ("10005", "壹万零伍元整"),
        ("100000", "壹拾万元整"),
        ("12127.40", "壹万贰仟壹佰贰拾柒元肆角整"),
        ("1000000", "壹佰万元整"),
        ("10200000", "壹仟零贰拾万元整"),
        ("100000001", "壹亿零壹元整"),
        ("102000000", "壹亿零贰佰万元整"),
        ("120000000", "壹亿贰仟万元整"),
        ("-3.14", "负叁元壹角肆分"),
    ],
)
def test_capital_figures(amount, words):
    assert rmb_capitals(Decimal(amount)) == words
