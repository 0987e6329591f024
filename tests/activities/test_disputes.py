"""Disputes: the amount limit, acceptance through a proposed credit note, rejection with a
reason, disputed amounts as of a date, and "of which disputed" in the aging view."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from recovery.activities import services
from recovery.activities.disputes import disputed_amounts, disputed_by
from recovery.activities.models import Dispute
from recovery.auth.models import User
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.ledger.models import Adjustment, Item
from recovery.ledger.queries import LedgerFilter
from recovery.parties.models import Counterparty
from tests.activities.conftest import sign_in
from tests.ledger.conftest import LedgerBuilder

D = date


@pytest.fixture
def ctx(app, world):
    with app.test_request_context(), force_locale("en"):
        yield world
        db.session.rollback()


def user(world, name) -> User:
    return db.session.get(User, world.users[name])


def dispute(world, amount, *, item=None, raised_on=D(2025, 3, 1), owner="sales1", actor="sales1"):
    return services.open_dispute(
        db.session.get(Item, item or world.item1),
        amount=Decimal(amount),
        reason="quality",
        description="Cracked tiles in batch 7.",
        owner_id=world.users[owner],
        deadline=raised_on + timedelta(days=30),
        actor=user(world, actor),
        raised_on=raised_on,
    )


def pay(world, amount, on):
    LedgerBuilder().receipt(
        db.session.get(Counterparty, world.cp1), amount, on, receipt_no=uuid.uuid4().hex
    )


def test_a_dispute_cannot_exceed_the_outstanding(ctx):
    with pytest.raises(services.ActivityError, match="Only 10,000.00 of this item"):
        dispute(ctx, "10000.01")
    first = dispute(ctx, "6000")
    assert first.status == "open" and first.counterparty_id == ctx.cp1
    # What is already in dispute is taken off.
    with pytest.raises(services.ActivityError, match="Only 4,000.00"):
        dispute(ctx, "4000.01")
    assert dispute(ctx, "4000").amount == Decimal("4000.00")


def test_what_was_paid_is_not_disputable(ctx):
    pay(ctx, "7000", D(2025, 2, 15))
    with pytest.raises(services.ActivityError, match="Only 3,000.00"):
        dispute(ctx, "3000.01")
    pay(ctx, "3000", D(2025, 2, 16))
    with pytest.raises(services.ActivityError, match="Nothing is outstanding"):
        dispute(ctx, "1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "mood"}, "reason"),
        ({"description": "  "}, "Describe"),
        ({"deadline": D(2025, 2, 1)}, "deadline"),
        ({"owner_id": None}, "owner"),
    ],
)
def test_bad_disputes_are_refused(ctx, change, message):
    values = {
        "amount": Decimal("10"),
        "reason": "price",
        "description": "Price list 2024 applied.",
        "owner_id": ctx.users["sales1"],
        "deadline": D(2025, 4, 1),
        "actor": user(ctx, "sales1"),
        "raised_on": D(2025, 3, 1),
        **change,
    }
    with pytest.raises(services.ActivityError, match=message):
        services.open_dispute(db.session.get(Item, ctx.item1), **values)


def test_accepting_proposes_a_credit_note_that_finance_approves(ctx):
    d = dispute(ctx, "2500")
    services.resolve_dispute(
        d, accept=True, actor=user(ctx, "sales1"), note="Supplier admitted it.", on=D(2025, 3, 20)
    )
    assert d.status == "accepted" and d.resolved_on == D(2025, 3, 20)
    adjustment = db.session.get(Adjustment, d.adjustment_id)
    assert adjustment.kind == "credit_note" and adjustment.status == "proposed"
    assert adjustment.amount == Decimal("2500.00") and adjustment.item_id == ctx.item1
    assert adjustment.proposed_by_id == ctx.users["sales1"]
    assert "Supplier admitted it." in adjustment.reason
    # Nothing changes in the ledger until finance approves.
    assert db.session.get(Item, ctx.item1).open_amount == Decimal("10000.00")
    ledger.decide_adjustment(adjustment, approve=True, actor=user(ctx, "fin1"))
    assert db.session.get(Item, ctx.item1).open_amount == Decimal("7500.00")


def test_a_partial_credit_and_its_limit(ctx):
    d = dispute(ctx, "2500")
    with pytest.raises(services.ActivityError, match="cannot exceed the amount in dispute"):
        services.resolve_dispute(
            d, accept=True, actor=user(ctx, "sales1"), credit_amount=Decimal("2600")
        )
    services.resolve_dispute(
        d,
        accept=True,
        actor=user(ctx, "fin1"),
        credit_amount=Decimal("1000"),
        credit_number="CN-77",
    )
    adjustment = db.session.get(Adjustment, d.adjustment_id)
    assert adjustment.amount == Decimal("1000.00") and adjustment.number == "CN-77"
    # The finance user who proposed it cannot approve it.
    with pytest.raises(ledger.LedgerError):
        ledger.decide_adjustment(adjustment, approve=True, actor=user(ctx, "fin1"))


def test_rejecting_needs_a_reason_and_collection_continues(ctx):
    d = dispute(ctx, "2500")
    with pytest.raises(services.ActivityError, match="why"):
        services.resolve_dispute(d, accept=False, actor=user(ctx, "sales1"), note=" ")
    services.resolve_dispute(
        d, accept=False, actor=user(ctx, "sales1"), note="Tiles checked: fine.", on=D(2025, 3, 5)
    )
    assert d.status == "rejected" and d.adjustment_id is None
    assert d.resolution_note == "Tiles checked: fine."
    with pytest.raises(services.ActivityError, match="already resolved"):
        services.resolve_dispute(d, accept=True, actor=user(ctx, "sales1"))


def test_only_the_owner_finance_or_a_supervisor_resolves(ctx):
    d = dispute(ctx, "100", owner="sales1")
    with pytest.raises(services.ActivityError, match="owner"):
        services.resolve_dispute(d, accept=False, actor=user(ctx, "sales2"), note="no")
    services.resolve_dispute(d, accept=False, actor=user(ctx, "sup1"), note="no")


def test_disputed_amounts_as_of_a_date(ctx):
    first = dispute(ctx, "1000", raised_on=D(2025, 3, 1))
    dispute(ctx, "500", raised_on=D(2025, 3, 10))
    dispute(ctx, "300", item=ctx.item2, raised_on=D(2025, 3, 1), owner="sales2", actor="sales2")
    services.resolve_dispute(
        first, accept=False, actor=user(ctx, "sales1"), note="no", on=D(2025, 3, 20)
    )

    def amounts(as_of, **kw):
        return {r.item_id: r.disputed for r in db.session.execute(disputed_amounts(as_of, **kw))}

    assert amounts(D(2025, 2, 28)) == {}
    assert amounts(D(2025, 3, 5)) == {ctx.item1: Decimal("1000.00"), ctx.item2: Decimal("300.00")}
    assert amounts(D(2025, 3, 15)) == {ctx.item1: Decimal("1500.00"), ctx.item2: Decimal("300.00")}
    # Resolved on the 20th: no longer open from then on.
    assert amounts(D(2025, 3, 20)) == {ctx.item1: Decimal("500.00"), ctx.item2: Decimal("300.00")}
    assert amounts(D(2025, 3, 20), counterparty_ids=[ctx.cp2]) == {ctx.item2: Decimal("300.00")}


def test_disputed_in_aging_never_exceeds_the_outstanding(ctx):
    dispute(ctx, "4000", raised_on=D(2025, 3, 1))
    assert disputed_by(D(2025, 3, 31)) == {ctx.cp1: Decimal("4000.00")}
    pay(ctx, "8000", D(2025, 3, 15))
    assert disputed_by(D(2025, 3, 31)) == {ctx.cp1: Decimal("2000.00")}
    assert disputed_by(D(2025, 3, 10)) == {ctx.cp1: Decimal("4000.00")}
    # Narrowed to what a sales user sees.
    assert (
        disputed_by(D(2025, 3, 31), item_filter=LedgerFilter(visible_to=ctx.users["sales2"])) == {}
    )
    assert disputed_by(D(2025, 3, 31), "responsible") == {ctx.users["sales1"]: Decimal("2000.00")}


# ---------------------------------------------------------------------------------------------
# Screens


def test_the_aging_view_shows_of_which_disputed(app, world):
    with app.test_request_context(), force_locale("en"):
        dispute(world, "1234.50", raised_on=D(2025, 3, 1))
        db.session.commit()
    client = sign_in(app, "fin1")
    page = client.get("/ledger/aging?as_of=2025-03-31").get_data(as_text=True)
    assert "Of which disputed" in page
    row = page[page.index('data-key="CP1"') :]
    row = row[: row.index("</tr>")]
    assert re.search(r'data-testid="disputed"><a [^>]*>1,234.50<', row)
    totals = page[page.index('data-key="TOTAL"') :]
    assert 'data-testid="disputed">1,234.50<' in totals[: totals.index("</tr>")]
    # Another sales manager does not see it.
    other = sign_in(app, "sales2").get("/ledger/aging?as_of=2025-03-31").get_data(as_text=True)
    assert "1,234.50" not in other


def test_the_aging_export_keeps_its_columns(app, world):
    with app.test_request_context(), force_locale("en"):
        dispute(world, "100", raised_on=D(2025, 3, 1))
        db.session.commit()
    response = sign_in(app, "fin1").get("/ledger/export/aging?as_of=2025-03-31&format=csv")
    assert response.status_code == 200
    assert "disputed" not in response.get_data(as_text=True).lower()


def test_open_a_dispute_from_the_web(app, world):
    client = sign_in(app, "sales1")
    url = f"/activities/disputes/new?item_id={world.item1}"
    page = client.get(url).get_data(as_text=True)
    assert "INV-1" in page and "outstanding 10,000.00" in page
    data = {
        "item_id": str(world.item1),
        "amount": "20000",
        "reason": "quantity",
        "description": "Short delivery",
        "owner_id": str(world.users["sales1"]),
        "deadline": "2099-01-01",
    }
    response = client.post(url, data=data)
    assert response.status_code == 422  # refused: the form again
    assert "Only 10,000.00 of this item" in response.get_data(as_text=True)
    response = client.post(url, data={**data, "amount": "2000"})
    assert response.status_code == 302
    with app.app_context():
        [row] = db.session.scalars(sa.select(Dispute)).all()
        assert row.amount == Decimal("2000.00") and row.reason == "quantity"
        assert row.opened_by_id == world.users["sales1"]
    # The item of another counterparty, or another sales manager: 404.
    assert client.get(f"/activities/disputes/new?item_id={world.item2}").status_code == 404
    response = client.post(
        f"/activities/disputes/new?counterparty_id={world.cp1}",
        data={**data, "item_id": str(world.item2)},
    )
    assert response.status_code == 422
    listing = client.get("/activities/disputes").get_data(as_text=True)
    assert listing.count("data-dispute=") == 1


def test_resolve_from_the_web(app, world):
    with app.test_request_context(), force_locale("en"):
        d = dispute(world, "500", raised_on=D(2025, 3, 1))
        db.session.commit()
        dispute_id = d.id
    client = sign_in(app, "sales1")
    url = f"/activities/disputes/{dispute_id}/resolve"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"reject": "1", "note": ""})
    assert response.status_code == 422  # refused: the form again
    assert "Say why the dispute is rejected." in response.get_data(as_text=True)
    response = client.post(url, data={"accept": "1", "note": "Agreed."})
    assert response.status_code == 302
    with app.app_context():
        d = db.session.get(Dispute, dispute_id)
        assert d.status == "accepted" and d.adjustment.status == "proposed"
    # Finance sees the credit note waiting.
    page = sign_in(app, "fin1").get("/ledger/adjustments").get_data(as_text=True)
    assert f"CN-DSP-{dispute_id:06d}" in page
    assert sign_in(app, "sales2").get(url).status_code == 404
