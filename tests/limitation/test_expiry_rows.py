"""expiry_rows on a real database: where each interruption comes from, installments,
suspensions, the window, and that the SQL pre-bound leaves nothing out."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from recovery.extensions import db
from recovery.limitation import services
from recovery.limitation.rules import add_years
from tests.limitation.conftest import AS_OF, L


def by_document(rows):
    return {row.document_no: row for row in rows}


def test_an_open_item_without_interruption_runs_from_its_due_date(lim):
    cp = lim.counterparty("ACME")
    lim.item(cp, 1000, date(2021, 9, 1), date(2021, 10, 3), document_no="NATIONAL")
    lim.item(cp, 500, date(2021, 1, 1), date(2021, 2, 12), document_no="SPRING")
    paid = lim.item(cp, 10, date(2021, 1, 1), date(2021, 1, 5), document_no="PAID")
    lim.receipt(cp, 10, date(2021, 1, 5), item=paid)  # paid on the due date: closed
    rows = by_document(services.expiry_rows(date(2024, 1, 1)))
    assert set(rows) == {"NATIONAL", "SPRING"}
    assert rows["NATIONAL"].expires_on == date(2024, 10, 8)
    assert rows["SPRING"].expires_on == date(2024, 2, 18)
    assert rows["SPRING"].days_left == 48
    assert rows["SPRING"].outstanding == Decimal("500.00")
    assert rows["SPRING"].last_interruption_kind is None
    # The note names the dates, in whatever language the catalog gives.
    assert rows["SPRING"].expiry.moved
    assert "2024-02-12" in rows["SPRING"].rule_note and "2024-02-18" in rows["SPRING"].rule_note


def test_a_partial_payment_after_the_due_date_interrupts_that_item_only(lim):
    cp = lim.counterparty("ACME")
    first = lim.item(cp, 1000, date(2021, 1, 4), date(2021, 3, 15), document_no="A1")
    lim.item(cp, 1000, date(2021, 1, 4), date(2021, 3, 15), document_no="A2")
    lim.receipt(cp, 100, date(2022, 6, 7), item=first)
    rows = by_document(services.expiry_rows(AS_OF))
    assert rows["A1"].last_interruption_on == date(2022, 6, 7)
    assert rows["A1"].last_interruption_kind == "payment"
    assert rows["A1"].expires_on == date(2025, 6, 9)  # 7 June 2025 is a Saturday
    assert rows["A1"].outstanding == Decimal("900.00")
    assert rows["A2"].last_interruption_on is None
    assert rows["A2"].expires_on == date(2024, 3, 15)
    # As of a date before the payment, it has not happened yet.
    before = by_document(services.expiry_rows(date(2022, 6, 6)))
    assert before["A1"].last_interruption_on is None


def test_activities_and_promises_interrupt_every_item_of_the_counterparty(lim):
    sales = lim.user("s1")
    cp = lim.counterparty("ACME")
    other = lim.counterparty("OTHER")
    lim.item(cp, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="A1")
    lim.item(cp, 100, date(2021, 1, 4), date(2021, 4, 15), document_no="A2")
    lim.item(other, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="B1")
    # A demand without proof of arrival does not interrupt, even if flagged.
    lim.activity(cp, sales, L(2023, 1, 9, 10), kind="demand", interrupts_limitation=True)
    rows = by_document(services.expiry_rows(AS_OF))
    assert rows["A1"].last_interruption_on is None
    # With proof, it does — from the Beijing date it happened (00:30 on the 10th).
    lim.activity(
        cp,
        sales,
        L(2023, 1, 10, 0, 30),
        kind="letter",
        interrupts_limitation=True,
        proof_of_arrival="EMS signed",
    )
    rows = by_document(services.expiry_rows(AS_OF))
    assert (rows["A1"].last_interruption_on, rows["A1"].last_interruption_kind) == (
        date(2023, 1, 10),
        "demand",
    )
    assert rows["A2"].last_interruption_on == date(2023, 1, 10)
    assert rows["B1"].last_interruption_on is None
    # A call in which the debtor acknowledged the debt, later.
    lim.activity(cp, sales, L(2023, 5, 4, 9), kind="call", interrupts_limitation=True)
    # A balance confirmation returned signed is an acknowledgement too.
    lim.activity(
        cp,
        sales,
        L(2023, 7, 3, 9),
        kind="confirmation",
        interrupts_limitation=True,
        proof_of_arrival="returned signed",
    )
    rows = by_document(services.expiry_rows(AS_OF))
    assert (rows["A1"].last_interruption_on, rows["A1"].last_interruption_kind) == (
        date(2023, 7, 3),
        "acknowledgement",
    )
    # A promise, then a withdrawn (cancelled) later one that does not count.
    lim.promise(cp, sales, 50, date(2023, 9, 4), date(2023, 10, 1))
    lim.promise(cp, sales, 50, date(2024, 2, 1), date(2024, 3, 1), cancelled=True)
    rows = by_document(services.expiry_rows(AS_OF))
    assert (rows["A1"].last_interruption_on, rows["A1"].last_interruption_kind) == (
        date(2023, 9, 4),
        "promise",
    )
    assert rows["A1"].expires_on == date(2026, 9, 4)


def test_several_interruptions_the_latest_wins(lim):
    user = lim.user("legal1", "legal")
    cp = lim.counterparty("ACME")
    item = lim.item(cp, 1000, date(2020, 1, 2), date(2020, 1, 10), document_no="X")
    lim.receipt(cp, 100, date(2021, 5, 6), item=item)
    lim.event(item, "acknowledgement", date(2022, 3, 1), user)
    lim.event(item, "demand", date(2022, 8, 1), user)
    lim.event(item, "suit", date(2023, 1, 1), user, withdrawn=True, withdraw_reason="mistake")
    (row,) = services.expiry_rows(AS_OF)
    assert (row.last_interruption_on, row.last_interruption_kind) == (date(2022, 8, 1), "demand")
    assert row.expires_on == date(2025, 8, 1)


def test_installments_of_one_debt_share_the_last_installments_expiry(lim):
    cp = lim.counterparty("ACME")
    contract = lim.contract(cp, "K-INST", installments=True)
    separate = lim.contract(cp, "K-SEP")
    first = lim.item(
        cp, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="I1", contract_id=contract.id
    )
    lim.item(
        cp, 100, date(2021, 1, 4), date(2021, 6, 15), document_no="I2", contract_id=contract.id
    )
    lim.item(
        cp, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="S1", contract_id=separate.id
    )
    lim.item(
        cp, 100, date(2021, 1, 4), date(2021, 6, 15), document_no="S2", contract_id=separate.id
    )
    rows = by_document(services.expiry_rows(date(2024, 1, 1)))
    assert rows["I1"].expires_on == rows["I2"].expires_on == date(2024, 6, 17)  # 15th: Saturday
    assert rows["I1"].installments and "K-INST" in rows["I1"].rule_note
    assert rows["S1"].expires_on == date(2024, 3, 15)
    assert rows["S2"].expires_on == date(2024, 6, 17)
    # A payment of one installment after the last due date interrupts the whole debt.
    lim.receipt(cp, 50, date(2022, 2, 8), item=first)
    rows = by_document(services.expiry_rows(date(2024, 1, 1)))
    assert rows["I2"].last_interruption_on == date(2022, 2, 8)
    # Saturday 8 February 2025 was a make-up working day (Spring Festival): it stays.
    assert rows["I1"].expires_on == rows["I2"].expires_on == date(2025, 2, 8)


def test_a_suspension_recorded_on_the_item(lim):
    user = lim.user("legal1", "legal")
    cp = lim.counterparty("ACME")
    item = lim.item(cp, 1000, date(2021, 1, 4), date(2021, 6, 30), document_no="X")
    lim.event(item, "suspension", date(2024, 3, 1), user, ended_on=date(2024, 4, 15))
    (row,) = services.expiry_rows(date(2024, 5, 1))
    assert row.expires_on == date(2024, 10, 15)
    assert row.expiry.suspension is not None
    assert "2024-03-01" in row.rule_note and "2024-04-15" in row.rule_note


def test_the_window_includes_expired_items_and_nothing_is_lost_by_the_pre_bound(lim):
    user = lim.user("s1")
    cp = lim.counterparty("ACME")
    # Items due every 11 days over six years, some interrupted by payments or promises: the
    # windowed query must return exactly the rows of the full one that fall in the window.
    start = date(2019, 1, 3)
    for n in range(200):
        due = start + timedelta(days=11 * n)
        item = lim.item(cp, 100, due - timedelta(days=30), due, document_no=f"D{n:03d}")
        if n % 3 == 0:
            lim.receipt(cp, 1, due + timedelta(days=400 + n), item=item)
    lim.promise(cp, user, 5, date(2022, 4, 2), date(2022, 5, 1))
    full = services.expiry_rows(AS_OF)
    for within in (0, 30, 90, 180, 365):
        windowed = services.expiry_rows(AS_OF, within=within)
        expected = [row.document_no for row in full if row.days_left <= within]
        assert [row.document_no for row in windowed] == expected
        assert any(row.days_left < 0 for row in windowed)
    # Sorted by expiry date, then document number.
    keys = [(row.expires_on, row.document_no) for row in full]
    assert keys == sorted(keys)
    assert add_years(date(2022, 4, 2), 3) == date(2025, 4, 2)


def test_scopes(lim):
    cp = lim.counterparty("ACME")
    other = lim.counterparty("OTHER")
    a = lim.item(cp, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="A")
    lim.item(other, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="B")
    assert [r.document_no for r in services.expiry_rows(AS_OF, item_ids=[a.id])] == ["A"]
    assert [r.document_no for r in services.expiry_rows(AS_OF, counterparty_ids=[other.id])] == [
        "B"
    ]
    assert services.expiring_count(AS_OF, 30) == 2
    assert services.expiring_count(AS_OF, 30, department_id=999) == 0


def test_a_suit_filed_interrupts_the_items_claimed_in_its_referral(lim):
    from recovery.legal.models import Lawsuit, Referral, ReferralItem
    from recovery.limitation.queries import item_history

    legal = lim.user("legal1", "legal")
    cp = lim.counterparty("ACME")
    sued = lim.item(cp, 1000, date(2021, 1, 4), date(2021, 3, 15), document_no="SUED")
    dropped = lim.item(cp, 1000, date(2021, 1, 4), date(2021, 3, 15), document_no="DROPPED")
    lim.item(cp, 1000, date(2021, 1, 4), date(2021, 3, 15), document_no="OTHER")
    case = lim.case(cp, opened_at=L(2023, 9, 1, 9))
    referral = Referral(
        number="LR-1",
        case_id=case.id,
        counterparty_id=cp.id,
        claim_type="sale_of_goods",
        status="accepted",
        claim_as_of=date(2023, 9, 1),
        created_by_id=legal.id,
    )
    db.session.add(referral)
    db.session.flush()
    for item, claimed in ((sued, True), (dropped, False)):
        db.session.add(
            ReferralItem(
                referral_id=referral.id,
                item_id=item.id,
                principal=Decimal("1000.00"),
                interest=Decimal("0.00"),
                claimed=claimed,
            )
        )
    lawsuit = Lawsuit(
        referral_id=referral.id,
        case_id=case.id,
        counterparty_id=cp.id,
        court="上海市浦东新区人民法院",
        case_number="(2023)沪0115民初1号",
        filed_on=date(2023, 10, 9),
        claimed_principal=Decimal("1000.00"),
        claimed_interest=Decimal("0.00"),
        created_by_id=legal.id,
    )
    db.session.add(lawsuit)
    db.session.flush()
    rows = by_document(services.expiry_rows(AS_OF))
    assert (rows["SUED"].last_interruption_on, rows["SUED"].last_interruption_kind) == (
        date(2023, 10, 9),
        "suit",
    )
    assert rows["SUED"].suit_filed_on == date(2023, 10, 9)
    # While the proceedings run, no period runs: the item is in no window and no count.
    assert rows["SUED"].expires_on is None and rows["SUED"].days_left is None
    assert rows["SUED"].expiry.period == "suit_pending"
    assert "SUED" not in {r.document_no for r in services.expiry_rows(AS_OF, within=100000)}
    assert services.expiring_count(AS_OF, 100000) == 2  # DROPPED and OTHER
    # The judgment took effect; the performance period ended on Sunday 15 March 2024: two
    # years to apply for enforcement, to Sunday 15 March 2026 → Monday 16 March (art. 203).
    lawsuit.judgment_effective_on = date(2024, 3, 1)
    lawsuit.performance_deadline = date(2024, 3, 15)
    db.session.flush()
    row = by_document(services.expiry_rows(AS_OF))["SUED"]
    assert row.expiry.period == "enforcement"
    assert (row.expires_on, row.days_left) == (date(2026, 3, 16), 259)
    assert (row.last_interruption_on, row.last_interruption_kind) == (date(2023, 10, 9), "suit")
    assert [r.document_no for r in services.expiry_rows(AS_OF, within=259)].count("SUED") == 1
    assert "SUED" not in {r.document_no for r in services.expiry_rows(AS_OF, within=258)}
    # A part payment after the deadline restarts the two years (art. 250: interruption as for
    # the limitation); one during the proceedings changes nothing.
    lim.receipt(cp, 1, date(2023, 12, 1), item=sued)
    lim.receipt(cp, 1, date(2024, 6, 3), item=sued)
    row = by_document(services.expiry_rows(AS_OF))["SUED"]
    assert (row.expires_on, row.last_interruption_kind) == (date(2026, 6, 3), "payment")
    # Enforcement applied for: no period runs any more.
    lawsuit.enforcement_on = date(2025, 1, 10)
    db.session.flush()
    row = by_document(services.expiry_rows(AS_OF))["SUED"]
    assert (row.expires_on, row.expiry.period) == (None, "enforcing")
    # Known only as of the dates: as of 2024-12-31 the enforcement was not applied for yet,
    # as of 2024-02-01 the judgment had not taken effect.
    assert by_document(services.expiry_rows(date(2024, 12, 31)))["SUED"].expiry.period == (
        "enforcement"
    )
    assert by_document(services.expiry_rows(date(2024, 2, 1)))["SUED"].expiry.period == (
        "suit_pending"
    )
    assert rows["DROPPED"].last_interruption_on is None
    assert rows["OTHER"].last_interruption_on is None
    history = item_history(sued, AS_OF)
    assert [s.case_number for s in history.lawsuits] == ["(2023)沪0115民初1号"]
    assert item_history(dropped, AS_OF).lawsuits == []


def _sue(lim, cp, items, filed_on, case=None, **steps):
    """A suit filed on the day claiming the items (on ``case``, or a case opened for it)."""
    from recovery.legal.models import Lawsuit, Referral, ReferralItem

    legal = lim.user(f"legal{filed_on:%y%m%d}", "legal")
    case = case or lim.case(cp, opened_at=L(filed_on.year, filed_on.month, 1, 9))
    referral = Referral(
        number=f"LR-{filed_on.isoformat()}",
        case_id=case.id,
        counterparty_id=cp.id,
        claim_type="sale_of_goods",
        status="accepted",
        claim_as_of=filed_on,
        created_by_id=legal.id,
    )
    db.session.add(referral)
    db.session.flush()
    for item in items:
        db.session.add(
            ReferralItem(
                referral_id=referral.id,
                item_id=item.id,
                principal=Decimal("1000.00"),
                interest=Decimal("0.00"),
            )
        )
    lawsuit = Lawsuit(
        referral_id=referral.id,
        case_id=case.id,
        counterparty_id=cp.id,
        court="上海市浦东新区人民法院",
        case_number=f"({filed_on.year})沪0115民初{filed_on:%m%d}号",
        filed_on=filed_on,
        claimed_principal=Decimal("1000.00"),
        claimed_interest=Decimal("0.00"),
        created_by_id=legal.id,
        **steps,
    )
    db.session.add(lawsuit)
    db.session.flush()
    return lawsuit


def test_proceedings_that_end_without_a_judgment_restart_the_three_years(lim):
    cp = lim.counterparty("ACME")
    item = lim.item(cp, 1000, date(2021, 1, 4), date(2021, 3, 15), document_no="W")
    _sue(
        lim,
        cp,
        [item],
        date(2023, 10, 9),
        stage="closed",
        outcome="withdrawn",
        closed_on=date(2024, 5, 20),
    )
    row = services.expiry_rows(AS_OF)[0]
    assert row.expiry.period == "limitation"
    assert (row.expires_on, row.last_interruption_kind) == (date(2027, 5, 20), "suit")
    assert row.expiry.runs_from == date(2024, 5, 20)
    assert "2024-05-20" in row.rule_note


def test_a_judgment_brings_a_sued_item_into_a_window_the_three_year_bound_would_miss(lim):
    """Due 2023-01-02, sued in June 2023, judgment effective 2023-09-01 with performance by
    Friday 2023-09-15: enforcement must be applied for by Monday 2025-09-15 — 77 days after
    2025-06-30, although three years from the filing would end only in 2026."""
    cp = lim.counterparty("ACME")
    item = lim.item(cp, 1000, date(2022, 12, 1), date(2023, 1, 2), document_no="J")
    lim.item(cp, 1000, date(2022, 12, 1), date(2023, 1, 2), document_no="PLAIN")
    _sue(
        lim,
        cp,
        [item],
        date(2023, 6, 1),
        stage="judgment",
        judgment_kind="judgment",
        judgment_on=date(2023, 8, 10),
        judgment_effective_on=date(2023, 9, 1),
        performance_deadline=date(2023, 9, 15),
    )
    assert [(r.document_no, r.days_left) for r in services.expiry_rows(AS_OF, within=90)] == [
        ("J", 77)
    ]
    assert services.expiring_count(AS_OF, 90) == 1
    assert services.expiring_count(AS_OF, 76) == 0
    full = {r.document_no: r.days_left for r in services.expiry_rows(AS_OF)}
    # 2 January 2026 is in the New Year holiday; Sunday 4 January was worked (art. 203).
    assert full == {"J": 77, "PLAIN": (date(2026, 1, 4) - AS_OF).days}


def test_the_count_equals_the_rows_around_the_art_203_band(lim):
    """expiring_count counts the plain items in SQL against one day (last_plain_start) and
    the others in Python: it must equal the rows' count for every window, holidays
    included."""
    cp = lim.counterparty("ACME")
    user = lim.user("sales9", "sales")
    start = date(2022, 5, 1)
    for n in range(0, 200, 3):
        due = start + timedelta(days=n)
        item = lim.item(cp, 100, due - timedelta(days=30), due, document_no=f"B{n:03d}")
        if n % 9 == 0:
            lim.receipt(cp, 1, due + timedelta(days=20), item=item)
    suspended = lim.item(cp, 100, date(2022, 5, 1), date(2022, 6, 1), document_no="S")
    lim.event(suspended, "suspension", date(2025, 3, 1), user, ended_on=date(2025, 4, 1))
    for within in (0, 30, 61, 90, 92, 95, 120, 180):
        rows = services.expiry_rows(AS_OF, within=within)
        assert services.expiring_count(AS_OF, within) == len(rows), within
