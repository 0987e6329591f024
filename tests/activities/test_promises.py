"""Promise matching: kept, broken, open, partial, receipts outside the window, as-of dates,
cancelled promises, the SQL rows and the promises page."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from recovery.activities import services
from recovery.activities.models import Promise
from recovery.activities.promises import promise_status, promise_status_rows
from recovery.auth.models import User
from recovery.extensions import db
from recovery.parties.models import Counterparty
from tests.activities.conftest import sign_in
from tests.ledger.conftest import LedgerBuilder

D = date


@pytest.fixture
def ctx(app, world):
    with app.test_request_context(), force_locale("en"):
        yield world
        db.session.rollback()


def promise(world, amount, promised_on, due_on, counterparty_id=None, user="sales1") -> Promise:
    return services.record_promise(
        counterparty_id=counterparty_id or world.cp1,
        amount=Decimal(amount),
        promised_on=promised_on,
        due_on=due_on,
        actor=db.session.get(User, world.users[user]),
        today=D(2030, 1, 1),
    )


def pay(counterparty_id, amount, on):
    LedgerBuilder().receipt(
        db.session.get(Counterparty, counterparty_id), amount, on, receipt_no=uuid.uuid4().hex
    )


def test_kept_when_the_receipts_in_the_window_cover_it(ctx):
    p = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    pay(ctx.cp1, "400", D(2025, 3, 1))  # the first day counts
    pay(ctx.cp1, "600", D(2025, 3, 10))  # and the last
    assert promise_status(p, D(2025, 3, 10)) == "kept"
    assert promise_status(p, D(2025, 12, 31)) == "kept"


def test_open_until_the_due_date_then_broken(ctx):
    p = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    assert promise_status(p, D(2025, 3, 5)) == "open"
    assert promise_status(p, D(2025, 3, 10)) == "open"  # due today: still time
    assert promise_status(p, D(2025, 3, 11)) == "broken"


def test_partly_paid_is_open_then_broken(ctx):
    p = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    pay(ctx.cp1, "999.99", D(2025, 3, 5))
    assert promise_status(p, D(2025, 3, 6)) == "open"
    assert promise_status(p, D(2025, 3, 11)) == "broken"
    [row] = db.session.execute(promise_status_rows(D(2025, 3, 11))).all()
    assert row.paid == Decimal("999.99")
    assert row.status == "broken"


def test_receipts_outside_the_window_do_not_count(ctx):
    p = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    pay(ctx.cp1, "5000", D(2025, 2, 28))  # before the promise
    pay(ctx.cp1, "5000", D(2025, 3, 11))  # after its date
    pay(ctx.cp2, "5000", D(2025, 3, 5))  # another counterparty
    assert promise_status(p, D(2025, 3, 31)) == "broken"
    [row] = db.session.execute(promise_status_rows(D(2025, 3, 31))).all()
    assert row.paid == Decimal("0.00")


def test_as_of_sees_only_receipts_dated_by_then(ctx):
    p = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    pay(ctx.cp1, "1000", D(2025, 3, 8))
    assert promise_status(p, D(2025, 3, 7)) == "open"
    assert promise_status(p, D(2025, 3, 8)) == "kept"


def test_a_promise_made_after_the_as_of_date_is_not_listed(ctx):
    promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    assert db.session.execute(promise_status_rows(D(2025, 2, 28))).all() == []
    assert len(db.session.execute(promise_status_rows(D(2025, 3, 1))).all()) == 1


def test_cancelled_promises_are_left_out(ctx):
    p = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    p.cancelled = True
    db.session.flush()
    assert db.session.execute(promise_status_rows(D(2025, 3, 31))).all() == []


def test_rows_have_the_agreed_columns_and_filter_by_counterparty(ctx):
    a = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    b = promise(ctx, "200", D(2025, 3, 1), D(2025, 3, 31), counterparty_id=ctx.cp2, user="sales2")
    pay(ctx.cp2, "200", D(2025, 3, 2))
    query = promise_status_rows(D(2025, 3, 15))
    assert [c.name for c in query.selected_columns] == [
        "promise_id",
        "counterparty_id",
        "amount",
        "due_on",
        "paid",
        "status",
    ]
    rows = {r.promise_id: r for r in db.session.execute(query)}
    assert rows[a.id].status == "broken" and rows[a.id].amount == Decimal("1000.00")
    assert rows[b.id].status == "kept" and rows[b.id].paid == Decimal("200.00")
    only = db.session.execute(promise_status_rows(D(2025, 3, 15), counterparty_ids=[ctx.cp2])).all()
    assert [r.promise_id for r in only] == [b.id]
    # A SELECT of ids works too (a sales user's accounts).
    ids = sa.select(Counterparty.id).where(Counterparty.code == "CP1")
    only = db.session.execute(promise_status_rows(D(2025, 3, 15), counterparty_ids=ids)).all()
    assert [r.promise_id for r in only] == [a.id]
    # Filtering on status: wrap it.
    rows = promise_status_rows(D(2025, 3, 15)).subquery()
    broken = db.session.scalars(sa.select(rows.c.promise_id).where(rows.c.status == "broken"))
    assert list(broken) == [a.id]


def test_each_promise_is_judged_on_its_own_window(ctx):
    first = promise(ctx, "1000", D(2025, 3, 1), D(2025, 3, 10))
    second = promise(ctx, "1000", D(2025, 3, 11), D(2025, 3, 20))
    pay(ctx.cp1, "1000", D(2025, 3, 5))
    assert promise_status(first, D(2025, 3, 31)) == "kept"
    assert promise_status(second, D(2025, 3, 31)) == "broken"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"promised_on": D(2025, 3, 10), "due_on": D(2025, 3, 1)}, "before the promise"),
        ({"promised_on": D(2031, 1, 1), "due_on": D(2031, 2, 1)}, "in the future"),
        ({"amount": Decimal("0")}, "Enter the amount"),
    ],
)
def test_bad_promises_are_refused(ctx, values, message):
    arguments = {
        "counterparty_id": ctx.cp1,
        "amount": Decimal("10"),
        "promised_on": D(2025, 3, 1),
        "due_on": D(2025, 3, 10),
        "actor": db.session.get(User, ctx.users["sales1"]),
        "today": D(2030, 1, 1),
        **values,
    }
    with pytest.raises(services.ActivityError, match=message):
        services.record_promise(**arguments)


# ---------------------------------------------------------------------------------------------
# Screens


def make_promises(app, world):
    with app.test_request_context(), force_locale("en"):
        promise(world, "1000", D(2025, 3, 1), D(2025, 3, 10))  # broken
        promise(world, "300", D(2025, 3, 1), D(2025, 3, 31))  # kept
        pay(world.cp1, "300", D(2025, 3, 2))
        promise(
            world, "700", D(2025, 3, 1), D(2025, 3, 31), counterparty_id=world.cp2, user="sales2"
        )
        db.session.commit()


def test_the_promises_page_filters_by_status(app, world):
    make_promises(app, world)
    client = sign_in(app, "sup1")
    page = client.get("/activities/promises?as_of=2025-03-15").get_data(as_text=True)
    assert page.count('data-testid="promise-status"') == 3
    broken = client.get("/activities/promises?as_of=2025-03-15&status=broken").get_data(
        as_text=True
    )
    assert broken.count("data-promise=") == 1 and 'data-status="broken"' in broken
    kept = client.get("/activities/promises?as_of=2025-03-15&status=kept").get_data(as_text=True)
    assert kept.count("data-promise=") == 1 and 'data-status="kept"' in kept
    opened = client.get("/activities/promises?as_of=2025-03-15&status=open").get_data(as_text=True)
    assert opened.count("data-promise=") == 1 and "CP2" in opened


def test_a_sales_manager_sees_only_their_own_promises(app, world):
    make_promises(app, world)
    client = sign_in(app, "sales2")
    page = client.get("/activities/promises?as_of=2025-03-15").get_data(as_text=True)
    assert page.count("data-promise=") == 1 and "CP2" in page and "CP1" not in page
    assert client.get(f"/activities/promises?counterparty_id={world.cp1}").status_code == 404


def test_the_promise_form(app, world):
    client = sign_in(app, "sales1")
    url = f"/activities/promises/new?counterparty_id={world.cp1}"
    assert client.get(url).status_code == 200
    response = client.post(
        url, data={"amount": "12.345", "promised_on": "2025-03-01", "due_on": "2025-03-10"}
    )
    assert response.status_code == 422  # refused: the form again
    assert "At most two decimals" in response.get_data(as_text=True)
    response = client.post(
        url, data={"amount": "12.34", "promised_on": "2025-03-01", "due_on": "2025-03-10"}
    )
    assert response.status_code == 302
    assert sign_in(app, "sales2").get(url).status_code == 404
