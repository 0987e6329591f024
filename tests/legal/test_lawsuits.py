"""Lawsuits: stages in order, bad input refused, enforcement receipts through the ledger, and
the interest for delayed performance computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from recovery.cases.errors import StaleEdit
from recovery.cases.queries import counterparty_position
from recovery.extensions import db
from recovery.ledger.models import Receipt
from recovery.legal import judgment, queries, services
from recovery.legal.services import LegalError

D = date
COURT = "北京市朝阳区人民法院"


def preserve(world, suit, on=D(2025, 4, 5), **kw):
    values = {"ruling": "(2025)京0105财保1号", "assets": "Bank account frozen", "amount": None}
    values.update(kw)
    return services.record_preservation(
        suit,
        version=suit.version,
        applied_on=on,
        actor=world.user("legal"),
        today=world.today,
        **values,
    )


def hearing(world, suit, on):
    return services.add_hearing(
        suit, version=suit.version, held_on=on, kind="hearing", note=None, actor=world.user("legal")
    )


def judge(world, suit, **kw):
    values = {
        "kind": "judgment",
        "judgment_on": D(2025, 5, 20),
        "awarded_principal": Decimal("100000.00"),
        "awarded_interest": Decimal("470.00"),
        "awarded_costs": Decimal("2300.00"),
        "effective_on": D(2025, 6, 5),
        "performance_deadline": D(2025, 6, 15),
        "post_judgment_rate": Decimal("3.65"),
        "interest_runs_from": D(2025, 6, 16),
    }
    values.update(kw)
    legal = world.user("legal")
    return services.record_judgment(
        suit, version=suit.version, actor=legal, today=world.today, **values
    )


def enforce(world, suit, on=D(2025, 6, 16)):
    legal = world.user("legal")
    return services.apply_enforcement(
        suit,
        version=suit.version,
        applied_on=on,
        court=None,
        case_number="(2025)京0105执100号",
        actor=legal,
        today=world.today,
    )


def recover(world, suit, amount, on=D(2025, 6, 30), number="ENF-1"):
    legal = world.user("legal")
    return services.record_recovery(
        suit,
        version=suit.version,
        receipt_no=number,
        amount=amount,
        received_on=on,
        reference=None,
        actor=legal,
        today=world.today,
    )


# ---------------------------------------------------------------------------------------------
# Stages


def test_stages_go_forward_in_order(world):
    suit = world.lawsuit()
    assert suit.stage == "filed" and suit.court == COURT
    assert (suit.claimed_principal, suit.claimed_interest) == (
        suit.referral.principal,
        suit.referral.interest,
    )
    assert [(c.kind, c.amount) for c in suit.costs] == [("court_fee", Decimal("2300.00"))]

    with pytest.raises(LegalError, match="needs a judgment"):
        enforce(world, suit)
    with pytest.raises(LegalError, match="once enforcement is applied for"):
        recover(world, suit, Decimal("1.00"))

    preserve(world, suit)
    assert suit.stage == "preservation"
    hearing(world, suit, D(2025, 5, 10))
    assert suit.stage == "hearing"
    preserve(world, suit, on=D(2025, 5, 12))  # a later preservation does not move it back
    assert suit.stage == "hearing"

    judge(world, suit)
    assert suit.stage == "judgment"
    with pytest.raises(LegalError, match="hearings come before it"):
        hearing(world, suit, D(2025, 6, 1))
    with pytest.raises(LegalError, match="preservation belongs before it"):
        preserve(world, suit, on=D(2025, 6, 1))

    enforce(world, suit)
    assert suit.stage == "enforcement" and suit.enforcement_court == COURT
    with pytest.raises(LegalError, match="can no longer be changed"):
        judge(world, suit)

    services.close_lawsuit(
        suit,
        version=suit.version,
        outcome="partly_recovered",
        closed_on=D(2025, 6, 30),
        note="Enforcement ended.",
        actor=world.user("legal"),
        today=world.today,
    )
    assert suit.stage == "closed"
    with pytest.raises(LegalError, match="closed"):
        hearing(world, suit, D(2025, 6, 30))


def test_a_hearing_before_filing_is_refused_with_the_reason(world):
    suit = world.lawsuit(filed_on=D(2025, 4, 1))
    with pytest.raises(LegalError) as refused:
        hearing(world, suit, D(2025, 3, 31))
    assert refused.value.field == "held_on"
    assert (
        str(refused.value.message) == "A hearing cannot be before the suit was filed (2025-04-01)."
    )
    assert suit.stage == "filed" and suit.hearings == []


def test_a_judgment_before_a_hearing_on_record_is_refused(world):
    suit = world.lawsuit()
    hearing(world, suit, D(2025, 6, 1))
    with pytest.raises(LegalError, match="after this judgment: cancel it first"):
        judge(world, suit)
    (held,) = suit.hearings
    services.cancel_hearing(
        held, version=suit.version, reason="Postponed by the court", actor=world.user("legal")
    )
    judge(world, suit)
    assert suit.stage == "judgment"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("12,34x", "Not an amount"),
        ("-5", "cannot be negative"),
        ("1.234", "At most two decimals"),
        ("", "Enter an amount"),
        ("99999999999999", "too large"),
    ],
)
def test_a_judgment_amount_that_is_not_valid_is_refused(world, typed, reason):
    suit = world.lawsuit()
    with pytest.raises(LegalError, match=reason) as refused:
        judge(world, suit, awarded_costs=typed)
    assert refused.value.field == "awarded_costs"
    assert suit.stage == "filed" and suit.awarded_principal is None


def test_judgment_dates_must_follow_each_other(world):
    suit = world.lawsuit(filed_on=D(2025, 4, 1))
    with pytest.raises(LegalError, match="before the suit was filed"):
        judge(world, suit, judgment_on=D(2025, 3, 1))
    with pytest.raises(LegalError, match="on or after the day it is given"):
        judge(world, suit, effective_on=D(2025, 5, 1))
    with pytest.raises(LegalError, match="performance deadline"):
        judge(world, suit, performance_deadline=D(2025, 6, 1))
    with pytest.raises(LegalError, match="in the future"):
        judge(world, suit, judgment_on=D(2025, 7, 1))


def test_enforcement_waits_for_the_performance_deadline(world):
    suit = world.lawsuit()
    judge(world, suit)
    with pytest.raises(LegalError, match="until 2025-06-15 to perform"):
        enforce(world, suit, on=D(2025, 6, 15))
    enforce(world, suit, on=D(2025, 6, 16))
    assert services.enforcement_deadline(suit.performance_deadline) == D(2027, 6, 15)


def test_closing_needs_what_the_outcome_says(world):
    suit = world.lawsuit()
    legal = world.user("legal")
    with pytest.raises(LegalError, match="judgment recorded first"):
        services.close_lawsuit(
            suit,
            version=suit.version,
            outcome="paid_in_full",
            closed_on=D(2025, 6, 1),
            note=None,
            actor=legal,
            today=world.today,
        )
    with pytest.raises(LegalError, match="how the suit ended"):
        services.close_lawsuit(
            suit,
            version=suit.version,
            outcome="withdrawn",
            closed_on=D(2025, 6, 1),
            note=" ",
            actor=legal,
            today=world.today,
        )


def test_only_legal_runs_suits_and_a_stale_page_is_refused(world):
    suit = world.lawsuit()
    with pytest.raises(LegalError, match="Only legal"):
        services.add_hearing(
            suit,
            version=suit.version,
            held_on=D(2025, 5, 1),
            kind="hearing",
            note=None,
            actor=world.user("sales"),
        )
    shown = suit.version
    preserve(world, suit)
    with pytest.raises(StaleEdit, match="Changed by User legal"):
        services.add_hearing(
            suit,
            version=shown,
            held_on=D(2025, 5, 1),
            kind="hearing",
            note=None,
            actor=world.user("legal2"),
        )


# ---------------------------------------------------------------------------------------------
# Money


def test_an_enforcement_receipt_lowers_the_ledger_balance(world):
    suit = world.lawsuit()
    judge(world, suit)
    enforce(world, suit)
    before = counterparty_position(world.counterparty.id, world.today).outstanding
    recovery = recover(world, suit, Decimal("40000.00"))
    receipt = db.session.get(Receipt, recovery.receipt_id)
    assert (receipt.method, receipt.amount, receipt.received_on) == (
        "enforcement",
        Decimal("40000.00"),
        D(2025, 6, 30),
    )
    assert receipt.reference == f"{COURT} (2025)京0105执100号"
    after = counterparty_position(world.counterparty.id, world.today).outstanding
    assert before - after == Decimal("40000.00")
    # The oldest item (INV-1) took it: allocation ran.
    assert world.item1.open_amount == Decimal("60000.00")

    with pytest.raises(LegalError, match="number exists"):
        recover(world, suit, Decimal("1.00"), number="ENF-1")
    with pytest.raises(LegalError, match="still due"):
        recover(world, suit, Decimal("900000.00"), number="ENF-2")
    with pytest.raises(LegalError, match="before the judgment"):
        recover(world, suit, Decimal("1.00"), on=D(2025, 5, 1), number="ENF-3")
    with pytest.raises(LegalError, match="cannot be zero"):
        recover(world, suit, "0", number="ENF-4")


def test_delayed_performance_interest_by_hand():
    deadline, as_of = D(2025, 6, 15), D(2025, 7, 15)  # 30 days late
    rate = Decimal("0.0175")
    # 100,000.00 × 0.0175 % × 30 days = 525.00
    assert judgment.delay_interest(Decimal("100000.00"), [], deadline, as_of, rate) == Decimal(
        "525.00"
    )
    # Ordinary interest at 3.65 % a year (0.01 % a day) from 16 June: 30 days = 300.00
    assert judgment.ordinary_interest(
        Decimal("100000.00"), [], D(2025, 6, 16), as_of, Decimal("3.65")
    ) == Decimal("300.00")
    # Nothing before the deadline has passed.
    assert judgment.delay_interest(Decimal("100000.00"), [], deadline, deadline, rate) == Decimal(
        "0.00"
    )


def test_the_judgment_position_on_the_case(world):
    suit = world.lawsuit()
    judge(world, suit)
    position = judgment.position(suit, D(2025, 7, 15))
    assert position.delay_days == 30 and position.delay_interest == Decimal("525.00")
    assert position.ordinary_days == 30 and position.ordinary_interest == Decimal("300.00")
    assert position.delayed_performance_interest == Decimal("825.00")
    # 100,000.00 + 470.00 + 2,300.00 awarded + 825.00
    assert position.total_due == Decimal("103595.00")

    enforce(world, suit)
    recover(world, suit, Decimal("40000.00"), on=D(2025, 6, 30))
    position = judgment.position(suit, D(2025, 7, 15))
    # 100,000.00 from 16 to 29 June (14 days), 60,000.00 from 30 June to 15 July (16 days):
    # 2,360,000 yuan-days × 0.0175 % = 413.00; × 0.01 % = 236.00.
    assert position.unpaid_principal == Decimal("60000.00")
    assert position.delay_interest == Decimal("413.00")
    assert position.ordinary_interest == Decimal("236.00")
    assert position.total_due == Decimal("60000.00") + Decimal("2770.00") + Decimal("649.00")
    assert judgment.position(suit, D(2025, 6, 29)).recovered == Decimal("0.00")


def test_lawsuits_by_stage_and_the_items_of_filed_suits(world):
    suit = world.lawsuit(filed_on=D(2025, 4, 1))
    hearing(world, suit, D(2025, 5, 10))
    judge(world, suit)
    rows = {row.stage: (row.count, row.amount) for row in queries.lawsuits_by_stage(D(2025, 5, 1))}
    claim = suit.claimed_principal + suit.claimed_interest
    assert rows["filed"] == (1, claim) and rows["hearing"] == (0, Decimal("0.00"))
    rows = {row.stage: row for row in queries.lawsuits_by_stage(D(2025, 5, 15))}
    assert rows["hearing"].count == 1
    rows = {row.stage: row for row in queries.lawsuits_by_stage(D(2025, 6, 1))}
    assert (rows["judgment"].count, rows["judgment"].amount) == (1, Decimal("102770.00"))
    assert sum(row.count for row in queries.lawsuits_by_stage(D(2025, 3, 31))) == 0
    assert [row.stage for row in queries.lawsuits_by_stage(D(2025, 6, 1))] == [
        "filed",
        "preservation",
        "hearing",
        "judgment",
        "enforcement",
        "closed",
    ]
    enforce(world, suit)
    recover(world, suit, Decimal("40000.00"), on=D(2025, 6, 20))
    rows = {row.stage: row for row in queries.lawsuits_by_stage(D(2025, 6, 25))}
    assert (rows["enforcement"].count, rows["enforcement"].amount) == (1, Decimal("62770.00"))
    services.close_lawsuit(
        suit,
        version=suit.version,
        outcome="partly_recovered",
        closed_on=D(2025, 6, 30),
        note="No more assets.",
        actor=world.user("legal"),
        today=world.today,
    )
    rows = {row.stage: row for row in queries.lawsuits_by_stage(D(2025, 6, 30))}
    assert (rows["closed"].count, rows["closed"].amount) == (1, Decimal("0.00"))
    from recovery.auth.services import create_department

    group = create_department("Group", "company", None)
    east = create_department("East", "department", group)
    west = create_department("West", "department", group)
    world.counterparty.department_id = east.id
    db.session.flush()
    assert sum(r.count for r in queries.lawsuits_by_stage(D(2025, 6, 1), east.id)) == 1
    assert sum(r.count for r in queries.lawsuits_by_stage(D(2025, 6, 1), west.id)) == 0

    items = db.session.execute(queries.suit_items()).all()
    assert sorted((row.item_id, row.filed_on) for row in items) == [
        (world.item1.id, D(2025, 4, 1)),
        (world.item2.id, D(2025, 4, 1)),
    ]
