"""June 2026 on top of the provisions scenario (tests/provisions/scenario.py):

D01 (营销二部): 1000.00 recognised 2026-06-05, due 2026-07-20 (not due at the month's end),
400.00 received 2026-06-25 naming it → 600.00 outstanding, provision 5 % = 30.00.

At 2026-06-30: outstanding 2433.79 + 600.00 = 3033.79, overdue 2433.79 (all but D01);
provision 183.41 + 30.00 = 213.41. June: recognised 1000.00, applied 400.00, received
400.00, so the opening (31 May) is 2433.79. A01 has a case opened on 15 June.
"""

from __future__ import annotations

from datetime import date

from recovery.cases import services as cases
from recovery.extensions import db
from recovery.parties.services import find_counterparty
from tests.provisions.scenario import build_scenario

JUNE = "2026-06"


def build_june(build):
    scenario = build_scenario(build)
    d01 = build.counterparty("D01", name="戊公司", department_id=scenario.ids["two"])
    item = build.item(d01, "1000.00", date(2026, 6, 5), date(2026, 7, 20))
    build.receipt(d01, "400.00", date(2026, 6, 25), item=item)
    cases.open_case(
        find_counterparty("A01"),
        actor=scenario.finance,
        today=date(2026, 6, 15),
        cause="cash_shortage",
    )
    db.session.commit()
    return scenario
