"""The claimed amount: principal outstanding + overdue interest per item, computed by hand."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from recovery.ledger import queries as ledger_queries
from recovery.ledger import rules
from recovery.legal import claims
from recovery.legal.models import ReferralItem
from recovery.reports.interest import interest_settings

D = date


def test_claim_by_hand_with_a_partial_payment(world):
    # 40,000.00 paid on 2 March on INV-1 (100,000.00 due 31 January, 3.65 % a year = 0.01 % a
    # day); INV-2 (10,000.00 due 1 March) bears the default 4.65 % a year.
    world.ledger.receipt(world.counterparty, "40000.00", D(2025, 3, 2), item=world.item1)
    as_of = D(2025, 3, 31)
    ids = claims.overdue_item_ids(world.counterparty.id, as_of)
    assert ids == [world.item1.id, world.item2.id]  # INV-3 is not due (nor recognised) yet

    first, second = claims.claim_lines(world.counterparty.id, ids, as_of)
    # INV-1: 1 Feb – 1 Mar, 29 days at 100,000.00; 2 – 31 March, 30 days at 60,000.00.
    assert first.principal == Decimal("60000.00")
    assert [(p.start, p.end, p.balance, p.days) for p in first.periods] == [
        (D(2025, 2, 1), D(2025, 3, 1), Decimal("100000.00"), 29),
        (D(2025, 3, 2), D(2025, 3, 31), Decimal("60000.00"), 30),
    ]
    assert first.yuan_days == Decimal("4700000.00")
    # (100,000 × 29 + 60,000 × 30) × 0.0001 = 470.00
    assert first.interest == Decimal("470.00")
    assert (first.rate, first.basis, first.rate_source) == (Decimal("3.65"), "annual", "item")
    assert first.days_overdue == 59 and first.contract_no == "HT-1"
    # INV-2: 10,000.00 × 30 days × 4.65 % / 365 = 38.2191… → 38.22
    assert second.principal == Decimal("10000.00")
    assert second.interest == Decimal("38.22")
    assert second.rate_source == "default"
    assert claims.totals([first, second]) == (Decimal("70000.00"), Decimal("508.22"))


def test_the_referral_freezes_the_claim_on_its_items(world):
    world.ledger.receipt(world.counterparty, "40000.00", D(2025, 3, 2), item=world.item1)
    referral = world.referral(as_of=D(2025, 3, 31))
    assert (referral.principal, referral.interest) == (Decimal("70000.00"), Decimal("508.22"))
    rows = {row.item_id: row for row in referral.items}
    assert set(rows) == {world.item1.id, world.item2.id}
    assert rows[world.item1.id].interest == Decimal("470.00")


def test_claim_lines_agree_with_the_ledger_interest_report(world):
    """The same rule as recovery.ledger.queries.interest_rows (the interest report's SQL)."""
    world.ledger.receipt(world.counterparty, "12345.67", D(2025, 2, 20))
    world.ledger.receipt(world.counterparty, "30000.00", D(2025, 5, 5))
    as_of = D(2025, 6, 30)
    rate, day_count = interest_settings()
    expected = {
        row["document_no"]: (row["outstanding"], row["interest"])
        for row in ledger_queries.interest_rows(as_of, rate, day_count)
    }
    ids = claims.overdue_item_ids(world.counterparty.id, as_of)
    lines = claims.claim_lines(world.counterparty.id, ids, as_of)
    assert {line.document_no: (line.principal, line.interest) for line in lines} == {
        name: value for name, value in expected.items() if name in {"INV-1", "INV-2"}
    }


def test_interest_periods_add_up_to_the_ledger_rule():
    generator = random.Random(5)
    for _ in range(300):
        due = D(2024, 1, 1) + timedelta(days=generator.randrange(100))
        as_of = due + timedelta(days=generator.randrange(-5, 200))
        amount = generator.randrange(1, 10_000_000)
        reductions = [
            (due + timedelta(days=generator.randrange(-20, 220)), generator.randrange(1, amount))
            for _ in range(generator.randrange(4))
        ]
        periods = claims.interest_periods(amount, reductions, due, as_of)
        total = sum(balance * ((end - start).days + 1) for start, end, balance in periods)
        assert total == rules.fen_days_overdue(amount, reductions, due, as_of)


def test_items_taken_out_of_the_claim_are_kept_unclaimed(world):
    from recovery.legal import services

    referral = world.referral()
    services.update_referral(
        referral,
        version=referral.version,
        claim_type="sale_of_goods",
        claim_as_of=world.today,
        note="Only the large invoice.",
        item_ids=[world.item1.id],
        actor=world.user("sales"),
        today=world.today,
    )
    rows = {row.item_id: row.claimed for row in referral.items}
    assert rows == {world.item1.id: True, world.item2.id: False}
    assert referral.principal == Decimal("100000.00")
    assert ReferralItem.query.count() == 2  # nothing deleted
