"""A counterparty's statement (recovery.ledger.statement) against figures computed by hand
with the rules of DOMAIN §3, and against the SQL aggregates of queries.py."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from recovery.core.money import to_fen
from recovery.extensions import db
from recovery.ledger import queries, rules, statement
from recovery.ledger import services as ledger
from recovery.ledger.models import Adjustment
from recovery.parties import services as parties
from recovery.settings.services import update_settings
from tests.ledger.conftest import LedgerBuilder
from tests.ledger.test_properties import (
    LEDGER_SETTINGS,
    RuleModel,
    as_of_dates,
    enter_ledger,
    ledgers,
    rolled_back,
)

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


# ---------------------------------------------------------------------------------------------
# The statement reads stored applications and sums in SQL; a replay of allocation by the pure
# rules (rules.allocate on the counterparty's documents, then rules.outstanding, the buckets,
# rules.overdue_interest) must give every figure, line and total of every page.

DEFAULT_RATES = (Decimal("4.65"), Decimal("0"), Decimal("18.25"), Decimal("4.6512345"))


def replayed(model, cp: int, as_of, terms: statement.InterestTerms):
    """(totals, {document_no: line figures}, {receipt_no: applied}) of one counterparty as of
    a date, from the documents alone."""
    from recovery.core.money import from_fen

    spec = model.entered.spec
    totals = dict.fromkeys(
        ("amount", "applied", "credited", "outstanding", "overdue", "interest", "received"), 0
    )
    due = dict.fromkeys(rules.DUE_BUCKETS, 0)
    age = dict.fromkeys(rules.AGE_BUCKETS, 0)
    lines = {}
    for item_id, s in model.items.items():
        if s.cp != cp or s.recognized_on > as_of:
            continue
        applied = sum(
            a.amount for a in model.applied if a.item_id == item_id and a.applied_on <= as_of
        )
        credited = sum(fen for day, fen in model.credits[item_id] if day <= as_of)
        outstanding = model.outstanding(item_id, as_of)
        assert outstanding == s.amount - applied - credited
        contract = spec.contracts[cp] if s.contract else None
        if s.rate is not None:
            rate, basis = s.rate, "annual"
        elif contract is not None and contract[0] is not None:
            rate, basis = contract
        else:
            rate, basis = terms.default_rate, "annual"
        interest = rules.overdue_interest(
            s.amount, model.reductions[item_id], s.due_on, as_of, rate, basis, terms.day_count
        )
        lines[s.no] = (
            from_fen(applied),
            from_fen(credited),
            from_fen(outstanding),
            rules.days_past_due(s.due_on, as_of) if outstanding > 0 else 0,
            rules.due_bucket(s.due_on, as_of),
            rules.age_bucket(s.recognized_on, as_of),
            interest,
            Decimal(rate),
            basis,
        )
        totals["amount"] += s.amount
        totals["applied"] += applied
        totals["credited"] += credited
        totals["outstanding"] += outstanding
        if s.due_on < as_of:
            totals["overdue"] += outstanding
        totals["interest"] += to_fen(interest)
        due[rules.due_bucket(s.due_on, as_of)] += outstanding
        age[rules.age_bucket(s.recognized_on, as_of)] += outstanding
    receipts = {}
    for receipt_id, s in model.receipts.items():
        if s.cp == cp and s.received_on <= as_of:
            totals["received"] += s.amount
            receipts[s.no] = from_fen(
                sum(
                    a.amount
                    for a in model.applied
                    if a.receipt_id == receipt_id and a.applied_on <= as_of
                )
            )
    figures = {name: from_fen(fen) for name, fen in totals.items()}
    figures["unapplied_credit"] = from_fen(model.unapplied_credit(as_of).get(cp, 0))
    figures["due_aging"] = {b: from_fen(fen) for b, fen in due.items()}
    figures["age_aging"] = {b: from_fen(fen) for b, fen in age.items()}
    return figures, lines, receipts


def every_page(cp_id, as_of, terms, per_page, open_only=False):
    """The statement's first page, and every item line and receipt over all its pages."""
    first = statement.build_statement(cp_id, as_of, terms, per_page=per_page, open_only=open_only)
    lines, receipts = list(first.items), list(first.receipts)
    for number in range(2, first.item_pages.pages + 1):
        page = statement.build_statement(
            cp_id, as_of, terms, page=number, per_page=per_page, open_only=open_only
        )
        lines += page.items
    for number in range(2, first.receipt_pages.pages + 1):
        page = statement.build_statement(
            cp_id, as_of, terms, receipts_page=number, per_page=per_page
        )
        receipts += page.receipts
    return first, lines, receipts


@LEDGER_SETTINGS
@given(
    spec=ledgers(max_items=6, max_receipts=6),
    data=st.data(),
    per_page=st.sampled_from((1, 2, 200)),
    default_rate=st.sampled_from(DEFAULT_RATES),
    day_count=st.sampled_from((365, 360)),
)
def test_the_statement_equals_a_replay_by_the_pure_rules(
    app, spec, data, per_page, default_rate, day_count
):
    terms = statement.InterestTerms(default_rate, day_count)
    with rolled_back(app):
        model = RuleModel(enter_ledger(spec))
        for as_of in data.draw(as_of_dates(spec)):
            for cp, cp_id in enumerate(model.entered.cp_ids):
                figures, lines, receipts = replayed(model, cp, as_of, terms)
                first, shown, shown_receipts = every_page(cp_id, as_of, terms, per_page)
                for name, value in figures.items():
                    assert getattr(first, name) == value, (name, as_of)
                assert first.item_count == len(lines) and first.receipt_count == len(receipts)
                assert [line.document_no for line in shown] == [
                    s.no
                    for s in sorted(
                        (
                            s
                            for s in model.items.values()
                            if s.cp == cp and s.recognized_on <= as_of
                        ),
                        key=lambda s: (s.due_on, s.recognized_on, s.no),
                    )
                ]
                for line in shown:
                    assert (
                        line.applied,
                        line.credited,
                        line.outstanding,
                        line.days_overdue,
                        line.due_bucket,
                        line.age_bucket,
                        line.interest,
                        line.rate,
                        line.rate_basis,
                    ) == lines[line.document_no], (line.document_no, as_of)
                    assert sum((a.amount for a in line.applications), Decimal(0)) == line.applied
                    assert sum((a.amount for a in line.adjustments), Decimal(0)) == line.credited
                assert {r.receipt_no: r.applied for r in shown_receipts} == receipts
                # Open items only: the same lines less the settled ones, the same totals.
                open_first, open_lines, _ = every_page(cp_id, as_of, terms, per_page, True)
                assert [line.document_no for line in open_lines] == [
                    line.document_no for line in shown if line.outstanding
                ]
                assert open_first.open_item_count == len(open_lines)
                assert open_first.outstanding == first.outstanding


def test_an_exact_half_fen_of_interest_is_rounded_as_the_rules_round_it(build):
    """0.0099 % a year on 18,250.00 overdue 100 days is exactly 0.495 yuan; the rules divide
    in 28-digit decimals and get a hair below the half, so 0.49 — the statement's total (in
    SQL) and the line (by the rules) both say 0.49."""
    acme = build.counterparty("HALF")
    build.item(acme, "18250.00", D(2025, 1, 1), D(2025, 1, 1), "H1", overdue_rate=Decimal("0.0099"))
    build.item(acme, "100.00", D(2025, 1, 1), D(2025, 1, 1), "H2", overdue_rate=Decimal("12"))
    db.session.commit()
    as_of = D(2025, 4, 11)  # 100 days after the due date
    expected = rules.overdue_interest(
        1_825_000, [], D(2025, 1, 1), as_of, Decimal("0.0099"), "annual", 365
    )
    assert expected == Decimal("0.49")
    s = statement.build_statement(acme.id, as_of, TERMS)
    lines = by_no(s.items)
    assert lines["H1"].interest == Decimal("0.49")
    assert s.interest == lines["H1"].interest + lines["H2"].interest


def test_a_long_statement_comes_in_pages_with_totals_over_all_of_them(
    app, client, login_as, monkeypatch
):
    with app.app_context():
        builder = LedgerBuilder()
        acme = builder.counterparty("PAGED")
        for n in range(5):
            builder.item(acme, f"{100 + n}.00", D(2025, 1, 1 + n), D(2025, 2, 1 + n), f"P{n}")
        for n in range(3):
            builder.receipt(acme, "50.00", D(2025, 3, 1 + n), f"Q{n}")
        db.session.commit()
        acme_id = acme.id
    monkeypatch.setattr(statement, "PER_PAGE", 2)
    login_as("finance")
    page = client.get(f"/parties/counterparties/{acme_id}?as_of=2025-06-30&page=2&receipts_page=2")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-document="P2"' in html and 'data-document="P3"' in html
    assert 'data-document="P0"' not in html and 'data-document="P4"' not in html
    assert 'data-receipt="Q2"' in html and 'data-receipt="Q0"' not in html
    assert 'data-testid="items-pager"' in html and 'data-testid="receipts-pager"' in html
    # The totals are over every item and receipt, not the page's.
    assert 'data-testid="total-amount">510.00' in html
    assert 'data-testid="total-received">150.00' in html
    # The pager keeps the other list's page and the date.
    assert "receipts_page=2" in html and "page=3" in html
