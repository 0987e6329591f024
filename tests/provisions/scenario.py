"""A small ledger whose provision matrix is worked out by hand in the tests (as of 2026-06-30).

Default rates 5, 10, 15, 30, 50, 100 % for <1, 1–2, 2–3, 3–4, 4–5, >5 years.

A01 (营销一部): 1000.10 recognised 2026-01-10 (<1 y)    5 % → 50.005 → 50.01 (half up)
                 333.33 recognised 2025-03-01 (1–2 y)  10 % → 33.333 → 33.33
                 100.15 recognised 2023-06-30 (3–4 y)  30 % → 30.045 → 30.05 (half up)
                   0.01 recognised 2019-01-01 (>5 y)  100 % → 0.01
                 matrix 113.40 on 1433.59
A02 (营销一部): 2 × 0.10 recognised 2026-05-01 (<1 y): 0.20 × 5 % = 0.01 (per line and
                 bucket, not per item: that would be 0.01 + 0.01)
B01 (营销一部): 500.00 (<1 y), 200.00 recognised 2024-01-15 (2–3 y): matrix 25.00 + 30.00
C01: 200.00 in 营销一部 and 100.00 in 营销二部, both 2025-12-01 (<1 y): matrix 10.00 + 5.00
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from recovery.auth import services as auth
from recovery.extensions import db

D = date
AS_OF = D(2026, 6, 30)
TODAY = D(2026, 7, 5)


@dataclass
class Scenario:
    ids: dict
    finance: object
    finance2: object
    executive: object
    sales: object


def make_users():
    company = auth.create_department("总部", "company", None)
    one = auth.create_department("营销一部", "department", company)
    two = auth.create_department("营销二部", "department", company)
    finance = auth.create_user("fin1", "pw-123456789", ["finance"], display_name="王芳")
    finance2 = auth.create_user("fin2", "pw-123456789", ["finance"], display_name="赵敏")
    executive = auth.create_user("exec", "pw-123456789", ["executive"], display_name="陈明")
    sales = auth.create_user("sale", "pw-123456789", ["sales"], display_name="李强")
    return one, two, finance, finance2, executive, sales


def build_scenario(build) -> Scenario:
    one, two, finance, finance2, executive, sales = make_users()
    a01 = build.counterparty("A01", name="甲公司", department_id=one.id)
    a02 = build.counterparty("A02", name="乙公司", department_id=one.id)
    b01 = build.counterparty("B01", name="丙公司", department_id=one.id)
    c01 = build.counterparty("C01", name="丁公司", department_id=one.id)
    build.item(a01, "1000.10", D(2026, 1, 10), D(2026, 2, 10))
    build.item(a01, "333.33", D(2025, 3, 1), D(2025, 4, 1))
    build.item(a01, "100.15", D(2023, 6, 30), D(2023, 7, 30))
    build.item(a01, "0.01", D(2019, 1, 1), D(2019, 2, 1))
    build.item(a02, "0.10", D(2026, 5, 1), D(2026, 6, 1))
    build.item(a02, "0.10", D(2026, 5, 1), D(2026, 6, 1))
    build.item(b01, "500.00", D(2026, 3, 1), D(2026, 4, 1))
    build.item(b01, "200.00", D(2024, 1, 15), D(2024, 2, 15))
    build.item(c01, "200.00", D(2025, 12, 1), D(2026, 1, 1), department_id=one.id)
    build.item(c01, "100.00", D(2025, 12, 1), D(2026, 1, 1), department_id=two.id)
    db.session.commit()
    ids = {
        "A01": a01.id,
        "A02": a02.id,
        "B01": b01.id,
        "C01": c01.id,
        "one": one.id,
        "two": two.id,
    }
    return Scenario(ids, finance, finance2, executive, sales)
