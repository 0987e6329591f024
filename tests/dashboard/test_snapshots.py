"""Month-end snapshots = live computation, after every kind of ledger write (issue 6 point 7).

The snapshot rows are kept in step by the session listener of recovery/dashboard/snapshots.py:
each test writes through the real ledger services, commits, and compares every stored
month-end of every department with the figures computed from the documents.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.core.money import to_fen
from recovery.dashboard import kpis, queries, rules, snapshots
from recovery.dashboard.models import MonthSnapshot
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.ledger.models import Item, Receipt
from recovery.parties import services as parties
from tests.dashboard.example import MARCH, build_example, departments

D = date
FIRST, LAST = D(2025, 12, 1), D(2026, 6, 30)
MONTHS = rules.month_ends_between(FIRST, LAST)


def stored() -> dict:
    """{(month_end, department_id): {figure: fen}} of the snapshot rows (zero rows left out)."""
    rows = {}
    for row in db.session.scalars(sa.select(MonthSnapshot)):
        values = {name: to_fen(getattr(row, name)) for name in snapshots.FIGURES}
        if any(values.values()):
            rows[(row.month_end, row.department_id)] = values
    return rows


def live(month_ends=MONTHS) -> dict:
    return {
        (month_end, dept): values
        for month_end in month_ends
        for dept, values in snapshots.live_month(month_end).items()
    }


def assert_in_step():
    db.session.expire_all()
    assert stored() == live()


def start_empty():
    """Snapshots for December 2025 .. June 2026 on an empty ledger (rows of zeros)."""
    assert snapshots.rebuild(LAST, since=FIRST) == len(MONTHS)
    db.session.commit()
    assert snapshots.stored_month_ends() == MONTHS


def test_a_rebuild_equals_the_live_figures(build):
    build_example(build)
    snapshots.rebuild(LAST, since=FIRST)
    db.session.commit()
    assert stored() == live()
    assert stored()  # not vacuous
    # And the figures read through month_figures are the same as computed live.
    for scope in (
        queries.COMPANY,
        queries.scope_for(departments()[1].id),
    ):
        from_snapshot = snapshots.month_figures(MONTHS, scope)
        db.session.execute(sa.delete(MonthSnapshot))
        computed = snapshots.month_figures(MONTHS, scope)
        db.session.rollback()
        for month_end in MONTHS:
            assert from_snapshot[month_end].stored and not computed[month_end].stored
            for name in snapshots.FIGURES:
                assert getattr(from_snapshot[month_end], name) == getattr(
                    computed[month_end], name
                ), (month_end, name)


def test_every_kind_of_ledger_write_keeps_the_snapshots_in_step(build, make_user):
    start_empty()
    _company, one, two = departments()
    db.session.commit()
    a = build.counterparty("A", department_id=one.id)
    b = build.counterparty("B", department_id=two.id)
    db.session.commit()
    assert_in_step()

    a1 = build.item(a, "600.00", D(2026, 1, 15), D(2026, 2, 14))
    db.session.commit()
    assert_in_step()
    assert stored()[(D(2026, 3, 31), one.id)]["overdue"] == 60000

    # A receipt that pays the oldest item, then a back-dated item in a closed month.
    build.receipt(a, "250.00", D(2026, 3, 10))
    db.session.commit()
    assert_in_step()
    a0 = build.item(a, "100.00", D(2025, 12, 20), D(2026, 1, 5))
    db.session.commit()
    assert_in_step()

    # Money earmarked for an item recognised later, and a receipt naming an item.
    future = build.item(b, "80.00", D(2026, 4, 2), D(2026, 5, 2))
    build.receipt(b, "30.00", D(2026, 3, 20), item=future)
    build.receipt(b, "20.00", D(2026, 5, 20), item=future)
    db.session.commit()
    assert_in_step()

    # Corrections: another department, another due date, another amount.
    ledger.update_item(a1, department_id=two.id)
    db.session.commit()
    assert_in_step()
    ledger.update_item(a0, due_on=D(2026, 3, 5), amount=Decimal("140.00"))
    db.session.commit()
    assert_in_step()

    # A receipt moved to another counterparty (both replayed).
    receipt = db.session.scalar(sa.select(Receipt).where(Receipt.amount == Decimal("250.00")))
    ledger.update_receipt(receipt, counterparty_id=b.id)
    db.session.commit()
    assert_in_step()

    # A credit note and a write-off, approved by another finance user.
    proposer = make_user("proposer", "finance")
    approver = make_user("approver", "finance")
    proposer, approver = db.session.merge(proposer), db.session.merge(approver)
    a1 = db.session.get(Item, a1.id)
    note = ledger.propose_adjustment(
        a1,
        kind="credit_note",
        amount=Decimal("50.00"),
        dated_on=D(2026, 2, 20),
        reason="price",
        number="CN1",
        actor=proposer,
    )
    db.session.commit()
    assert_in_step()  # proposed: changes nothing
    ledger.decide_adjustment(note, approve=True, actor=approver)
    db.session.commit()
    assert_in_step()
    off = ledger.propose_adjustment(
        a1,
        kind="write_off",
        amount=Decimal("10.00"),
        dated_on=D(2026, 4, 30),
        reason="bad",
        number="WO1",
        actor=proposer,
    )
    ledger.decide_adjustment(off, approve=True, actor=approver)
    db.session.commit()
    assert_in_step()

    # A counterparty moved to another department: its receipts count there from now on.
    parties.save_counterparty(db.session.get(type(b), b.id), department_id=one.id)
    db.session.commit()
    assert_in_step()

    # A new counterparty and its item in one transaction.
    c = build.counterparty("C", department_id=one.id)
    build.item(c, "70.00", D(2026, 2, 3), D(2026, 2, 28))
    db.session.commit()
    assert_in_step()

    # And what was kept in step is what a rebuild gives.
    kept = stored()
    snapshots.rebuild(LAST, since=FIRST)
    db.session.commit()
    assert stored() == kept


def test_a_rolled_back_write_changes_nothing(build):
    start_empty()
    a = build.counterparty("A")
    build.item(a, "100.00", D(2026, 1, 15), D(2026, 2, 14))
    db.session.commit()
    before = stored()
    build.receipt(a, "40.00", D(2026, 2, 1))
    db.session.rollback()
    assert stored() == before
    assert_in_step()


def test_random_ledgers_stay_in_step(build):
    start_empty()
    _company, one, two = departments()
    db.session.commit()
    chooser = random.Random(20261129)
    parties = [
        build.counterparty(f"R{n}", department_id=chooser.choice([one.id, two.id, None]))
        for n in range(4)
    ]
    db.session.commit()
    items = []
    for step in range(40):
        party = chooser.choice(parties)
        day = D(2025, 11, 1).toordinal() + chooser.randrange(0, 260)
        day = D.fromordinal(day)
        action = chooser.random()
        if action < 0.45 or not items:
            items.append(
                build.item(
                    party,
                    f"{chooser.randrange(1, 500)}.{chooser.randrange(0, 100):02d}",
                    day,
                    D.fromordinal(day.toordinal() + chooser.choice([0, 10, 30, 60])),
                    department_id=chooser.choice([one.id, two.id, None]),
                )
            )
        elif action < 0.85:
            named = chooser.choice(items + [None])
            if named is not None:
                party = db.session.get(type(party), named.counterparty_id)
            build.receipt(party, f"{chooser.randrange(1, 300)}.00", day, item=named)
        else:
            item = db.session.get(Item, chooser.choice(items).id)
            ledger.update_item(
                item,
                department_id=chooser.choice([one.id, two.id, None]),
                due_on=max(item.recognized_on, D.fromordinal(item.due_on.toordinal() - 7)),
            )
        if step % 3 == 2:
            db.session.commit()
            assert_in_step()
    db.session.commit()
    assert_in_step()


def test_bulk_writes_announce_the_counterparties_they_change(build):
    start_empty()
    a = build.counterparty("A")
    db.session.commit()
    # A bulk path writes without the ORM; it says which counterparties it changes first.
    snapshots.will_change([a.id])
    db.session.execute(
        sa.insert(Item.__table__).values(
            document_no="BULK1",
            counterparty_id=a.id,
            item_type="goods",
            category="accounts_receivable",
            amount=Decimal("90.00"),
            open_amount=Decimal("90.00"),
            recognized_on=D(2026, 2, 10),
            due_on=D(2026, 3, 10),
        )
    )
    ledger.reallocate(a.id)
    db.session.commit()
    assert_in_step()
    assert stored()[(D(2026, 3, 31), None)]["overdue"] == 9000


def test_a_silent_bulk_write_is_repaired_from_its_earliest_date(build):
    start_empty()
    a = build.counterparty("A")
    build.item(a, "100.00", D(2026, 1, 10), D(2026, 2, 9))
    db.session.commit()
    db.session.execute(
        sa.insert(Receipt.__table__).values(
            receipt_no="BULK-R", counterparty_id=a.id, amount=Decimal("40.00"),
            received_on=D(2026, 3, 5), method="transfer",
        )
    )  # fmt: skip
    ledger.reallocate(a.id)
    db.session.commit()
    assert stored() != live()  # nobody told the snapshots
    assert snapshots.recompute_since(D(2026, 3, 5)) == 4  # March .. June
    db.session.commit()
    assert_in_step()


def test_the_kpis_are_the_same_with_and_without_snapshots(build):
    build_example(build)
    without = kpis.compute(MARCH[1], date_from=MARCH[0])
    trend_without = kpis.dashboard(MARCH[1], date_from=MARCH[0]).trend
    snapshots.rebuild(LAST, since=FIRST)
    db.session.commit()
    assert kpis.compute(MARCH[1], date_from=MARCH[0]) == without
    board = kpis.dashboard(MARCH[1], date_from=MARCH[0])
    assert board.trend == trend_without
    assert board.snapshot_months == 3  # December .. February of the trend are stored
    # A period of whole stored months reads its sales from the snapshot.
    assert snapshots.flow_between("sales", D(2026, 1, 1), D(2026, 3, 31)) == Decimal("150000.00")
    assert snapshots.flow_between("sales", D(2026, 1, 20), D(2026, 3, 5)) == Decimal("60000.00")
    assert queries.sales_between(D(2026, 1, 20), D(2026, 3, 5)) == Decimal("60000.00")


def test_the_command_builds_the_missing_month_ends(runner, app):
    with app.app_context():
        _company, a, _two = departments()
        db.session.commit()
        from tests.ledger.conftest import LedgerBuilder

        builder = LedgerBuilder()
        party = builder.counterparty("A", department_id=a.id)
        builder.item(party, "100.00", D(2026, 1, 15), D(2026, 2, 14))
        db.session.commit()
    result = runner.invoke(args=["dashboard", "snapshots", "--until", "2026-03-15"])
    assert result.exit_code == 0, result.output
    assert "2 month-ends written, up to 2026-02-28" in result.output
    again = runner.invoke(args=["dashboard", "snapshots", "--until", "2026-04-30"])
    assert "2 month-ends written, up to 2026-04-30" in again.output
    with app.app_context():
        assert snapshots.stored_month_ends() == rules.month_ends_between(
            D(2026, 1, 1), D(2026, 4, 30)
        )
        assert stored() == live(snapshots.stored_month_ends())
    rebuilt = runner.invoke(args=["dashboard", "snapshots", "--rebuild", "--until", "2026-04-30"])
    assert "4 month-ends written" in rebuilt.output
