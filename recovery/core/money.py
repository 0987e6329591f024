"""Money: Decimal in Python, integer fen in the database. Never float.

``Money`` is the column type: it stores a Decimal yuan amount as an integer number of fen, so
SQL sums are exact on SQLite and PostgreSQL alike. ``parse_amount`` turns user or file input
into a Decimal, refusing what is not an exact amount.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
# Up to 13 digits of yuan (under ten trillion): fits a 64-bit integer of fen with room to sum.
MAX_AMOUNT = Decimal("9999999999999.99")
_AMOUNT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class AmountError(ValueError):
    """Text that is not an exact money amount; the message says why (plain English key)."""


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_fen(fen: int | None) -> Decimal | None:
    if fen is None:
        return None
    return (Decimal(int(fen)) / 100).quantize(FEN)


def round_fen(amount: Decimal) -> Decimal:
    """Round once, to the fen, half up (the rule for interest)."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def parse_amount(text, *, allow_zero: bool = False, allow_negative: bool = False) -> Decimal:
    """An exact amount in yuan with at most two decimals, e.g. "1,234.50" or "1234.5".

    Thousands separators (",", "，", spaces) and a leading "¥"/"￥" are accepted; anything
    over-precise, non-numeric, not finite or out of range is refused.
    """
    if isinstance(text, Decimal):
        raw = text
    elif isinstance(text, int) and not isinstance(text, bool):
        raw = Decimal(text)
    elif isinstance(text, str):
        cleaned = text.strip().replace(",", "").replace("，", "").replace(" ", "")
        cleaned = cleaned.lstrip("¥￥")
        if not cleaned:
            raise AmountError("empty")
        if not _AMOUNT.match(cleaned):
            raise AmountError("not a number")
        try:
            raw = Decimal(cleaned)
        except InvalidOperation as exc:
            raise AmountError("not a number") from exc
    else:
        raise AmountError("not a number")
    if not raw.is_finite():
        raise AmountError("not a number")
    # The size first: quantizing a number of more digits than the context's precision raises.
    if abs(raw) > MAX_AMOUNT:
        raise AmountError("too large")
    if raw != raw.quantize(FEN, rounding=ROUND_HALF_UP):
        raise AmountError("more than two decimals")
    if raw < 0 and not allow_negative:
        raise AmountError("negative")
    if raw == 0 and not allow_zero:
        raise AmountError("zero")
    return raw.quantize(FEN)


def display_amount(value) -> str:
    """1234567.5 → "1,234,567.50": two decimals, thousands separators, for screens and
    messages. Exact (Decimal)."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


def format_amount(amount: Decimal | None) -> str:
    """Plain decimal with two places, as reports and exports write it: 1234.50"""
    if amount is None:
        return ""
    return str(Decimal(amount).quantize(FEN))


class Money(TypeDecorator):
    """A Decimal yuan amount stored as BIGINT fen."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, never float")
        return to_fen(Decimal(value))

    def process_result_value(self, value, dialect):
        return from_fen(value)

    @property
    def python_type(self):
        return Decimal
