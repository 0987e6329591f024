"""The worklist page's statement is built once per process for the same arguments
(recovery/worklist/queries.page_query): what it reads is still read afresh, and anything the
building depends on gives another statement."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from recovery.auth import services as auth
from recovery.worklist import queries
from recovery.worklist.service_levels import Levels
from tests.conftest import TEST_PASSWORD
from tests.worklist.conftest import L

AS_OF = date(2026, 3, 10)
NOW = L(2026, 3, 10, 12, 0)


def user(username, *roles):
    return auth.create_user(username, TEST_PASSWORD, roles or ("sales",), display_name=username)


def built(owner, as_of=AS_OF, approver=None, **signs):
    return queries.page_query(
        [owner.id],
        as_of,
        approver=approver,
        breach_counterparties=signs.get("breaches", ()),
        limitation_counterparties=signs.get("limitation", ()),
        limit=50,
        offset=0,
    )


def lines(owner, as_of=AS_OF):
    page = queries.worklist_page([owner.id], as_of, NOW, levels=Levels())
    return {line.code: line for line in page.items}


def test_the_same_arguments_give_the_same_statement_and_fresh_figures(work):
    sales = user("s1")
    cp = work.counterparty("A", responsible_id=sales.id)
    work.item(cp, 1000, AS_OF - timedelta(days=60), AS_OF - timedelta(days=30))
    assert built(sales) is built(sales)
    assert lines(sales)["A"].overdue == Decimal("1000.00")
    # Paid in part on the day: the same statement, read again, shows it.
    work.receipt(cp, 400, AS_OF)
    assert built(sales) is built(sales)
    assert lines(sales)["A"].overdue == Decimal("600.00")


def test_what_the_statement_is_built_from_gives_another(work):
    sales, boss = user("s1"), user("boss", "executive")
    first = built(sales)
    assert built(sales, approver=sales) is not first
    assert built(sales, approver=boss) is not built(sales, approver=sales)
    assert built(sales, breaches=[1]) is not first
    assert built(sales, limitation=[1]) is not first
    assert built(sales, as_of=AS_OF - timedelta(days=1)) is not first
    assert built(boss) is not first
    # The same approver given a role that decides a step: the approvals part changes.
    as_sales = built(sales, approver=sales)
    auth.update_user(
        sales,
        display_name="s1",
        email=None,
        roles=["sales", "finance"],
        department=None,
        language=None,
        active=True,
    )
    assert built(sales, approver=sales) is not as_sales


def test_a_payment_dated_after_the_date_builds_the_statement_that_sums_movements(work):
    """As of a past date, an item paid later was still owed in full. Whether any item moved
    after the date is read from the database while building: it is part of the key."""
    sales = user("s1")
    cp = work.counterparty("A", responsible_id=sales.id)
    work.item(cp, 1000, AS_OF - timedelta(days=60), AS_OF - timedelta(days=30))
    before = built(sales)
    assert lines(sales)["A"].overdue == Decimal("1000.00")
    work.receipt(cp, 1000, AS_OF + timedelta(days=3))
    assert built(sales) is not before
    assert lines(sales)["A"].overdue == Decimal("1000.00")
    assert "A" not in lines(sales, AS_OF + timedelta(days=3))


def test_the_kept_statements_are_bounded(work):
    sales = user("s1")
    for days in range(queries._BUILT_LIMIT + 5):
        built(sales, as_of=AS_OF - timedelta(days=days))
    assert len(queries._built) == queries._BUILT_LIMIT
