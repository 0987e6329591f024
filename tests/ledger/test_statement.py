"""A counterparty's statement (recovery.ledger.statement) against figures computed by hand
with the rules of DOMAIN §3, and against the SQL aggregates of queries.py."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.ledger import queries, rules, statement
from recovery.ledger import services as ledger
from recovery.ledger.models import Adjustment
from recovery.parties import services as parties
from recovery.settings.services import update_settings

D = date
TERMS = statement.InterestTerms(Decimal("4.65"), 365)


def hand_ledger(build, actor=None):
    """The worked example of docs/ledger.md.

    A 1000.00 recognised 1 Jan, due 31 Jan, contract rate 12 %/year;
    B  500.00 recognised 1 Feb, due 1 Mar, item rate 7.3 %/year;
    C  200.00 recognised 20 Mar, due 30 Jun, no rate (the default applies).
    R1 300.00 on 15 Feb naming nothing  -> A 300 (due earliest)
    R2 800.00 on 10 Mar naming B        -> B 500, the rest to A 300
    CN 100.00 credit note on A dated 15 Mar (approved)
    R3 1000.00 on 1 Apr naming nothing  -> A 300, C 200 (on 1 Apr), 500 left as unapplied credit
    """
    acme = build.counterparty("ACME")
    contract = parties.save_contract(
        number="K-1", counterparty_id=acme.id, overdue_rate=Decimal("12"), rate_basis="annual"
    )
    a = build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 1, 31), "A", contract_id=contract.id)
    b = build.item(acme, "500.00", D(2025, 2, 1), D(2025, 3, 1), "B", overdue_rate=Decimal("7.3"))
    c = build.item(acme, "200.00", D(2025, 3, 20), D(2025, 6, 30), "C")
    build.receipt(acme, "300.00", D(2025, 2, 15), "R1")
    build.receipt(acme, "800.00", D(2025, 3, 10), "R2", item=b)
    # The credit note is entered before R3: later, R3 would leave no room on A for it.
    proposer = actor or _user("proposer")
    approver = _user("approver")
    note = ledger.propose_adjustment(
        a,
        kind="credit_note",
        amount=Decimal("100.00"),
        dated_on=D(2025, 3, 15),
        reason="price reduction",
        number="CN-1",
        actor=proposer,
    )
    ledger.decide_adjustment(note, approve=True, actor=approver)
    build.receipt(acme, "1000.00", D(2025, 4, 1), "R3")
    db.session.commit()
    return acme, a, b, c


def _user(username):
    from recovery.auth import services as auth

    user = auth.find_user(username)
    if user is None:
        user = auth.create_user(username, "correct-horse-9", ("finance",))
    return user


def by_no(lines):
    return {line.document_no: line for line in lines}


def test_statement_after_everything_matches_the_hand_computation(build):
    acme, *_ = hand_ledger(build)
    s = statement.build_statement(acme.id, D(2025, 4, 30), TERMS)
    lines = by_no(s.items)
    assert set(lines) == {"A", "B", "C"}
    a, b, c = lines["A"], lines["B"], lines["C"]
    # A: paid 300 + 300 + 300, credited 100 -> nothing open.
    assert (a.applied, a.credited, a.outstanding) == (Decimal("900.00"), Decimal("100.00"), 0)
    # Interest on A, in yuan-days: 1000×14 (1–14 Feb) + 700×23 (15 Feb–9 Mar)
    # + 400×5 (10–14 Mar) + 300×17 (15–31 Mar) = 37,200; × 12 % / 365 = 12.2301… → 12.23.
    assert (a.rate, a.rate_basis, a.rate_source) == (Decimal("12"), "annual", "contract")
    assert a.interest == Decimal("12.23")
    # B: paid 500 on 10 Mar, overdue 2–9 Mar: 500×8 = 4,000 yuan-days × 7.3 % / 365 = 0.80.
    assert (b.applied, b.outstanding, b.rate_source) == (Decimal("500.00"), 0, "item")
    assert b.interest == Decimal("0.80")
    # C: paid 200 on 1 Apr from R3, before it is due: no interest, default rate.
    assert (c.applied, c.outstanding, c.interest) == (Decimal("200.00"), 0, 0)
    assert (c.rate, c.rate_source) == (Decimal("4.65"), "default")
    assert [(x.applied_on, x.receipt_no, x.amount) for x in c.applications] == [
        (D(2025, 4, 1), "R3", Decimal("200.00"))
    ]
    # Receipts and how each was applied.
    receipts = {r.receipt_no: r for r in s.receipts}
    assert [(x.document_no, x.amount) for x in receipts["R2"].applications] == [
        ("A", Decimal("300.00")),
        ("B", Decimal("500.00")),
    ]
    assert receipts["R2"].item_document_no == "B"
    assert receipts["R3"].unapplied == Decimal("500.00")
    # Totals.
    assert s.amount == Decimal("1700.00")
    assert s.applied == Decimal("1600.00")
    assert s.credited == Decimal("100.00")
    assert s.outstanding == 0
    assert s.received == Decimal("2100.00")
    assert s.unapplied_credit == Decimal("500.00")
    assert s.interest == Decimal("13.03")
    assert [x.number for x in s.adjustments] == ["CN-1"]


def test_statement_as_of_an_earlier_date(build):
    acme, *_ = hand_ledger(build)
    s = statement.build_statement(acme.id, D(2025, 3, 12), TERMS)
    lines = by_no(s.items)
    assert set(lines) == {"A", "B"}  # C is recognised on 20 Mar: it does not exist yet
    a = lines["A"]
    assert (a.applied, a.credited, a.outstanding) == (
        Decimal("600.00"),
        Decimal("0.00"),  # the credit note is dated 15 Mar
        Decimal("400.00"),
    )
    assert a.days_overdue == 40  # 31 Jan -> 12 Mar 2025
    assert a.due_bucket == "d31_90"
    assert a.age_bucket == "y0_1"
    # 1000×14 + 700×23 + 400×3 (10–12 Mar) = 31,300 yuan-days × 12 % / 365 = 10.29.
    assert a.interest == Decimal("10.29")
    assert lines["B"].interest == Decimal("0.80")
    assert [r.receipt_no for r in s.receipts] == ["R1", "R2"]
    assert s.unapplied_credit == 0
    assert s.outstanding == s.overdue == Decimal("400.00")
    assert s.due_aging["d31_90"] == Decimal("400.00")
    assert sum(s.due_aging.values()) == sum(s.age_aging.values()) == s.outstanding


def test_statement_before_anything_is_empty(build):
    acme, *_ = hand_ledger(build)
    s = statement.build_statement(acme.id, D(2024, 12, 31), TERMS)
    assert s.items == [] and s.receipts == [] and s.applications == []
    assert s.outstanding == s.unapplied_credit == s.interest == 0


def test_daily_rate_and_360_day_count(build):
    acme = build.counterparty("DAILY")
    contract = parties.save_contract(
        number="K-D", counterparty_id=acme.id, overdue_rate=Decimal("0.05"), rate_basis="daily"
    )
    build.item(acme, "10000.00", D(2025, 1, 1), D(2025, 1, 31), "X", contract_id=contract.id)
    build.item(acme, "3650.00", D(2025, 1, 1), D(2025, 1, 31), "Y")
    db.session.commit()
    s = statement.build_statement(
        acme.id, D(2025, 3, 2), statement.InterestTerms(Decimal("10"), 360)
    )
    lines = by_no(s.items)
    # 30 days overdue (1 Feb – 2 Mar). X: 10,000 × 0.05 % × 30 = 150.00 (per day, as stated).
    assert lines["X"].days_overdue == 30
    assert lines["X"].interest == Decimal("150.00")
    # Y: default 10 %/year, actual/360: 3,650 × 10 % × 30 / 360 = 30.416… → 30.42.
    assert lines["Y"].interest == Decimal("30.42")


def test_interest_terms_come_from_the_settings(app):
    with app.app_context():
        assert statement.interest_terms() == statement.InterestTerms(Decimal("4.65"), 365)
        update_settings({"interest.default_annual_rate": "6", "interest.day_count": "actual/360"})
        db.session.commit()
        assert statement.interest_terms() == statement.InterestTerms(Decimal("6"), 360)


def random_ledger(build, seed: int, counterparties: int = 4, items: int = 40, receipts: int = 25):
    rng = random.Random(seed)
    start = D(2022, 1, 1)
    parties_list = [build.counterparty(f"RND{n}") for n in range(counterparties)]
    made = []
    for n in range(items):
        cp = rng.choice(parties_list)
        recognized = start + timedelta(days=rng.randint(0, 1200))
        due = recognized + timedelta(days=rng.choice([0, 15, 30, 60, 90, 400]))
        extra = {}
        if rng.random() < 0.3:
            extra["overdue_rate"] = Decimal(rng.choice(["5", "8.5", "12"]))
        made.append(
            build.item(
                cp,
                f"{rng.randint(100, 500000)}.{rng.randint(0, 99):02d}",
                recognized,
                due,
                f"D{n:04d}",
                **extra,
            )
        )
    for n in range(receipts):
        cp = rng.choice(parties_list)
        own = [i for i in made if i.counterparty_id == cp.id]
        named = rng.choice(own) if own and rng.random() < 0.3 else None
        build.receipt(
            cp,
            f"{rng.randint(100, 300000)}.00",
            start + timedelta(days=rng.randint(0, 1300)),
            f"P{n:04d}",
            item=named,
        )
    db.session.commit()
    return parties_list


@pytest.mark.parametrize("seed", [1, 2])
def test_statement_agrees_with_the_sql_aggregates(build, seed):
    cps = random_ledger(build, seed)
    for as_of in (D(2022, 6, 30), D(2023, 12, 31), D(2025, 6, 1)):
        aging = {r.key: r for r in queries.aging(as_of, by="counterparty", basis="due")}
        age = {r.key: r for r in queries.aging(as_of, by="counterparty", basis="age")}
        interest = {
            row["document_no"]: row["interest"]
            for row in queries.interest_rows(as_of, TERMS.default_rate, TERMS.day_count)
        }
        for cp in cps:
            s = statement.build_statement(cp.id, as_of, TERMS)
            row = aging.get(cp.code)
            if row is None:
                assert s.outstanding == 0 and s.unapplied_credit == 0
                continue
            assert s.outstanding == row.values["outstanding"]
            assert s.overdue == row.values["overdue"]
            assert s.unapplied_credit == row.values["unapplied_credit"]
            for bucket in rules.DUE_BUCKETS:
                assert s.due_aging[bucket] == row.values[bucket], bucket
            for bucket in rules.AGE_BUCKETS:
                assert s.age_aging[bucket] == age[cp.code].values[bucket], bucket
            for line in s.items:
                assert line.interest == interest.get(line.document_no, Decimal("0.00"))
            # Outstanding + applications + credits = amounts; received = applied + credit.
            assert s.outstanding + s.applied + s.credited == s.amount
            assert s.received == s.unapplied_credit + sum(
                (a.amount for a in s.applications), Decimal("0.00")
            )


def test_statement_reads_only_its_counterparty_in_a_few_queries(build, app):
    """Speed at a million items comes from reading one counterparty's rows by index: the
    number of queries does not grow with the number of items."""
    cps = random_ledger(build, 3, counterparties=2, items=60, receipts=30)
    counts = []

    def count(*_args, **_kwargs):
        counts[-1] += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for cp in cps:
            counts.append(0)
            statement.build_statement(cp.id, D(2025, 6, 1), TERMS)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert all(n <= 5 for n in counts), counts


def test_pending_and_rejected_adjustments_do_not_count(build):
    acme = build.counterparty("PEND")
    item = build.item(acme, "1000.00", D(2025, 1, 1), D(2025, 1, 31), "P1")
    proposer, other = _user("p1"), _user("p2")
    pending = ledger.propose_adjustment(
        item,
        kind="write_off",
        amount=Decimal("100.00"),
        dated_on=D(2025, 2, 1),
        reason="r",
        number="W-1",
        actor=proposer,
    )
    rejected = ledger.propose_adjustment(
        item,
        kind="credit_note",
        amount=Decimal("50.00"),
        dated_on=D(2025, 2, 1),
        reason="r",
        number="W-2",
        actor=proposer,
    )
    ledger.decide_adjustment(rejected, approve=False, actor=other, note="no")
    db.session.commit()
    s = statement.build_statement(acme.id, D(2025, 3, 1), TERMS)
    assert s.outstanding == Decimal("1000.00")
    assert s.credited == 0
    assert db.session.get(Adjustment, pending.id).status == "proposed"
