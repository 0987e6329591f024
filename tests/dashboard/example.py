"""The worked example of docs/kpis.md, built through the real services.

Company 示例集团 with two departments. Counterparty A (营销一部) and B (营销二部):

    A1  recognised 2026-01-15  60,000.00  due 2026-02-14
    A2  recognised 2026-02-15  45,000.00  due 2026-03-17
    A3  recognised 2026-03-15  30,000.00  due 2026-04-14
    B1  recognised 2026-02-01  10,000.00  due 2026-03-03
    B2  recognised 2026-03-01   5,000.00  due 2026-03-31
    RA1 received 2026-03-10  35,000.00  (names no item: pays A1, due first)
    RB1 received 2026-03-13  10,000.00  naming B1
    RB2 received 2026-03-21   5,000.00  naming B2

Targets for March 2026: 营销一部 40,000.00, 营销二部 20,000.00 (the company's: 60,000.00).
The figures for March 2026 (period 2026-03-01..2026-03-31) are in docs/kpis.md and FIGURES.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from recovery.auth import services as auth
from recovery.extensions import db

D = date
MARCH = (D(2026, 3, 1), D(2026, 3, 31))
COMPANY_NAME = "示例集团"
SALES_ONE = "营销一部"
SALES_TWO = "营销二部"

# docs/kpis.md, "The worked example": the whole company, March 2026.
FIGURES = {
    "receivables": Decimal("100000.00"),
    "overdue": Decimal("70000.00"),
    "overdue_ratio": Decimal("0.7000"),
    "dso": Decimal("64.17"),
    "cei": Decimal("41.67"),
    "add": Decimal("37.60"),
    "collection_rate": Decimal("0.3333"),
    "avg_days_to_pay": Decimal("30.00"),
    "avg_days_late": Decimal("5.00"),
    "recovered": Decimal("50000.00"),
    "target": Decimal("60000.00"),
    "completion": Decimal("0.8333"),
}
# The same for 营销一部 alone (counterparty A).
SALES_ONE_FIGURES = {
    "receivables": Decimal("100000.00"),
    "overdue": Decimal("70000.00"),
    "overdue_ratio": Decimal("0.7000"),
    "dso": Decimal("71.92"),
    "cei": Decimal("33.33"),
    "add": Decimal("40.92"),
    "collection_rate": Decimal("0.2593"),
    "avg_days_to_pay": None,
    "avg_days_late": None,
    "recovered": Decimal("35000.00"),
    "target": Decimal("40000.00"),
    "completion": Decimal("0.8750"),
}


def departments():
    company = auth.find_department(COMPANY_NAME) or auth.create_department(
        COMPANY_NAME, "company", None
    )
    one = auth.find_department(SALES_ONE) or auth.create_department(
        SALES_ONE, "department", company
    )
    two = auth.find_department(SALES_TWO) or auth.create_department(
        SALES_TWO, "department", company
    )
    db.session.flush()
    return company, one, two


def build_example(build, *, targets: bool = True) -> dict:
    """The example's documents (and targets); returns them by name."""
    from recovery.targets.models import Target

    company, one, two = departments()
    a = build.counterparty("A", "甲公司", department_id=one.id)
    b = build.counterparty("B", "乙公司", department_id=two.id)
    docs = {"company": company, "one": one, "two": two, "A": a, "B": b}
    docs["A1"] = build.item(a, "60000.00", D(2026, 1, 15), D(2026, 2, 14), "A1")
    docs["A2"] = build.item(a, "45000.00", D(2026, 2, 15), D(2026, 3, 17), "A2")
    docs["A3"] = build.item(a, "30000.00", D(2026, 3, 15), D(2026, 4, 14), "A3")
    docs["B1"] = build.item(b, "10000.00", D(2026, 2, 1), D(2026, 3, 3), "B1")
    docs["B2"] = build.item(b, "5000.00", D(2026, 3, 1), D(2026, 3, 31), "B2")
    build.receipt(a, "35000.00", D(2026, 3, 10), "RA1")
    build.receipt(b, "10000.00", D(2026, 3, 13), "RB1", item=docs["B1"])
    build.receipt(b, "5000.00", D(2026, 3, 21), "RB2", item=docs["B2"])
    if targets:
        for department, amount in ((one, "40000.00"), (two, "20000.00")):
            db.session.add(
                Target(
                    department_id=department.id,
                    period_kind="month",
                    period_start=MARCH[0],
                    period_end=MARCH[1],
                    recovery_amount=Decimal(amount),
                    overdue_reduction_amount=Decimal("0.00"),
                )
            )
    db.session.commit()
    return docs
