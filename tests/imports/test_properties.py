"""Properties (issue 3, point 9): export → import into an empty database gives identical
reports — with contracts' overdue terms (annual and per day) and credit notes / write-offs
(approved, rejected, pending) in the ledger; the order of the rows, and of the files, never
changes a report; the batched reallocation of an import stores exactly what the
per-counterparty one stores."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recovery.audit.context import acting_as, cli_actor
from recovery.core import spreadsheets
from recovery.extensions import db
from recovery.imports import exporter
from recovery.imports.allocation import reallocate_many
from recovery.imports.services import import_file
from recovery.ledger.models import Application, Item
from recovery.parties.models import Counterparty
from tests.conftest import login
from tests.imports import randomledger
from tests.imports.conftest import ITEM_HEADER, RECEIPT_HEADER, write_csv

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def people(app, make_user):
    randomledger.people(app, make_user)
    return app


def import_ok(kind, path):
    with acting_as(cli_actor()):
        result = import_file(kind, path)
        assert result.ok, [i.line() for i in result.issues[:5]]
        db.session.commit()
    return result


KINDS = ("items", "adjustments", "receipts")


def import_ledger(files) -> None:
    """Items, then the credit notes and write-offs (proposals, approved by another finance
    user), then the receipts — the order docs/import-export.md gives for rebuilding a
    ledger."""
    import_ok("items", files["items"])
    with acting_as(cli_actor()):
        result = import_file("adjustments", files["adjustments"])
    if [i.code for i in result.issues] != ["no_rows"]:  # a ledger without any: an empty file
        assert result.ok, [i.line() for i in result.issues[:5]]
        db.session.commit()
        assert randomledger.approve_all() == result.counts["adjustments"]["new"]
    import_ok("receipts", files["receipts"])


@pytest.mark.parametrize(("seed", "fmt"), [(1, "csv"), (2, "xlsx"), (3, "csv")])
def test_export_import_round_trip_through_the_web(people, client, make_user, tmp_path, seed, fmt):
    app = people
    with app.app_context():
        randomledger.build(seed, counterparties=6, items=40, receipts=30)
        before = randomledger.reports()
    make_user("fin", "finance")
    login(client, "fin")
    files = {}
    for kind in KINDS:
        response = client.get(f"/ledger/export/{kind}?format={fmt}")
        assert response.status_code == 200
        files[kind] = tmp_path / f"{kind}.{fmt}"
        files[kind].write_bytes(response.get_data())
    with app.app_context():
        randomledger.wipe()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0
        import_ledger(files)
        assert randomledger.reports() == before
        # The export of the imported ledger is the same file again.
        again = {
            kind: spreadsheets.write_table(*exporter.export_table(kind), "csv") for kind in KINDS
        }
    for kind in KINDS:
        assert again[kind] == client.get(f"/ledger/export/{kind}?format=csv").get_data()


@FAST
@given(seed=st.integers(0, 10**9), fmt=st.sampled_from(["csv", "xlsx"]))
def test_round_trip_property(people, tmp_path, seed, fmt):
    with people.app_context():
        randomledger.wipe()
        randomledger.build(seed, counterparties=3, items=10, receipts=8)
        before = randomledger.reports(randomledger.AS_OF[1:3])
        paths = {}
        for kind in KINDS:
            columns, rows = exporter.export_table(kind)
            paths[kind] = tmp_path / f"{kind}.{fmt}"
            paths[kind].write_bytes(spreadsheets.write_table(columns, list(rows), fmt))
        randomledger.wipe()
        import_ledger(paths)
        assert randomledger.reports(randomledger.AS_OF[1:3]) == before


@FAST
@given(seed=st.integers(0, 10**9), order=st.integers(0, 10**9), split=st.floats(0.2, 0.8))
def test_import_order_does_not_change_any_report(people, tmp_path, seed, order, split):
    item_rows, receipt_rows = randomledger.rows(seed, counterparties=3, items=12, receipts=9)
    with people.app_context():
        randomledger.wipe()
        import_ok("items", write_csv(tmp_path / "i.csv", ITEM_HEADER, item_rows))
        import_ok("receipts", write_csv(tmp_path / "r.csv", RECEIPT_HEADER, receipt_rows))
        expected = randomledger.reports(randomledger.AS_OF[1:])

        randomledger.wipe()
        rnd = random.Random(order)
        shuffled_items, shuffled_receipts = item_rows[:], receipt_rows[:]
        rnd.shuffle(shuffled_items)
        rnd.shuffle(shuffled_receipts)
        # Items in two files, the receipts of items already imported in between.
        cut = max(1, int(len(shuffled_items) * split))
        first, second = shuffled_items[:cut], shuffled_items[cut:]
        known = {r["document_no"] for r in first}
        early = [r for r in shuffled_receipts if r["document_no"] in known or not r["document_no"]]
        early = [
            r for r in early if r["counterparty_code"] in {i["counterparty_code"] for i in first}
        ]
        late = [r for r in shuffled_receipts if r not in early]
        import_ok("items", write_csv(tmp_path / "i1.csv", ITEM_HEADER, first))
        if early:
            import_ok("receipts", write_csv(tmp_path / "r1.csv", RECEIPT_HEADER, early))
        if second:
            import_ok("items", write_csv(tmp_path / "i2.csv", ITEM_HEADER, second))
        if late:
            import_ok("receipts", write_csv(tmp_path / "r2.csv", RECEIPT_HEADER, late))
        assert randomledger.reports(randomledger.AS_OF[1:]) == expected


def _stored_allocation():
    applications = sorted(
        db.session.execute(
            sa.select(
                Application.counterparty_id,
                Application.receipt_id,
                Application.item_id,
                Application.amount,
                Application.applied_on,
            )
        ).all()
    )
    balances = sorted(
        db.session.execute(sa.select(Item.id, Item.open_amount, Item.last_movement_on)).all()
    )
    return applications, balances


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_batched_reallocation_stores_what_reallocate_stores(people, make_user, seed):
    """Built through the ledger services (reallocate per document), then the stored allocation
    is thrown away and rebuilt by reallocate_many: the same rows come back."""
    from datetime import date
    from decimal import Decimal

    from recovery.ledger import services as ledger

    proposer = make_user("proposer", "finance")
    approver = make_user("approver", "finance")
    with people.app_context():
        randomledger.build(seed, counterparties=5, items=30, receipts=25)
        for item in db.session.scalars(sa.select(Item).order_by(Item.id).limit(4)):
            room = item.open_amount
            if room > Decimal("1.00"):
                adjustment = ledger.propose_adjustment(
                    item,
                    kind="credit_note",
                    amount=Decimal("1.00"),
                    dated_on=max(item.recognized_on, date(2024, 6, 1)),
                    reason="price",
                    number=f"CN{item.id}",
                    actor=proposer,
                )
                ledger.decide_adjustment(adjustment, approve=True, actor=approver)
        db.session.commit()
        expected = _stored_allocation()
        ids = list(db.session.scalars(sa.select(Counterparty.id)))
        assert reallocate_many(ids) == 0  # already right: nothing rewritten
        db.session.execute(sa.delete(Application))
        db.session.execute(sa.update(Item).values(open_amount=Item.amount, last_movement_on=None))
        db.session.commit()
        assert reallocate_many(ids) > 0
        db.session.commit()
        assert _stored_allocation() == expected


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_the_export_imported_into_its_own_ledger_changes_nothing(people, tmp_path, seed):
    """An item without a rate of its own is exported with its contract's (as the annual
    equivalent): read back into the same ledger, that rate stays with the contract."""
    with people.app_context():
        randomledger.build(seed, counterparties=5, items=30, receipts=20)
        own_rates = dict(db.session.execute(sa.select(Item.document_no, Item.overdue_rate)).all())
        assert None in own_rates.values()
        for kind in KINDS:
            path = tmp_path / f"{kind}.csv"
            path.write_bytes(spreadsheets.write_table(*exporter.export_table(kind), "csv"))
            with acting_as(cli_actor()):
                result = import_file(kind, path)
            if [i.code for i in result.issues] == ["no_rows"]:
                continue
            assert result.ok, [i.line() for i in result.issues[:5]]
            assert not result.changed, (kind, result.counts, result.changes[:3])
        db.session.rollback()
        assert dict(db.session.execute(sa.select(Item.document_no, Item.overdue_rate)).all()) == (
            own_rates
        )
