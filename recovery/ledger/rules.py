"""The rules every ledger figure follows (DOMAIN §3), as pure functions. No Flask, no database.

Amounts inside are integer fen; callers convert. The SQL in queries.py scales these rules to
a million items and is tested against them.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# ---------------------------------------------------------------------------------------------
# Allocation (simplified Civil Code art. 560)


@dataclass(frozen=True)
class ItemDoc:
    id: int
    document_no: str
    amount: int  # fen
    recognized_on: date
    due_on: date
    credited: int = 0  # fen of approved credit notes / write-offs; receipts never pay it


@dataclass(frozen=True)
class ReceiptDoc:
    id: int
    receipt_no: str
    amount: int  # fen
    received_on: date
    item_id: int | None = None  # the item the debtor designated


@dataclass(frozen=True, order=True)
class Applied:
    applied_on: date
    receipt_id: int
    item_id: int
    amount: int  # fen


def allocate(items: list[ItemDoc], receipts: list[ReceiptDoc]) -> list[Applied]:
    """Apply one counterparty's receipts to its items, in the order things happened.

    Events go by date, items before receipts on the same day, then by document or receipt
    number. A receipt pays the item it names up to what is open on it (money for an item not
    yet recognised waits, earmarked); the rest pays open items by due date, recognition date,
    document number; what is left is unapplied credit. A newly recognised item first takes
    its earmarked money (any surplus becomes unapplied credit), then unapplied credit.
    The result depends only on the documents, never on the order they were entered in.
    """
    by_id = {item.id: item for item in items}
    events: list[tuple] = [(i.recognized_on, 0, i.document_no, i) for i in items]
    events += [(r.received_on, 1, r.receipt_no, r) for r in receipts]
    events.sort(key=lambda event: event[:3])

    open_fen: dict[int, int] = {}  # recognised items -> what is still open
    queue: list[tuple] = []  # recognised items with money open, in payment order
    earmarked: dict[int, list[list]] = defaultdict(list)  # item -> [[key, receipt, fen], ...]
    earmarked_total: dict[int, int] = defaultdict(int)
    credit: list[list] = []  # unapplied credit: [[key, receipt, fen], ...] in receipt order
    out: dict[tuple, int] = defaultdict(int)

    def apply(day, receipt_id, item_id, fen):
        out[(day, receipt_id, item_id)] += fen
        open_fen[item_id] -= fen

    for day, kind, number, doc in events:
        key = (day, kind, number)
        if kind == 0:  # an item is recognised
            open_fen[doc.id] = max(doc.amount - doc.credited, 0)
            for entry in earmarked.pop(doc.id, []):
                take = min(entry[2], open_fen[doc.id])
                if take:
                    apply(day, entry[1], doc.id, take)
                    entry[2] -= take
                if entry[2]:
                    bisect.insort(credit, entry)
            while credit and open_fen[doc.id]:
                entry = credit[0]
                take = min(entry[2], open_fen[doc.id])
                apply(day, entry[1], doc.id, take)
                entry[2] -= take
                if not entry[2]:
                    credit.pop(0)
            if open_fen[doc.id]:
                heapq.heappush(queue, (doc.due_on, doc.recognized_on, doc.document_no, doc.id))
            continue

        left = doc.amount  # a receipt arrives
        named = by_id.get(doc.item_id) if doc.item_id is not None else None
        if named is not None:
            if named.id in open_fen:
                take = min(left, open_fen[named.id])
                if take:
                    apply(day, doc.id, named.id, take)
                    left -= take
            else:  # not recognised yet: the money waits for it
                room = max(named.amount - named.credited - earmarked_total[named.id], 0)
                take = min(left, room)
                if take:
                    earmarked[named.id].append([key, doc.id, take])
                    earmarked_total[named.id] += take
                    left -= take
        while left and queue:
            item_id = queue[0][3]
            if not open_fen[item_id]:
                heapq.heappop(queue)
                continue
            take = min(left, open_fen[item_id])
            apply(day, doc.id, item_id, take)
            left -= take
        if left:
            bisect.insort(credit, [key, doc.id, left])

    return sorted(Applied(day, r, i, fen) for (day, r, i), fen in out.items() if fen)


# ---------------------------------------------------------------------------------------------
# Outstanding, overdue, aging

DUE_BUCKETS = (
    "not_due",
    "d1_30",
    "d31_90",
    "d91_180",
    "d181_365",
    "d366_730",
    "d731_1095",
    "d1096_plus",
)
# Upper bound (days past due, inclusive) of each overdue bucket; the last is open-ended.
DUE_BUCKET_LIMITS = ((1, 30), (31, 90), (91, 180), (181, 365), (366, 730), (731, 1095))

AGE_BUCKETS = ("y0_1", "y1_2", "y2_3", "y3_4", "y4_5", "y5_plus")


def outstanding(amount: int, reductions: list[tuple[date, int]], as_of: date) -> int:
    """Amount less every application and approved adjustment dated on or before ``as_of``."""
    return amount - sum(fen for day, fen in reductions if day <= as_of)


def days_past_due(due_on: date, as_of: date) -> int:
    return max((as_of - due_on).days, 0)


def due_bucket(due_on: date, as_of: date) -> str:
    days = (as_of - due_on).days
    if days <= 0:
        return "not_due"
    for name, (_low, high) in zip(DUE_BUCKETS[1:], DUE_BUCKET_LIMITS, strict=False):
        if days <= high:
            return name
    return "d1096_plus"


def years_back(day: date, years: int) -> date:
    """The same calendar date ``years`` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def full_years(recognized_on: date, as_of: date) -> int:
    """Whole years from recognition to ``as_of`` (an item of 29 Feb turns one on 1 Mar)."""
    years = as_of.year - recognized_on.year
    if (as_of.month, as_of.day) < (recognized_on.month, recognized_on.day):
        years -= 1
    return years


def age_bucket(recognized_on: date, as_of: date) -> str:
    return AGE_BUCKETS[min(max(full_years(recognized_on, as_of), 0), 5)]


def due_bucket_bounds(as_of: date) -> dict[str, tuple[date | None, date | None]]:
    """For each due bucket, the range of due dates (inclusive) that fall in it as of a date.

    This is how SQL buckets items: by comparing due dates with these bounds (index-friendly).
    """
    bounds: dict[str, tuple[date | None, date | None]] = {"not_due": (as_of, None)}
    for name, (low, high) in zip(DUE_BUCKETS[1:], DUE_BUCKET_LIMITS, strict=False):
        bounds[name] = (as_of - timedelta(days=high), as_of - timedelta(days=low))
    bounds["d1096_plus"] = (None, as_of - timedelta(days=1096))
    return bounds


def age_bucket_bounds(as_of: date) -> dict[str, tuple[date | None, date | None]]:
    """For each age bucket, the range of recognition dates: (exclusive low, inclusive high].

    full_years(r, D) >= k  <=>  r <= years_back(D, k), so bucket k holds
    years_back(D, k+1) < r <= years_back(D, k).
    """
    bounds: dict[str, tuple[date | None, date | None]] = {}
    for k, name in enumerate(AGE_BUCKETS):
        high = years_back(as_of, k)
        low = years_back(as_of, k + 1) if k < 5 else None
        bounds[name] = (low, high)
    return bounds


# ---------------------------------------------------------------------------------------------
# Overdue interest (篇七 第三条)


def fen_days_overdue(
    amount: int, reductions: list[tuple[date, int]], due_on: date, as_of: date
) -> int:
    """Σ outstanding(day) over each day after the due date up to and including ``as_of``,
    in fen-days. A reduction dated r stops interest on its amount from day r on."""
    start = due_on + timedelta(days=1)
    if as_of < start:
        return 0
    balance = amount - sum(fen for day, fen in reductions if day <= start)
    total = 0
    cursor = start
    for point in sorted({day for day, _fen in reductions if start < day <= as_of}):
        total += max(balance, 0) * (point - cursor).days
        balance -= sum(fen for day, fen in reductions if day == point)
        cursor = point
    total += max(balance, 0) * ((as_of - cursor).days + 1)
    return total


def interest_from_fen_days(
    fen_days: int, rate_percent: Decimal, basis: str = "annual", day_count: int = 365
) -> Decimal:
    """Simple interest in yuan, rounded once to the fen, half up.

    ``basis`` "annual": rate per year, divided by ``day_count`` (365 or 360) per day;
    "daily": the rate applies per day as stated (e.g. 0.05 %/day).
    """
    daily = rate_percent / Decimal(100)
    if basis == "annual":
        daily = daily / Decimal(day_count)
    yuan = Decimal(fen_days) * daily / Decimal(100)
    return yuan.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def overdue_interest(
    amount: int,
    reductions: list[tuple[date, int]],
    due_on: date,
    as_of: date,
    rate_percent: Decimal,
    basis: str = "annual",
    day_count: int = 365,
) -> Decimal:
    return interest_from_fen_days(
        fen_days_overdue(amount, reductions, due_on, as_of), rate_percent, basis, day_count
    )
