"""recovery.core.money.parse_amount: what an amount typed or imported may be."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recovery.core.money import MAX_AMOUNT, AmountError, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("￥1234.5", Decimal("1234.50")),
        (" 1 000 ", Decimal("1000.00")),
        ("1，000.00", Decimal("1000.00")),
        (Decimal("0.01"), Decimal("0.01")),
        (12, Decimal("12.00")),
        ("9999999999999.99", MAX_AMOUNT),
    ],
)
def test_amounts_accepted(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("abc", "not a number"),
        ("NaN", "not a number"),
        ("1.005", "more than two decimals"),
        ("-5", "negative"),
        ("0", "zero"),
        ("10000000000000.00", "too large"),
        # More digits than the decimal context's precision: refused, not an exception.
        ("9" * 30, "too large"),
        ("9" * 60 + ".5", "too large"),
        (Decimal(10) ** 27, "too large"),
        (10**40, "too large"),
        (True, "not a number"),
    ],
)
def test_amounts_refused_with_the_reason(text, reason):
    with pytest.raises(AmountError) as refused:
        parse_amount(text)
    assert str(refused.value) == reason


def test_zero_and_negative_when_allowed():
    assert parse_amount("0", allow_zero=True) == Decimal("0.00")
    assert parse_amount("-5", allow_negative=True) == Decimal("-5.00")
