"""The events recorded by hand are read for the items asked about — and, for an installment,
for every installment of its debt — with the same result as reading them all."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from recovery.limitation import services
from recovery.limitation.queries import earliest_expiry_by_counterparty
from recovery.parties.models import Counterparty

AS_OF = date(2024, 1, 1)


def by_document(rows):
    return {row.document_no: row for row in rows}


def test_an_event_on_another_installment_counts_for_the_item_asked_about(lim):
    legal = lim.user("legal1", "legal")
    cp = lim.counterparty("ACME")
    contract = lim.contract(cp, "K-INST", installments=True)
    first = lim.item(
        cp, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="I1", contract_id=contract.id
    )
    second = lim.item(
        cp, 100, date(2021, 1, 4), date(2021, 6, 15), document_no="I2", contract_id=contract.id
    )
    lim.receipt(cp, 100, date(2021, 3, 15), item=first)  # the first installment is settled
    lim.event(first, "acknowledgement", date(2022, 9, 1), legal)
    # Another debtor's event, and an event on a plain item of the same debtor.
    plain = lim.item(cp, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="P1")
    lim.event(plain, "demand", date(2022, 10, 10), legal)
    other = lim.counterparty("OTHER")
    theirs = lim.item(other, 100, date(2021, 1, 4), date(2021, 3, 15), document_no="O1")
    lim.event(theirs, "demand", date(2022, 11, 1), legal)

    every = by_document(services.expiry_rows(AS_OF))
    assert every["I2"].last_interruption_on == date(2022, 9, 1)
    assert every["I2"].expires_on == date(2025, 9, 1)
    (asked,) = services.expiry_rows(AS_OF, item_ids=[second.id])
    assert asked.expires_on == every["I2"].expires_on
    assert asked.last_interruption_on == every["I2"].last_interruption_on
    (asked,) = services.expiry_rows(AS_OF, item_ids=[plain.id])
    assert asked.expires_on == every["P1"].expires_on == date(2025, 10, 10)
    assert services.expiry_rows(AS_OF, item_ids=[first.id]) == []  # settled: not open

    # The worklist's path: the counterparties given as a SELECT, the few items that need the
    # full rule named by the limitation module.
    accounts = sa.select(Counterparty.id).where(Counterparty.code == "ACME").subquery()
    found = earliest_expiry_by_counterparty(AS_OF, 36500, sa.select(accounts.c.id))
    assert found == {cp.id: date(2025, 9, 1)}
    found = earliest_expiry_by_counterparty(AS_OF, 36500, [cp.id, other.id])
    assert found[cp.id] == date(2025, 9, 1)
    assert found[other.id] == every["O1"].expires_on == date(2025, 11, 3)  # 1 Nov: Saturday


def test_a_suspension_is_read_for_the_suspended_item_only(lim):
    legal = lim.user("legal1", "legal")
    cp = lim.counterparty("ACME")
    suspended = lim.item(cp, 1000, date(2021, 1, 4), date(2021, 6, 30), document_no="X")
    lim.item(cp, 1000, date(2021, 1, 4), date(2021, 6, 30), document_no="Y")
    lim.event(suspended, "suspension", date(2024, 3, 1), legal, ended_on=date(2024, 4, 15))
    as_of = date(2024, 5, 1)
    every = by_document(services.expiry_rows(as_of))
    assert every["X"].expires_on == date(2024, 10, 15)
    assert every["Y"].expires_on == date(2024, 7, 1)  # 30 June 2024: a Sunday
    (asked,) = services.expiry_rows(as_of, item_ids=[suspended.id])
    assert asked.expires_on == every["X"].expires_on
    assert earliest_expiry_by_counterparty(as_of, 36500, [cp.id]) == {cp.id: date(2024, 7, 1)}
