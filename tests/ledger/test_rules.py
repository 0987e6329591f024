"""Hand-computed cases for every ledger rule (DOMAIN §3). Amounts are in fen."""

from datetime import date
from decimal import Decimal

import pytest

from recovery.ledger.rules import (
    Applied,
    ItemDoc,
    ReceiptDoc,
    age_bucket,
    age_bucket_bounds,
    allocate,
    due_bucket,
    due_bucket_bounds,
    fen_days_overdue,
    full_years,
    outstanding,
    overdue_interest,
)

D = date


def item(i, no, amount, rec, due, credited=0):
    return ItemDoc(i, no, amount, rec, due, credited)


def receipt(i, no, amount, day, item_id=None):
    return ReceiptDoc(i, no, amount, day, item_id)


def test_partial_payments_go_to_the_earliest_due_item():
    items = [
        item(1, "A", 10000, D(2025, 1, 1), D(2025, 3, 1)),
        item(2, "B", 5000, D(2025, 1, 5), D(2025, 2, 1)),
    ]
    receipts = [receipt(10, "R1", 3000, D(2025, 3, 10)), receipt(11, "R2", 4000, D(2025, 4, 1))]
    assert allocate(items, receipts) == [
        Applied(D(2025, 3, 10), 10, 2, 3000),
        Applied(D(2025, 4, 1), 11, 1, 2000),
        Applied(D(2025, 4, 1), 11, 2, 2000),
    ]


def test_designated_item_first_then_rest_by_due_date():
    items = [
        item(1, "A", 10000, D(2025, 1, 1), D(2025, 2, 1)),
        item(2, "B", 5000, D(2025, 1, 1), D(2025, 3, 1)),
    ]
    applied = allocate(items, [receipt(10, "R1", 7000, D(2025, 4, 1), item_id=2)])
    assert applied == [Applied(D(2025, 4, 1), 10, 1, 2000), Applied(D(2025, 4, 1), 10, 2, 5000)]


def test_receipt_naming_a_paid_item_pays_the_others():
    items = [
        item(1, "A", 5000, D(2025, 1, 1), D(2025, 2, 1)),
        item(2, "B", 5000, D(2025, 1, 1), D(2025, 3, 1)),
    ]
    receipts = [receipt(10, "R1", 5000, D(2025, 2, 1)), receipt(11, "R2", 3000, D(2025, 2, 2), 1)]
    assert allocate(items, receipts) == [
        Applied(D(2025, 2, 1), 10, 1, 5000),
        Applied(D(2025, 2, 2), 11, 2, 3000),
    ]


def test_earmarked_prepayment_waits_for_its_item_and_surplus_becomes_credit():
    items = [
        item(1, "A", 3000, D(2025, 1, 1), D(2025, 2, 1)),
        item(2, "B", 6000, D(2025, 3, 1), D(2025, 4, 1)),
        item(3, "C", 2000, D(2025, 5, 1), D(2025, 6, 1)),
    ]
    # 8000 for B before B exists: 6000 waits for B; the rest (2000) pays A at once.
    applied = allocate(items, [receipt(10, "R1", 8000, D(2025, 1, 10), item_id=2)])
    assert applied == [
        Applied(D(2025, 1, 10), 10, 1, 2000),
        Applied(D(2025, 3, 1), 10, 2, 6000),
    ]
    # With a credit note of 1000 on B only 5000 can wait for it; 3000 pays A at once.
    items[1] = item(2, "B", 6000, D(2025, 3, 1), D(2025, 4, 1), credited=1000)
    applied = allocate(items, [receipt(10, "R1", 8000, D(2025, 1, 10), item_id=2)])
    assert applied == [
        Applied(D(2025, 1, 10), 10, 1, 3000),
        Applied(D(2025, 3, 1), 10, 2, 5000),
    ]
    # More than every open item: the surplus is unapplied credit that C takes when it comes.
    applied = allocate(items, [receipt(10, "R1", 9000, D(2025, 1, 10), item_id=2)])
    assert applied[-1] == Applied(D(2025, 5, 1), 10, 3, 1000)


def test_overpayment_is_unapplied_credit_taken_by_the_next_item():
    items = [item(1, "A", 1000, D(2025, 1, 1), D(2025, 1, 31))]
    receipts = [receipt(10, "R1", 1500, D(2025, 1, 20))]
    assert allocate(items, receipts) == [Applied(D(2025, 1, 20), 10, 1, 1000)]
    items.append(item(2, "B", 800, D(2025, 2, 10), D(2025, 3, 10)))
    assert allocate(items, receipts)[-1] == Applied(D(2025, 2, 10), 10, 2, 500)


def test_ties_on_due_date_go_by_recognition_then_document_number():
    items = [
        item(1, "B-2", 1000, D(2025, 1, 2), D(2025, 3, 1)),
        item(2, "B-1", 1000, D(2025, 1, 2), D(2025, 3, 1)),
        item(3, "A-9", 1000, D(2025, 1, 3), D(2025, 3, 1)),
    ]
    applied = allocate(items, [receipt(10, "R", 2500, D(2025, 3, 5))])
    assert [(a.item_id, a.amount) for a in applied] == [(1, 1000), (2, 1000), (3, 500)]


def test_item_recognised_the_same_day_as_a_receipt_comes_first():
    items = [item(1, "A", 1000, D(2025, 1, 5), D(2025, 2, 5))]
    assert allocate(items, [receipt(10, "R", 1000, D(2025, 1, 5))]) == [
        Applied(D(2025, 1, 5), 10, 1, 1000)
    ]


def test_order_of_entry_does_not_matter():
    items = [
        item(1, "A", 1000, D(2025, 1, 1), D(2025, 2, 1)),
        item(2, "B", 2000, D(2025, 1, 2), D(2025, 1, 20)),
    ]
    receipts = [receipt(10, "R1", 1500, D(2025, 2, 1)), receipt(11, "R2", 900, D(2025, 1, 1), 2)]
    forward = allocate(items, receipts)
    assert forward == allocate(items[::-1], receipts[::-1])


def test_outstanding_as_of_dates():
    reductions = [(D(2025, 3, 10), 3000), (D(2025, 4, 1), 2000)]
    assert outstanding(10000, reductions, D(2025, 3, 9)) == 10000
    assert outstanding(10000, reductions, D(2025, 3, 10)) == 7000
    assert outstanding(10000, reductions, D(2025, 12, 31)) == 5000


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, "not_due"),
        (0, "not_due"),
        (1, "d1_30"),
        (30, "d1_30"),
        (31, "d31_90"),
        (90, "d31_90"),
        (91, "d91_180"),
        (180, "d91_180"),
        (181, "d181_365"),
        (365, "d181_365"),
        (366, "d366_730"),
        (730, "d366_730"),
        (731, "d731_1095"),
        (1095, "d731_1095"),
        (1096, "d1096_plus"),
        (5000, "d1096_plus"),
    ],
)
def test_every_due_bucket_boundary(days, bucket):
    as_of = D(2026, 6, 30)
    from datetime import timedelta

    due = as_of - timedelta(days=days)
    assert due_bucket(due, as_of) == bucket
    low, high = due_bucket_bounds(as_of)[bucket]
    assert (low is None or due >= low) and (high is None or due <= high)


@pytest.mark.parametrize(
    ("recognized", "as_of", "bucket"),
    [
        (D(2025, 6, 30), D(2026, 6, 29), "y0_1"),
        (D(2025, 6, 30), D(2026, 6, 30), "y1_2"),
        (D(2024, 6, 30), D(2026, 6, 30), "y2_3"),
        (D(2023, 7, 1), D(2026, 6, 30), "y2_3"),
        (D(2023, 6, 30), D(2026, 6, 30), "y3_4"),
        (D(2022, 6, 30), D(2026, 6, 30), "y4_5"),
        (D(2021, 6, 30), D(2026, 6, 30), "y5_plus"),
        (D(2001, 1, 1), D(2026, 6, 30), "y5_plus"),
        # Leap day: an item of 29 Feb 2024 turns one on 1 Mar 2025.
        (D(2024, 2, 29), D(2025, 2, 28), "y0_1"),
        (D(2024, 2, 29), D(2025, 3, 1), "y1_2"),
        (D(2024, 2, 29), D(2028, 2, 29), "y4_5"),
        # As of 29 Feb 2028, an item of 28 Feb 2027 is one year old.
        (D(2027, 2, 28), D(2028, 2, 29), "y1_2"),
        (D(2027, 3, 1), D(2028, 2, 29), "y0_1"),
    ],
)
def test_every_age_bucket_boundary_and_leap_day(recognized, as_of, bucket):
    assert age_bucket(recognized, as_of) == bucket
    low, high = age_bucket_bounds(as_of)[bucket]
    assert recognized <= high and (low is None or recognized > low)


def test_full_years():
    assert full_years(D(2024, 2, 29), D(2025, 2, 28)) == 0
    assert full_years(D(2024, 2, 29), D(2025, 3, 1)) == 1


def test_interest_simple_case():
    # 10,000.00 overdue 30 days at 3.65 % a year: 10000 × 0.0365 × 30 / 365 = 30.00
    assert overdue_interest(1_000_000, [], D(2025, 1, 31), D(2025, 3, 2), Decimal("3.65")) == (
        Decimal("30.00")
    )


def test_interest_with_partial_payments():
    # Due 31 Jan; 10,000.00 open. 4,000.00 paid on 11 Feb (stops interest on it from 11 Feb).
    # Days 1–10 Feb: 10,000 × 10; 11 Feb – 2 Mar: 6,000 × 20. At 3.65 %/365 = 0.0001 a day:
    # 10 + 12 = 22.00
    reductions = [(D(2025, 2, 11), 400_000)]
    assert fen_days_overdue(1_000_000, reductions, D(2025, 1, 31), D(2025, 3, 2)) == (
        1_000_000 * 10 + 600_000 * 20
    )
    assert overdue_interest(
        1_000_000, reductions, D(2025, 1, 31), D(2025, 3, 2), Decimal("3.65")
    ) == Decimal("22.00")


def test_interest_payment_before_due_and_daily_rate_and_rounding():
    # Paid 500.00 before the due date: only 500.00 bears interest, 0.05 % a day for 3 days.
    reductions = [(D(2025, 1, 20), 50_000)]
    assert overdue_interest(
        100_000, reductions, D(2025, 1, 31), D(2025, 2, 3), Decimal("0.05"), "daily"
    ) == Decimal("0.75")
    # 333.33 for 1 day at 10 % / 360 = 0.0925916… → 0.09 (half up at the end only)
    assert overdue_interest(
        33_333, [], D(2025, 1, 31), D(2025, 2, 1), Decimal("10"), "annual", 360
    ) == Decimal("0.09")
    assert overdue_interest(100_000, [], D(2025, 1, 31), D(2025, 1, 31), Decimal("10")) == 0
