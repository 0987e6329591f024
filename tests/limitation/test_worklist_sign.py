"""The worklist's limitation sign follows the full rule: an interruption takes it away, the
official calendar sets the date shown."""

from __future__ import annotations

from datetime import date

from recovery.worklist import queries
from recovery.worklist.service_levels import Levels
from tests.limitation.conftest import L

AS_OF = date(2026, 3, 10)


def lines(owner):
    page = queries.worklist_page([owner.id], AS_OF, L(2026, 3, 10, 12), levels=Levels())
    return {line.code: line for line in page.items}


def test_an_interrupted_debt_carries_no_limitation_sign(lim):
    sales = lim.user("s1")
    plain = lim.counterparty("PLAIN", responsible_id=sales.id)
    paid = lim.counterparty("PAID", responsible_id=sales.id)
    promised = lim.counterparty("PROMISED", responsible_id=sales.id)
    # Each due 1 May 2023: ends 6 May 2026 (1–5 May are holidays), 57 days after the as-of
    # date — unless interrupted.
    items = {
        cp.code: lim.item(cp, 100, date(2023, 4, 1), date(2023, 5, 1))
        for cp in (plain, paid, promised)
    }
    lim.receipt(paid, 10, date(2024, 1, 8), item=items["PAID"])
    lim.promise(promised, sales, 10, date(2025, 2, 3), date(2026, 4, 1))  # still open
    found = lines(sales)
    assert found["PLAIN"].limitation_on == date(2026, 5, 6)
    assert found["PLAIN"].attention == 1
    for code in ("PAID", "PROMISED"):
        assert found[code].limitation_on is None
        assert found[code].attention == 0
