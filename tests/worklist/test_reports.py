"""The routine reports: weekly per collector, monthly per person and department; figures
computed by hand; XLSX and PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.worklist import reports
from tests.conftest import TEST_PASSWORD, login
from tests.worklist.conftest import L, WorkBuilder

WEEK = reports.parse_week("2026-W10", date(2026, 3, 20))  # Monday 2 – Sunday 8 March 2026
MONTH = reports.parse_month("2026-03", date(2026, 4, 20))


def test_periods():
    assert (WEEK.first, WEEK.last, WEEK.label) == (date(2026, 3, 2), date(2026, 3, 8), "2026-W10")
    assert reports.parse_week("2026-03-05", date(2026, 1, 1)) == WEEK
    assert reports.parse_week("", date(2026, 3, 8)) == WEEK
    assert reports.parse_week("2026w10", date(2026, 1, 1)) == WEEK
    assert WEEK.previous().label == "2026-W09" and WEEK.next().label == "2026-W11"
    assert reports.parse_week("2025-12-29", date(2026, 1, 1)).label == "2026-W01"
    assert (MONTH.first, MONTH.last, MONTH.label) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        "2026-03",
    )
    assert reports.parse_month("2024-02", date(2026, 1, 1)).last == date(2024, 2, 29)
    assert MONTH.previous().label == "2026-02" and MONTH.next().label == "2026-04"
    assert reports.parse_month("2026-12-25", date(2026, 1, 1)).next().label == "2027-01"
    # Beijing days: the week starts at Monday 00:00 in Beijing, Sunday 16:00 UTC.
    assert WEEK.start_utc == L(2026, 3, 2, 0, 0) and WEEK.end_utc == L(2026, 3, 9, 0, 0)
    for bad in ("2026-W54", "next week", "2026-13"):
        with pytest.raises(reports.PeriodError):
            (reports.parse_month if "-13" in bad else reports.parse_week)(bad, date(2026, 1, 1))


def setup_routine(app):
    """Three collectors in two departments, with a week of work (see the test for the sums)."""
    with app.app_context():
        work = WorkBuilder()
        company = auth.create_department("集团", "company", None)
        east = auth.create_department("东区", "department", company)
        west = auth.create_department("西区", "department", company)
        chen = auth.create_user(
            "chen", TEST_PASSWORD, ["sales"], display_name="陈", department=east
        )
        lin = auth.create_user("lin", TEST_PASSWORD, ["sales"], display_name="林", department=east)
        zhou = auth.create_user(
            "zhou", TEST_PASSWORD, ["sales"], display_name="周", department=west
        )
        auth.create_user(
            "boss", TEST_PASSWORD, ["supervisor"], display_name="主管", department=east
        )
        auth.create_user("exec", TEST_PASSWORD, ["executive"], department=company)
        auth.create_user("fin", TEST_PASSWORD, ["finance"], department=company)
        x1 = work.counterparty("X1", responsible_id=chen.id)
        x2 = work.counterparty("X2", responsible_id=chen.id)
        x3 = work.counterparty("X3", responsible_id=zhou.id)
        for cp in (x1, x2, x3):
            work.item(cp, 100000, date(2025, 6, 1), date(2025, 7, 1))
        # Cases: K1 on X1 assigned to chen; K2 on X2 unassigned; K3 on X3 assigned to lin (one
        # open case per counterparty). Their case targets are not the month's targets: those
        # are set in recovery.targets (set_march_targets).
        k1 = work.case(
            x1, number="K1", opened_at=L(2026, 2, 1, 9), assignee_id=chen.id,
            assigned_at=L(2026, 2, 1, 9), first_action_at=L(2026, 2, 1, 10),
            target_amount=Decimal("5000"), target_date=date(2026, 3, 31),
        )  # fmt: skip
        k2 = work.case(
            x2, number="K2", opened_at=L(2026, 2, 2, 9),
            target_amount=Decimal("1000"), target_date=date(2026, 3, 15),
        )  # fmt: skip
        work.case(
            x3, number="K3", opened_at=L(2026, 3, 3, 9), assignee_id=lin.id,
            assigned_at=L(2026, 3, 3, 9), first_action_at=L(2026, 3, 3, 9, 30),
            target_amount=Decimal("9000"), target_date=date(2026, 4, 10),
        )  # fmt: skip
        # A case of chen's closed in March: counted in March's cases and as closed.
        x4 = work.counterparty("X4", responsible_id=chen.id)
        work.case(
            x4, number="K4", opened_at=L(2026, 1, 5, 9), assignee_id=chen.id,
            assigned_at=L(2026, 1, 5, 9), first_action_at=L(2026, 1, 5, 9), status="closed",
            outcome="recovered", closed_at=L(2026, 3, 12, 10),
        )  # fmt: skip

        # chen's contacts: in the week — two calls (one at 07:00 Monday Beijing time, still
        # Sunday in UTC), a visit, a letter; outside — Sunday 1 March 23:59 and Monday 9 March.
        work.activity(x1, chen, L(2026, 3, 2, 7, 0), kind="call", case=k1)
        work.activity(x1, chen, L(2026, 3, 3, 23, 30), kind="call", case=k1)
        work.activity(x2, chen, L(2026, 3, 5, 15, 0), kind="visit", case=k2)
        work.activity(x2, chen, L(2026, 3, 6, 9, 0), kind="letter")
        work.activity(x1, chen, L(2026, 3, 1, 23, 59), kind="call", case=k1)
        work.activity(x1, chen, L(2026, 3, 9, 0, 30), kind="email", case=k1)
        # lin: a message on X3's case; zhou: nothing in the week, a call in the month.
        work.activity(x3, lin, L(2026, 3, 4, 11, 0), kind="message")
        work.activity(x3, zhou, L(2026, 3, 20, 11, 0), kind="call")

        # Promises recorded by chen: P1 made 2 Mar due 6 Mar (1,000; kept by the receipt of
        # 5 Mar); P2 made 20 Feb due 4 Mar (500; nothing paid 20 Feb–4 Mar: broken); P3 made
        # 6 Mar due 20 Mar (300; made this week, falls due later; kept in March by 20 Mar's
        # receipt). lin: P4 made 4 Mar due 8 Mar on X3 (700; kept by 3 Mar? no — the window
        # starts 4 Mar; X3 paid 700 on 3 Mar only: broken).
        work.promise(x1, chen, 1000, date(2026, 3, 2), date(2026, 3, 6))
        work.promise(x1, chen, 500, date(2026, 2, 20), date(2026, 3, 4))
        work.promise(x2, chen, 300, date(2026, 3, 6), date(2026, 3, 20))
        work.promise(x3, lin, 700, date(2026, 3, 4), date(2026, 3, 8))
        # A cancelled promise counts nowhere.
        work.promise(x1, chen, 999, date(2026, 3, 3), date(2026, 3, 4), cancelled=True)

        # Receipts: X1 5 Mar 1,000 and 8 Mar 200 (in the week), 9 Mar 300 (next week);
        # X2 20 Mar 300; X3 3 Mar 700.
        work.receipt(x1, 1000, date(2026, 3, 5))
        work.receipt(x1, 200, date(2026, 3, 8))
        work.receipt(x1, 300, date(2026, 3, 9))
        work.receipt(x2, 300, date(2026, 3, 20))
        work.receipt(x3, 700, date(2026, 3, 3))
        db.session.commit()
        return {"chen": chen.id, "lin": lin.id, "zhou": zhou.id, "east": east.id, "west": west.id}


def test_weekly_figures(app):
    ids = setup_routine(app)
    with app.app_context():
        report = reports.build_report(WEEK, date(2026, 3, 20))
        rows = {row.key: row for row in report.people}
        chen, lin, zhou = rows[ids["chen"]], rows[ids["lin"]], rows[ids["zhou"]]
        assert report.as_of == date(2026, 3, 9)
        assert chen.contacts == {"call": 2, "visit": 1, "letter": 1}
        assert chen.contacts_total == 4 and chen.cases_worked == 2  # K1 and K2
        assert (chen.promises_made, chen.promised_amount) == (2, Decimal("1300.00"))
        assert (chen.promises_kept, chen.promises_broken) == (1, 1)
        # X1 (1,000 + 200) and X2 (nothing in the week).
        assert chen.recovered == Decimal("1200.00")
        assert lin.contacts == {"message": 1} and lin.cases_worked == 0
        assert (lin.promises_made, lin.promises_kept, lin.promises_broken) == (1, 0, 1)
        # lin holds X3's case (opened 3 Mar): X3's 700 of 3 Mar.
        assert lin.recovered == Decimal("700.00")
        assert zhou.contacts_total == 0 and zhou.recovered == Decimal("700.00")
        assert chen.department == "东区"
        departments = {row.key: row for row in report.departments}
        east, west = departments[ids["east"]], departments[ids["west"]]
        assert east.contacts_total == 5 and east.promises_made == 3
        # East: chen's X1 1,200 + lin's X3 700; west: zhou's X3 700 — X3 once per department.
        assert east.recovered == Decimal("1900.00") and west.recovered == Decimal("700.00")
        total = report.total
        assert total.contacts_total == 5 and total.cases_worked == 2
        assert (total.promises_made, total.promises_kept, total.promises_broken) == (3, 1, 2)
        assert total.recovered == Decimal("1900.00")  # each counterparty once
        # The people with collector roles are listed even with nothing to show (the
        # supervisor too); the executive and finance users are not.
        names = {row.name for row in report.people}
        assert names == {"陈", "林", "周", "主管"}


def test_weekly_promises_are_judged_as_of_today_when_the_week_is_not_over(app):
    ids = setup_routine(app)
    with app.app_context():
        # On Friday 6 March, P2 (due 4 March) is broken, P1 (due 6 March) is kept already,
        # lin's P4 (due Sunday 8 March) is still open.
        report = reports.build_report(WEEK, date(2026, 3, 6))
        rows = {row.key: row for row in report.people}
        assert report.as_of == date(2026, 3, 6)
        assert (rows[ids["chen"]].promises_kept, rows[ids["chen"]].promises_broken) == (1, 1)
        assert rows[ids["lin"]].promises_broken == 0


def set_march_targets(ids):
    """chen 6,000.00 for March, 东区 8,000.00 (targets of their own, recovery.targets)."""
    from recovery.auth.models import User
    from recovery.targets.services import save_target

    executive = db.session.scalar(sa.select(User).where(User.username == "exec"))
    for scope, amount in (
        ({"user_id": ids["chen"]}, "6000"),
        ({"department_id": ids["east"]}, "8000"),
    ):
        save_target(
            actor=executive,
            today=date(2026, 4, 20),
            recovery=amount,
            overdue_reduction="0",
            period_start=MONTH.first,
            period_end=MONTH.last,
            reason="March targets",
            **scope,
        )
    db.session.commit()


def test_monthly_figures(app):
    ids = setup_routine(app)
    with app.app_context():
        set_march_targets(ids)
        report = reports.build_report(MONTH, date(2026, 4, 20))
        rows = {row.key: row for row in report.people}
        chen, lin, zhou = rows[ids["chen"]], rows[ids["lin"]], rows[ids["zhou"]]
        # Cases assigned and open some time in March: chen K1 and K4 (closed 12 March).
        assert (chen.cases, chen.cases_closed) == (2, 1)
        assert (lin.cases, lin.cases_closed) == (1, 0)
        # Contacts in March: the 4 of the week, the call of Sunday 1 March 23:59 and the
        # e-mail of 9 March.
        assert chen.contacts_total == 6
        assert (chen.promises_made, chen.promises_kept, chen.promises_broken) == (2, 2, 1)
        # X1: 1,000 + 200 + 300; X2: 300.
        assert chen.recovered == Decimal("1800.00")
        # March's targets of their own (recovery.targets): chen 6,000; lin none.
        assert chen.target == Decimal("6000.00")
        assert chen.percent_of_target == Decimal("30.0")
        assert lin.target == Decimal("0.00") and lin.percent_of_target is None
        assert zhou.contacts_total == 1 and zhou.recovered == Decimal("700.00")
        departments = {row.key: row for row in report.departments}
        assert departments[ids["east"]].target == Decimal("8000.00")
        assert departments[ids["west"]].target == Decimal("0.00")
        assert report.total.target == Decimal("8000.00")
        assert departments[ids["east"]].recovered == Decimal("2500.00")  # X1, X2, X3
        assert report.total.recovered == Decimal("2500.00")
        assert report.total.cases == 3 and report.total.cases_closed == 1


def test_reports_are_scoped_to_what_the_viewer_may_see(app, client):
    ids = setup_routine(app)
    login(client, "chen")
    html = client.get("/worklist/reports/weekly?week=2026-W10").get_data(as_text=True)
    assert f'data-person="{ids["chen"]}"' in html and f'data-person="{ids["zhou"]}"' not in html
    client.get("/logout")
    other = app.test_client()
    login(other, "boss")  # supervisor of 东区: chen, lin and themself
    html = other.get("/worklist/reports/weekly?week=2026-W10").get_data(as_text=True)
    assert f'data-person="{ids["lin"]}"' in html and f'data-person="{ids["zhou"]}"' not in html
    third = app.test_client()
    login(third, "exec")
    html = third.get("/worklist/reports/monthly?month=2026-03").get_data(as_text=True)
    assert f'data-key="{ids["zhou"]}"' in html
    by_department = third.get("/worklist/reports/monthly?month=2026-03&by=department")
    assert f'data-key="{ids["west"]}"' in by_department.get_data(as_text=True)
    # A period that cannot be read: the current one, with the text kept and a reason.
    bad = third.get("/worklist/reports/weekly?week=soon").get_data(as_text=True)
    assert 'value="soon"' in bad and "is-invalid" in bad


def test_weekly_xlsx(app, client):
    setup_routine(app)
    login(client, "exec")
    response = client.get("/worklist/reports/weekly?week=2026-W10&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "weekly-2026-W10.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) >= {"陈", "林", "周"}
    chen = by_name["陈"]
    recovered_column = next(
        h for h in header if h in ("Recovered", "已清收", "回款", "已回收", "回收金额")
    )
    assert chen[recovered_column] == 1200
    assert list(by_name)[-1] not in ("陈", "林", "周")  # the total row comes last
    assert by_name[list(by_name)[-1]][recovered_column] == 1900


def test_monthly_pdf_has_the_chinese_text(app, client):
    ids = setup_routine(app)
    with app.app_context():
        set_march_targets(ids)
    login(client, "exec")
    response = client.get("/worklist/reports/monthly?month=2026-03&by=department&format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.data, capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "东区" in text and "西区" in text and "2026-03" in text
    assert "2,500.00" in text and "8,000.00" in text
