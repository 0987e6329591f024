"""The demo ledger (flask --app recovery demo load), and bench/generate.py at a tiny scale."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date

import sqlalchemy as sa
from stdnum.cn import uscc

from recovery import create_app
from recovery.audit.services import verify_chain
from recovery.auth.models import Department, User
from recovery.demo.ledger import CONSTRUCTION_TYPES, EXTRA_SALES_USERS, SALES_DEPARTMENTS
from recovery.extensions import db
from recovery.ledger import open_sums
from recovery.ledger import services as ledger
from recovery.ledger.models import Adjustment, Application, Item, OpenItemSums, Receipt
from recovery.parties.models import Contract, Counterparty
from tests.conftest import base_config, fresh_database_url, run_bench_generate

ANCHOR = "2026-06-30"
SCALE = "0.1"
DEALER_TYPES = {
    "goods",
    "parts",
    "freight",
    "warehouse_financing",
    "repurchase",
    "guarantee_deposit",
    "deposit",
    "other_receivable",
}


def load(runner, *extra):
    result = runner.invoke(args=["demo", "load", "--scale", SCALE, "--as-of", ANCHOR, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def stored_state():
    """Applications (as a multiset) and every item's derived columns."""
    apps = Counter(
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
    items = db.session.execute(
        sa.select(Item.id, Item.open_amount, Item.last_movement_on).order_by(Item.id)
    ).all()
    return apps, items


def _without_row_id(receipt_no: str) -> str:
    """A completed strategy's receipt is numbered after the strategy's id (INK-12), which a
    PostgreSQL test database wiped between loads does not restart: compare the prefix."""
    prefix, _, rest = receipt_no.partition("-")
    return prefix if prefix in ("INK", "OFS") and rest.isdigit() else receipt_no


def documents_digest() -> str:
    """A digest of every document, to compare two loads."""
    digest = hashlib.sha256()
    receipts = sorted(
        (_without_row_id(no), amount, received_on, method)
        for no, amount, received_on, method in db.session.execute(
            sa.select(Receipt.receipt_no, Receipt.amount, Receipt.received_on, Receipt.method)
        )
    )
    digest.update(repr(receipts).encode())
    for query in (
        sa.select(Counterparty.code, Counterparty.name, Counterparty.credit_code).order_by(
            Counterparty.code
        ),
        sa.select(
            Item.document_no, Item.amount, Item.recognized_on, Item.due_on, Item.open_amount
        ).order_by(Item.document_no),
        sa.select(Adjustment.number, Adjustment.amount, Adjustment.status).order_by(
            Adjustment.number
        ),
    ):
        for row in db.session.execute(query):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_demo_ledger_is_what_reallocate_would_store(app, runner):
    output = load(runner)
    assert "Demo ledger:" in output
    with app.app_context():
        before = stored_state()
        assert before[0] and before[1]
        for counterparty_id in db.session.scalars(sa.select(Counterparty.id)):
            ledger.reallocate(counterparty_id)
        assert stored_state() == before
        db.session.rollback()


def test_demo_ledger_looks_like_a_real_one(app, runner):
    load(runner)
    anchor = date.fromisoformat(ANCHOR)
    with app.app_context():
        parties = db.session.scalars(sa.select(Counterparty)).all()
        assert len(parties) >= 40
        assert all(uscc.is_valid(p.credit_code) for p in parties)
        assert {p.kind for p in parties} == {"dealer", "customer", "employer"}
        kinds = {p.id: p.kind for p in parties}
        items = db.session.scalars(sa.select(Item)).all()
        assert len(items) > 2000
        for item in items:
            assert item.recognized_on <= anchor and item.due_on >= item.recognized_on
            if kinds[item.counterparty_id] == "dealer":
                assert item.item_type in DEALER_TYPES
            if item.project_id is not None:
                assert item.item_type in CONSTRUCTION_TYPES | {"guarantee_deposit"}
        types = {i.item_type for i in items}
        assert {"goods", "parts", "progress", "settlement", "retention"} <= types
        names = dict(db.session.execute(sa.select(Department.id, Department.name)).all())
        assert {names[i.department_id] for i in items} == set(SALES_DEPARTMENTS)
        users = dict(db.session.execute(sa.select(User.id, User.username)).all())
        responsible = {users[i.responsible_id] for i in items}
        assert responsible == {"sales", *(u for u, _n, _d in EXTRA_SALES_USERS)}

        receipts = db.session.scalars(sa.select(Receipt)).all()
        assert max(r.received_on for r in receipts) <= anchor
        recognized = {i.id: i.recognized_on for i in items}
        earmarked = [r for r in receipts if r.item_id and r.received_on < recognized[r.item_id]]
        assert earmarked  # prepayments naming an item not yet delivered
        assert {r.method for r in receipts} >= {"transfer", "acceptance_bill", "offset"}
        paying = {r.counterparty_id for r in receipts}
        assert any(p.id not in paying for p in parties)  # some never pay
        open_items = [i for i in items if i.open_amount > 0]
        assert 0 < len(open_items) < len(items)
        assert any(0 < i.open_amount < i.amount for i in items)  # partly paid
        adjustments = db.session.scalars(sa.select(Adjustment)).all()
        assert any(a.status == "approved" and a.kind == "credit_note" for a in adjustments)
        assert any(a.status == "approved" and a.kind == "write_off" for a in adjustments)
        contracts = db.session.scalars(sa.select(Contract)).all()
        assert any(not c.reviewed for c in contracts)
        assert any(c.overdue_rate is not None for c in contracts)
        assert any(c.overdue_rate is None for c in contracts)

        # Bulk-written documents have their audit entries, in an intact chain (the recovery
        # work's reassignments and hand-over add update entries of their own).
        audited = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM audit_log WHERE table_name = 'items' AND action = 'insert'"
            )
        )
        assert audited == len(items)
        assert verify_chain(db.session.connection()).ok


def test_loading_twice_adds_nothing_and_if_empty_loads_an_empty_database(app, runner):
    first = load(runner, "--if-empty")
    assert "Demo ledger:" in first
    with app.app_context():
        digest = documents_digest()
        counts = [
            db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (Item, Receipt, Application, Adjustment, User)
        ]
    again = load(runner)
    assert "Demo ledger not loaded" in again
    assert "zhoujie" in again  # the extra sales logins are printed again
    with app.app_context():
        assert documents_digest() == digest
        assert [
            db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (Item, Receipt, Application, Adjustment, User)
        ] == counts


def test_the_same_day_gives_the_same_ledger(app, runner, migrated_database, tmp_path):
    load(runner)
    with app.app_context():
        digest = documents_digest()
        db.session.remove()
        db.engine.dispose()
    other_path = tmp_path / "other"
    other_path.mkdir()
    other = create_app(base_config(other_path, fresh_database_url(migrated_database, other_path)))
    load(other.test_cli_runner())
    with other.app_context():
        assert documents_digest() == digest
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# bench/generate.py at a tiny scale (the million-item run is not part of the suite)


def test_bench_generator_at_a_tiny_scale(migrated_database, tmp_path):
    url = fresh_database_url(migrated_database, tmp_path)
    run_bench_generate(
        url,
        tmp_path,
        "--counterparties",
        "30",
        "--projects",
        "8",
        "--items",
        "600",
        "--receipts",
        "480",
        "--seed",
        "7",
        timeout=300,
    )

    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        count = db.session.scalar
        assert count(sa.select(sa.func.count()).select_from(Item)) == 600
        assert count(sa.select(sa.func.count()).select_from(Receipt)) == 480
        assert count(sa.select(sa.func.count()).select_from(Counterparty)) == 30
        # The stored applications and open amounts are exactly what reallocate stores.
        before = stored_state()
        assert before[0]
        for counterparty_id in db.session.scalars(sa.select(Counterparty.id)):
            ledger.reallocate(counterparty_id)
        assert stored_state() == before
        # The open-item sums: summed once after the load (no rows of changes: the triggers
        # were off during it), and kept by the triggers again after it.
        assert open_sums.differences() == []
        sums_t = OpenItemSums.__table__
        assert count(sa.select(sa.func.count()).where(sums_t.c.compacted.is_(False))) == 0
        items_t = Item.__table__
        db.session.execute(
            sa.update(items_t).where(items_t.c.open_amount != 0).values(open_amount=1)
        )
        assert count(sa.select(sa.func.count()).where(sums_t.c.compacted.is_(False))) > 0
        assert open_sums.differences() == []
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
