"""Receipts for one counterparty posted at the same moment lose no money (issue 7, point 4).

Allocation for one counterparty is serialised by a row lock on its counterparties row
(SELECT ... FOR UPDATE, recovery.ledger.services.lock_counterparty), taken at the start of
every write that allocates. On SQLite the database's single writer serialises already, so
these tests run on PostgreSQL only (``make test`` runs them there)."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.ledger import rules
from recovery.ledger import services as ledger
from recovery.ledger.models import Application, Item, Receipt
from recovery.parties import services as parties
from recovery.parties.models import Counterparty
from tests.conftest import POSTGRES_URL, login

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="PostgreSQL only: on SQLite the single writer serialises allocation already "
    "(run with RECOVERY_TEST_DATABASE_URL, e.g. .ci/with-postgres)",
)

THREADS = 20
DAY = date(2026, 3, 1)
ITEMS = [  # (document suffix, amount, recognised, due)
    ("01", "3000.00", date(2026, 1, 5), date(2026, 2, 5)),
    ("02", "2500.00", date(2026, 1, 10), date(2026, 2, 10)),
    ("03", "4000.00", date(2026, 1, 15), date(2026, 3, 15)),
    ("04", "1800.50", date(2026, 2, 1), date(2026, 3, 1)),
    ("05", "2200.00", date(2026, 3, 10), date(2026, 4, 10)),  # recognised after some receipts
]


def receipt_plan() -> list[dict]:
    """20 receipts: amounts and dates vary, three name an item, the total exceeds the items'
    (so some money must stay unapplied)."""
    plan = []
    for n in range(THREADS):
        plan.append(
            {
                "suffix": f"{n:02d}",
                "amount": Decimal("731.25") + n * Decimal("37.10"),
                "received_on": DAY + timedelta(days=n % 7),
                "item": {3: "03", 8: "05", 15: "01"}.get(n),
            }
        )
    return plan


def setup_counterparty(app, code: str) -> int:
    with app.app_context():
        cp = parties.save_counterparty(code=code, name=f"客户{code}", kind="customer")
        for suffix, amount, recognised, due in ITEMS:
            ledger.create_item(
                document_no=f"{code}-INV{suffix}",
                counterparty_id=cp.id,
                amount=Decimal(amount),
                recognized_on=recognised,
                due_on=due,
                item_type="goods",
            )
        db.session.commit()
        return cp.id


def item_id(code: str, suffix: str | None) -> int | None:
    if suffix is None:
        return None
    return db.session.scalar(sa.select(Item.id).where(Item.document_no == f"{code}-INV{suffix}"))


def post_by_service(app, code: str, cp_id: int, entry: dict) -> None:
    with app.app_context():
        ledger.create_receipt(
            receipt_no=f"{code}-R{entry['suffix']}",
            counterparty_id=cp_id,
            amount=entry["amount"],
            received_on=entry["received_on"],
            method="transfer",
            item_id=item_id(code, entry["item"]),
        )
        db.session.commit()


def post_by_web(client, code: str, entry: dict) -> None:
    response = client.post(
        "/ledger/receipts/new",
        data={
            "receipt_no": f"{code}-R{entry['suffix']}",
            "counterparty_code": code,
            "amount": str(entry["amount"]),
            "received_on": entry["received_on"].isoformat(),
            "method": "transfer",
            "reference": "",
            "item_document_no": f"{code}-INV{entry['item']}" if entry["item"] else "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def stored_state(code: str, cp_id: int) -> tuple[Counter, dict]:
    """Applications as (receipt suffix, item suffix, fen, day), and each item's open fen."""
    rows = db.session.execute(
        sa.select(Receipt.receipt_no, Item.document_no, Application.amount, Application.applied_on)
        .join(Receipt, Receipt.id == Application.receipt_id)
        .join(Item, Item.id == Application.item_id)
        .where(Application.counterparty_id == cp_id)
    ).all()
    apps = Counter(
        (r[0].split("-R")[1], r[1].split("-INV")[1], int(r[2] * 100), r[3]) for r in rows
    )
    open_fen = {
        doc.split("-INV")[1]: int(open_amount * 100)
        for doc, open_amount in db.session.execute(
            sa.select(Item.document_no, Item.open_amount).where(Item.counterparty_id == cp_id)
        )
    }
    return apps, open_fen


def test_twenty_receipts_at_once_end_as_posted_one_after_another(app, make_user):
    make_user("fin", "finance")
    cp_id = setup_counterparty(app, "PAR")
    plan = receipt_plan()
    clients = []
    for _ in range(THREADS // 2):
        client = app.test_client()
        login(client, "fin")
        clients.append(client)

    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait(timeout=30)
            if n % 2:
                post_by_service(app, "PAR", cp_id, plan[n])
            else:
                post_by_web(clients[n // 2], "PAR", plan[n])
        except BaseException as exc:  # reported below, with the thread's number
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a poster hung"
    assert errors == []

    # The same receipts posted one after another, for a twin counterparty.
    twin_id = setup_counterparty(app, "SEQ")
    for entry in plan:
        post_by_service(app, "SEQ", twin_id, entry)

    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Receipt.id)).where(Receipt.counterparty_id == cp_id)
            )
            == THREADS
        )
        apps, open_fen = stored_state("PAR", cp_id)
        twin_apps, twin_open = stored_state("SEQ", twin_id)
        assert apps == twin_apps
        assert open_fen == twin_open

        # What the allocation rule gives for the stored documents, replayed afresh.
        items, receipts = ledger.load_documents(cp_id)
        wanted = rules.allocate(items, receipts)
        stored = db.session.execute(
            sa.select(
                Application.applied_on,
                Application.receipt_id,
                Application.item_id,
                Application.amount,
            ).where(Application.counterparty_id == cp_id)
        ).all()
        assert Counter((r[0], r[1], r[2], int(r[3] * 100)) for r in stored) == Counter(
            (a.applied_on, a.receipt_id, a.item_id, a.amount) for a in wanted
        )

        per_item: dict[int, int] = defaultdict(int)
        per_receipt: dict[int, int] = defaultdict(int)
        for _day, receipt_id, item_id_, fen in (
            (r[0], r[1], r[2], int(r[3] * 100)) for r in stored
        ):
            per_item[item_id_] += fen
            per_receipt[receipt_id] += fen
        for item in items:
            assert per_item[item.id] <= item.amount  # never more applied than the item
            assert open_fen[item.document_no.split("-INV")[1]] == item.amount - per_item[item.id]
        for receipt in receipts:
            assert per_receipt[receipt.id] <= receipt.amount
        # Every item open and money unapplied at once cannot be: the rule applies what it can.
        total_items = sum(i.amount for i in items)
        total_receipts = sum(r.amount for r in receipts)
        assert sum(per_item.values()) == min(total_items, total_receipts)
        assert total_receipts > total_items  # so some receipts were left (partly) unapplied


def test_a_lock_on_one_counterparty_does_not_block_another(app):
    """While another transaction holds ONE's row, a receipt for ONE waits — and waits BEFORE
    writing anything, so it holds no other lock (the audit trail appends under one advisory
    lock): a receipt for TWO meanwhile goes through."""
    one = setup_counterparty(app, "ONE")
    two = setup_counterparty(app, "TWO")
    entry = {"suffix": "77", "amount": Decimal("100.00"), "received_on": DAY, "item": None}

    with app.app_context():
        holder = db.engine.connect()
        # Another transaction allocating for ONE, not yet committed. FOR NO KEY UPDATE: it
        # conflicts with the allocation lock (FOR UPDATE), not with a foreign key's check.
        holder.execute(
            sa.select(Counterparty.id).where(Counterparty.id == one).with_for_update(key_share=True)
        )
        try:
            same = threading.Thread(target=post_by_service, args=(app, "ONE", one, entry))
            same.start()
            same.join(timeout=1.5)
            assert same.is_alive(), "posting for ONE did not wait for the lock on ONE"

            other = threading.Thread(target=post_by_service, args=(app, "TWO", two, entry))
            other.start()
            other.join(timeout=20)
            assert not other.is_alive(), "posting for TWO waited for the lock on ONE"
            assert same.is_alive()
        finally:
            holder.rollback()
            holder.close()
        same.join(timeout=20)
        assert not same.is_alive()
        for cp_id in (one, two):
            assert (
                db.session.scalar(
                    sa.select(sa.func.count(Receipt.id)).where(Receipt.counterparty_id == cp_id)
                )
                == 1
            )
