"""expiring_count and earliest_warned_expiry take shortcuts (docs/limitation.md, "Speed"):
the items open as of a past date are read in two halves, plain items are counted in SQL
against one day (last_plain_start) with an anti-join per kind of interruption, and the
worklist keeps one date per counterparty. These tests put items on each edge of those
shortcuts and check the answers against the full rule applied to every open item
(expiry_rows without a window: no pre-bound, no shortcut) and against the ledger's own
outstanding amounts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.ledger import queries as ledger_queries
from recovery.ledger import services as ledger
from recovery.limitation import queries, rules, services
from tests.limitation.conftest import L

AS_OF = date(2025, 6, 30)
WITHIN = 180
DAY = timedelta(days=1)


def reference_rows(as_of, within, department_id=None):
    """Every open item by the full rule, then the window."""
    return [
        row
        for row in services.expiry_rows(as_of)
        if row.running
        and row.days_left <= within
        and (department_id is None or row.department_id == department_id)
    ]


def reference_earliest(as_of, within):
    found = {}
    for row in reference_rows(as_of, within):
        known = found.get(row.counterparty_id)
        found[row.counterparty_id] = row.expires_on if known is None else min(known, row.expires_on)
    return found


def ledger_open(as_of):
    """{item id: outstanding fen} by the ledger's own query."""
    b = ledger_queries.outstanding_items(as_of)
    rows = db.session.execute(sa.select(b.c.id, b.c.outstanding_fen).where(b.c.outstanding_fen > 0))
    return {item_id: int(fen) for item_id, fen in rows}


def test_last_plain_start_is_the_last_day_that_ends_in_time():
    """Around month ends, 29 February, weekends and the Spring Festival."""
    for as_of in (date(2024, 2, 29), date(2025, 6, 30), date(2026, 1, 20), date(2026, 10, 31)):
        for within in (0, 1, 30, 90, 180, 365):
            day = queries.last_plain_start(as_of, within)
            limit = as_of + timedelta(days=within)
            assert rules.expiry(day, as_of).expires_on <= limit, (as_of, within)
            for later in range(1, 40):
                assert rules.expiry(day + later * DAY, as_of).expires_on > limit, (as_of, within)


@pytest.fixture
def scene(lim):
    """Items on each edge of the shortcuts, as of AS_OF with a window of WITHIN days (T is the
    last day a plain period may run from and end in time)."""
    t = queries.last_plain_start(AS_OF, WITHIN)
    sales = lim.user("sales1")
    finance = lim.user("fin1", "finance")
    proposer = lim.user("fin2", "finance")
    company = auth.create_department("总公司", "company", None)
    parent = auth.create_department("营销部", "department", company)
    branch = auth.create_department("营销一部", "department", parent)
    elsewhere = auth.create_department("工程部", "department", company)
    due = t - 30 * DAY

    def item(cp, doc, due_on=due, **values):
        return lim.item(cp, 1000, due_on - 60 * DAY, due_on, document_no=doc, **values)

    plain = lim.counterparty("PLAIN")
    item(plain, "DUE-T", t, department_id=branch.id)
    item(plain, "DUE-T+1", t + DAY, department_id=branch.id)
    item(plain, "DUE-EARLY", date(2021, 1, 4), department_id=elsewhere.id)  # long expired

    paid = lim.counterparty("PAID")
    on_t = item(paid, "PART-PAID-ON-T")
    lim.receipt(paid, 100, t, item=on_t)
    after_t = item(paid, "PART-PAID-T+1")
    lim.receipt(paid, 100, t + DAY, item=after_t)
    settled_later = item(paid, "SETTLED-AFTER-AS-OF")
    lim.receipt(paid, 1000, AS_OF + 20 * DAY, item=settled_later)  # not known as of AS_OF
    moved_twice = item(paid, "PAID-T+5-SETTLED-LATER")
    lim.receipt(paid, 100, t + 5 * DAY, item=moved_twice)
    lim.receipt(paid, 900, AS_OF + 20 * DAY, item=moved_twice)
    closed = item(paid, "CLOSED-BEFORE-AS-OF")
    lim.receipt(paid, 1000, AS_OF - 5 * DAY, item=closed)
    credited = item(paid, "CREDITED-T+10")  # a credit note does not interrupt
    note = ledger.propose_adjustment(
        credited,
        kind="credit_note",
        amount=Decimal("100"),
        dated_on=t + 10 * DAY,
        reason="price",
        number="CN-1",
        actor=proposer,
    )
    ledger.decide_adjustment(note, approve=True, actor=finance)

    # Counterparty level: activities and promises restart every item of the counterparty.
    on_the_day = lim.counterparty("LETTER-ON-T")
    item(on_the_day, "LETTER-ON-T-1")
    item(on_the_day, "LETTER-ON-T-2")
    lim.activity(
        on_the_day,
        sales,
        L(t.year, t.month, t.day, 23, 30),
        kind="letter",
        interrupts_limitation=True,
        proof_of_arrival="EMS signed",
    )
    next_day = lim.counterparty("LETTER-T+1")
    item(next_day, "LETTER-T+1-1")
    item(next_day, "LETTER-T+1-2")
    n = t + DAY
    lim.activity(
        next_day,
        sales,
        L(n.year, n.month, n.day, 0, 30),
        kind="letter",
        interrupts_limitation=True,
        proof_of_arrival="EMS signed",
    )
    unproven = lim.counterparty("UNPROVEN")
    item(unproven, "UNPROVEN-DEMAND")
    lim.activity(
        unproven, sales, L(n.year, n.month, n.day, 10), kind="demand", interrupts_limitation=True
    )
    visited = lim.counterparty("VISIT")
    item(visited, "VISIT-ACK")
    lim.activity(visited, sales, L(2024, 3, 4, 10), kind="visit", interrupts_limitation=True)
    promised = lim.counterparty("PROMISED")
    item(promised, "PROMISED-T+1")
    lim.promise(promised, sales, 10, t + DAY, AS_OF)
    cancelled = lim.counterparty("CANCELLED")
    item(cancelled, "PROMISE-CANCELLED")
    lim.promise(cancelled, sales, 10, t + DAY, AS_OF, cancelled=True, cancel_reason="typo")

    # Item level: events recorded by hand restart that item only.
    recorded = lim.counterparty("RECORDED")
    acknowledged = item(recorded, "ACK-T+1")
    item(recorded, "ACK-SIBLING")
    lim.event(acknowledged, "acknowledgement", t + DAY, sales)
    withdrawn = item(recorded, "ACK-WITHDRAWN")
    lim.event(withdrawn, "acknowledgement", t + DAY, sales, withdrawn=True, withdraw_reason="x")
    suspended = item(recorded, "SUSPENDED")
    lim.event(suspended, "suspension", AS_OF - 30 * DAY, sales)

    # Installments of one debt run from the last installment's due date.
    debtor = lim.counterparty("INSTALL")
    contract = lim.contract(debtor, installments=True)
    item(debtor, "INST-1", t - 90 * DAY, contract_id=contract.id)
    item(debtor, "INST-2", t - DAY, contract_id=contract.id)
    other = lim.contract(debtor, installments=True)
    item(debtor, "INST-3", t - 90 * DAY, contract_id=other.id)
    item(debtor, "INST-4", t + 40 * DAY, contract_id=other.id)

    # A suit: its proceedings stop the period; the item taken out of the claim is plain.
    from tests.limitation.test_expiry_rows import _sue

    sued_cp = lim.counterparty("SUED")
    sued = item(sued_cp, "SUED")
    _sue(lim, sued_cp, [sued], t - 10 * DAY)
    # Suits at each stage the count reads in SQL (_claimed_items_running): a judgment in
    # force runs the two years; enforcement applied for stops them; proceedings ended without
    # a judgment run the three years again; a later suit pending stops an earlier judgment's.
    in_force = date(2023, 8, 1)
    judged = lim.counterparty("SUED-JUDGED")
    _sue(
        lim,
        judged,
        [item(judged, "SUED-JUDGED")],
        date(2023, 1, 10),
        judgment_effective_on=in_force,
    )
    enforcing = lim.counterparty("SUED-ENFORCING")
    _sue(
        lim,
        enforcing,
        [item(enforcing, "SUED-ENFORCING")],
        date(2023, 1, 11),
        judgment_effective_on=in_force,
        enforcement_on=date(2023, 10, 9),
    )
    ended = lim.counterparty("SUED-CLOSED")
    _sue(lim, ended, [item(ended, "SUED-CLOSED")], date(2022, 6, 1), closed_on=date(2022, 8, 1))
    twice = lim.counterparty("SUED-TWICE")
    twice_item = item(twice, "SUED-TWICE")
    first = _sue(lim, twice, [twice_item], date(2023, 1, 12), judgment_effective_on=in_force)
    first.case.status, first.case.outcome = "closed", "written_off"  # a new case, a new suit
    db.session.flush()
    _sue(lim, twice, [twice_item], date(2024, 2, 1))
    return {"t": t, "branch": branch, "parent": parent}


def test_the_count_and_the_signs_agree_with_the_full_rule(lim, scene):
    within = {r.document_no for r in reference_rows(AS_OF, WITHIN)}
    assert within == {
        "DUE-T",
        "DUE-EARLY",
        "PART-PAID-ON-T",
        "SETTLED-AFTER-AS-OF",
        "CREDITED-T+10",
        "LETTER-ON-T-1",
        "LETTER-ON-T-2",
        "UNPROVEN-DEMAND",
        "PROMISE-CANCELLED",
        "ACK-SIBLING",
        "ACK-WITHDRAWN",
        "INST-1",
        "INST-2",
        "SUED-JUDGED",
        "SUED-CLOSED",
    }
    assert services.expiring_count(AS_OF, WITHIN) == len(within)
    for as_of in (AS_OF, AS_OF + 25 * DAY, date(2024, 12, 31), date(2026, 3, 2)):
        for days in (0, 30, 90, 179, 180, 181, 365, 1095):
            expected = len(reference_rows(as_of, days))
            assert services.expiring_count(as_of, days) == expected, (as_of, days)
            assert len(services.expiry_rows(as_of, within=days)) == expected, (as_of, days)
            parent = scene["parent"].id
            assert services.expiring_count(as_of, days, parent) == len(
                reference_rows(as_of, days, scene["branch"].id)
            ), (as_of, days)


def test_the_worklist_sign_is_the_earliest_expiry_by_the_full_rule(lim, scene):
    everyone = sa.select(queries.cp_t.c.id)
    for as_of in (AS_OF, AS_OF + 25 * DAY, date(2024, 12, 31)):
        for days in (30, 180, 365):
            expected = reference_earliest(as_of, days)
            found = queries.earliest_expiry_by_counterparty(as_of, days, everyone)
            assert found == expected, (as_of, days)
    assert services.earliest_warned_expiry(AS_OF, everyone) == reference_earliest(AS_OF, 180)


def test_items_open_as_of_a_past_date_are_the_ledgers(lim, scene):
    """Items settled, part-paid or credited after the date are open as of it, with the
    ledger's outstanding amount; items closed by then are not."""
    for as_of in (AS_OF, AS_OF + 25 * DAY, scene["t"] + 7 * DAY, date(2024, 12, 31)):
        rows = services.expiry_rows(as_of)
        assert {row.item_id: int(row.outstanding * 100) for row in rows} == ledger_open(as_of)
    documents = {row.document_no for row in services.expiry_rows(AS_OF)}
    assert {"SETTLED-AFTER-AS-OF", "PAID-T+5-SETTLED-LATER"} <= documents
    assert "CLOSED-BEFORE-AS-OF" not in documents
    later = {row.document_no for row in services.expiry_rows(AS_OF + 25 * DAY)}
    assert not {"SETTLED-AFTER-AS-OF", "PAID-T+5-SETTLED-LATER"} & later
