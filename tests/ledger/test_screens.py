"""The ledger screens: the list, aging views, counterparty and project pages, the forms, and
who may see what. Data is made through the real services; pages are read as a user reads
them (the figures in the HTML)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc

from recovery.extensions import db
from recovery.ledger import rules, screen_queries
from recovery.ledger import services as ledger
from recovery.ledger.models import Adjustment, Item, Receipt
from recovery.parties import services as parties
from recovery.parties.models import Contact, Contract, Counterparty, Project
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder
from tests.ledger.test_statement import random_ledger

D = date
AS_OF = "2025-06-30"
READERS = ("finance", "supervisor", "legal", "executive")


def ensure_blueprints(app):
    """Register the ledger and parties blueprints when the factory does not (yet)."""
    from recovery.ledger.routes import bp as ledger_bp
    from recovery.parties.routes import bp as parties_bp

    if "ledger" not in app.blueprints:
        app.register_blueprint(ledger_bp, url_prefix="/ledger")
    if "parties" not in app.blueprints:
        app.register_blueprint(parties_bp, url_prefix="/parties")


@pytest.fixture
def app(app):
    ensure_blueprints(app)
    return app


# ---------------------------------------------------------------------------------------------
# Reading pages


def money(text: str) -> Decimal:
    return Decimal(html.unescape(text).strip().replace(",", ""))


def read_testid(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>(?:<a [^>]*>)?([^<]*)<', page)
    assert match, f"no {testid} on the page"
    return match.group(1)


def total_outstanding(page: str) -> Decimal:
    return money(read_testid(page, "total-outstanding"))


def bucket_cells(page: str, table: str) -> dict[str, Decimal]:
    section = page[page.index(f'data-testid="{table}"') :]
    section = section[: section.index("</table>")]
    cells = re.findall(r'data-testid="bucket-(\w+)">(?:<a [^>]*>)?([-\d,.]+)<', section)
    values = {name: money(value) for name, value in cells}
    total = values.pop("total")
    assert sum(values.values()) == total  # the table's own total cell
    return values


def documents(page: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-document="([^"]+)"', page)


def get(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# A small ledger everyone can reason about (as of 30 June 2025)


@dataclass
class World:
    ids: dict
    users: dict


@pytest.fixture
def world(app, make_user):
    """CP-S1 (sales s1, East) and CP-S2 (sales s2, West), CP-X (nobody), CP-Z (only money).

    As of 2025-06-30:
      I1 CP-S1 P1 K1 goods      1000 − R2 200 = 800, due 2025-01-31: 150 days, d91_180
      I2 CP-S1 P1    retention   500,               due 2025-07-15: not due
      I3 CP-S2 P2    deposit    2000,               due 2023-02-01: 880 days, d731_1095
      I4 CP-X        freight     300 − R3 100 = 200, due 2025-06-10: 20 days, d1_30
      I5 CP-S2 P1    progress    800 − R1 800 = 0 (paid)
      CP-Z: receipt R5 75.00 and no items: unapplied credit 75.00
    Outstanding 3,500.00; overdue 3,000.00.
    """
    from recovery.auth import services as auth

    users = {
        name: make_user(name, role)
        for name, role in (
            ("fin1", "finance"),
            ("fin2", "finance"),
            ("s1", "sales"),
            ("s2", "sales"),
        )
    }
    with app.app_context():
        company = auth.create_department("Group", "company", None)
        east = auth.create_department("East", "department", company)
        west = auth.create_department("West", "subsidiary", company)
        db.session.flush()
        b = LedgerBuilder()
        s1, s2 = users["s1"].id, users["s2"].id
        cp1 = b.counterparty("CP-S1", "甲公司", responsible_id=s1, department_id=east.id)
        cp2 = b.counterparty("CP-S2", "乙公司", responsible_id=s2, department_id=west.id)
        cpx = b.counterparty("CP-X", "丙公司")
        cpz = b.counterparty("CP-Z", "丁公司")
        p1 = parties.save_project(code="P1", name="Bridge", department_id=east.id)
        p2 = parties.save_project(code="P2", name="Road", department_id=west.id)
        k1 = parties.save_contract(
            number="K1", counterparty_id=cp1.id, project_id=p1.id, overdue_rate=Decimal("10")
        )
        own1 = {"department_id": east.id, "responsible_id": s1}
        own2 = {"department_id": west.id, "responsible_id": s2}
        i1 = b.item(
            cp1,
            "1000.00",
            D(2025, 1, 1),
            D(2025, 1, 31),
            "I1",
            project_id=p1.id,
            contract_id=k1.id,
            **own1,
        )
        b.item(
            cp1,
            "500.00",
            D(2025, 6, 1),
            D(2025, 7, 15),
            "I2",
            project_id=p1.id,
            item_type="retention",
            **own1,
        )
        i3 = b.item(
            cp2,
            "2000.00",
            D(2023, 1, 1),
            D(2023, 2, 1),
            "I3",
            project_id=p2.id,
            item_type="deposit",
            **own2,
        )
        b.item(cpx, "300.00", D(2025, 5, 1), D(2025, 6, 10), "I4", item_type="freight")
        i5 = b.item(
            cp2,
            "800.00",
            D(2024, 1, 1),
            D(2024, 3, 1),
            "I5",
            project_id=p1.id,
            item_type="progress",
            **own2,
        )
        b.receipt(cp2, "800.00", D(2024, 3, 5), "R1", item=i5)
        b.receipt(cp1, "200.00", D(2025, 3, 1), "R2")
        b.receipt(cpx, "100.00", D(2025, 4, 1), "R3")
        b.receipt(cpz, "75.00", D(2025, 5, 5), "R5")
        db.session.commit()
        ids = {
            "CP-S1": cp1.id,
            "CP-S2": cp2.id,
            "CP-X": cpx.id,
            "CP-Z": cpz.id,
            "P1": p1.id,
            "P2": p2.id,
            "K1": k1.id,
            "East": east.id,
            "West": west.id,
            "I1": i1.id,
            "I3": i3.id,
            "I5": i5.id,
        }
    return World(ids, users)


def sign_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


# ---------------------------------------------------------------------------------------------
# Every screen, every reading role


@pytest.mark.parametrize("role", READERS)
def test_every_screen_renders_for_each_reading_role(app, world, make_user, role):
    make_user(f"r-{role}", role)
    client = sign_in(app, f"r-{role}")
    page = get(client, f"/ledger/?as_of={AS_OF}")
    assert sorted(documents(page)) == ["I1", "I2", "I3", "I4"]
    assert total_outstanding(page) == Decimal("3500.00")
    page = get(client, f"/ledger/?as_of={AS_OF}&show=all")
    assert sorted(documents(page)) == ["I1", "I2", "I3", "I4", "I5"]
    for by in ("counterparty", "project", "department", "responsible"):
        for basis in ("due", "age"):
            page = get(client, f"/ledger/aging?as_of={AS_OF}&by={by}&basis={basis}")
            assert 'data-key="TOTAL"' in page
    cp = world.ids["CP-S1"]
    page = get(client, f"/parties/counterparties/{cp}?as_of={AS_OF}")
    assert money(read_testid(page, "total-outstanding")) == Decimal("1300.00")
    page = get(client, f"/parties/projects/{world.ids['P1']}?as_of={AS_OF}")
    assert sorted(documents(page)) == ["I1", "I2"]
    assert total_outstanding(page) == Decimal("1300.00")
    page = get(client, f"/parties/counterparties?as_of={AS_OF}")
    assert all(code in page for code in ("CP-S1", "CP-S2", "CP-X", "CP-Z"))
    get(client, f"/parties/projects?as_of={AS_OF}")
    get(client, f"/ledger/items/{world.ids['I1']}?as_of={AS_OF}")
    get(client, "/ledger/adjustments")
    # Reading roles other than finance see no write buttons and may not open the forms.
    if role != "finance":
        assert "/ledger/items/new" not in get(client, "/ledger/")
        assert client.get("/ledger/items/new").status_code == 403
        assert client.post("/parties/counterparties/new", data={}).status_code == 403


def test_the_administrator_runs_the_system_not_the_ledger(app, world, client, login_as):
    login_as("admin")
    for url in (
        "/ledger/",
        "/ledger/aging",
        "/parties/counterparties",
        f"/parties/counterparties/{world.ids['CP-S1']}",
    ):
        assert client.get(url).status_code == 403, url


def test_finance_home_shows_the_ledger_summary(app, world):
    client = sign_in(app, "fin1")
    page = get(client, "/home/finance")
    assert 'data-testid="home-heading"' in page
    assert 'data-testid="due-buckets"' in page
    assert 'data-nav="ledger.index"' in page


# ---------------------------------------------------------------------------------------------
# Filters and totals


@pytest.mark.parametrize(
    ("query", "expected", "outstanding"),
    [
        ("counterparty=CP-S1", ["I1", "I2"], "1300.00"),
        ("project=P1", ["I1", "I2"], "1300.00"),
        ("project=P1&show=all", ["I1", "I2", "I5"], "1300.00"),
        ("contract=K1", ["I1"], "800.00"),
        ("item_type=deposit", ["I3"], "2000.00"),
        ("category=other_receivable", ["I3"], "2000.00"),
        ("overdue_only=1", ["I1", "I3", "I4"], "3000.00"),
        ("bucket=d91_180", ["I1"], "800.00"),
        ("bucket=not_due", ["I2"], "500.00"),
        ("bucket=y2_3", ["I3"], "2000.00"),
        ("no_project=1", ["I4"], "200.00"),
        ("no_department=1", ["I4"], "200.00"),
        ("no_responsible=1", ["I4"], "200.00"),
        ("counterparty=NOPE", [], "0.00"),
        ("bucket=bogus", ["I1", "I2", "I3", "I4"], "3500.00"),
    ],
)
def test_filters_and_their_totals(app, world, query, expected, outstanding):
    client = sign_in(app, "fin1")
    page = get(client, f"/ledger/?as_of={AS_OF}&{query}")
    assert sorted(documents(page)) == expected
    assert total_outstanding(page) == Decimal(outstanding)
    assert sum(bucket_cells(page, "due-buckets").values()) == Decimal(outstanding)
    assert sum(bucket_cells(page, "age-buckets").values()) == Decimal(outstanding)


def test_filters_by_department_and_responsible_id(app, world):
    client = sign_in(app, "fin1")
    page = get(client, f"/ledger/?as_of={AS_OF}&department_id={world.ids['East']}")
    assert sorted(documents(page)) == ["I1", "I2"]
    page = get(client, f"/ledger/?as_of={AS_OF}&responsible_id={world.users['s2'].id}")
    assert sorted(documents(page)) == ["I3"]
    page = get(client, f"/ledger/?as_of={AS_OF}&counterparty_id={world.ids['CP-Z']}")
    assert documents(page) == []
    assert money(read_testid(page, "unapplied-credit")) == Decimal("75.00")


def test_as_of_date_changes_every_figure(app, world):
    client = sign_in(app, "fin1")
    page = get(client, "/ledger/?as_of=2025-02-15")  # before R2, I2 and I4 exist
    assert sorted(documents(page)) == ["I1", "I3"]
    assert total_outstanding(page) == Decimal("3000.00")
    page = get(client, "/ledger/?as_of=not-a-date")
    assert "is-invalid" in page and "not-a-date" in page


def test_bucket_labels_and_amount_format(app, world):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    page = get(client, f"/ledger/?as_of={AS_OF}")
    assert "Over 1095 days" in page and "1–30 days" in page and "Within 1 year" in page
    assert "3,500.00" in page and "2,000.00" in page


@pytest.mark.parametrize("seed", [11, 12])
def test_totals_are_the_sum_of_the_buckets_on_a_random_ledger(app, seed):
    with app.app_context():
        random_ledger(LedgerBuilder(), seed, counterparties=5, items=70, receipts=40)
        codes = [c for (c,) in db.session.execute(sa.select(Counterparty.code))]
    from recovery.auth import services as auth

    with app.app_context():
        auth.create_user("fin", "correct-horse-9", ("finance",))
        db.session.commit()
    client = sign_in(app, "fin")
    for as_of in ("2022-03-01", "2023-07-15", "2024-12-31", "2026-01-01"):
        for query in (
            "",
            "overdue_only=1",
            f"counterparty={codes[0]}",
            "bucket=d1_30",
            "bucket=y1_2",
            "item_type=goods",
            "show=all",
        ):
            page = get(client, f"/ledger/?as_of={as_of}&{query}")
            total = total_outstanding(page)
            assert sum(bucket_cells(page, "due-buckets").values()) == total, (as_of, query)
            assert sum(bucket_cells(page, "age-buckets").values()) == total, (as_of, query)
            # The rows add up to the total too (every page of the list).
            seen, number = Decimal("0.00"), 1
            while True:
                rows = get(client, f"/ledger/?as_of={as_of}&{query}&page={number}")
                values = re.findall(r'data-testid="outstanding">([-\d,.]+)<', rows)
                seen += sum((money(v) for v in values), Decimal("0.00"))
                if f"page={number + 1}" not in rows:
                    break
                number += 1
            assert seen == total, (as_of, query)


# ---------------------------------------------------------------------------------------------
# Sorting and paging


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("amount", "asc", ["I4", "I2", "I1", "I3"]),  # outstanding 200, 500, 800, 2000 …
        ("amount", "desc", ["I3", "I1", "I2", "I4"]),  # … amounts 300, 500, 1000, 2000
        ("outstanding", "desc", ["I3", "I1", "I2", "I4"]),
        ("due_on", "asc", ["I3", "I1", "I4", "I2"]),
        ("recognized_on", "desc", ["I2", "I4", "I1", "I3"]),
        ("document_no", "desc", ["I4", "I3", "I2", "I1"]),
        ("counterparty", "asc", ["I1", "I2", "I3", "I4"]),
        ("days_overdue", "desc", ["I3", "I1", "I4", "I2"]),
        # Not on the whitelist: the default (due date, ascending), never an error.
        ("amount;drop table items", "asc", ["I3", "I1", "I4", "I2"]),
        ("__class__", "desc", ["I3", "I1", "I4", "I2"]),
        ("amount", "sideways", ["I4", "I2", "I1", "I3"]),
    ],
)
def test_sort_whitelist(app, world, sort, direction, expected):
    client = sign_in(app, "fin1")
    page = get(client, f"/ledger/?as_of={AS_OF}&sort={sort}&dir={direction}")
    assert documents(page) == expected


def test_pagination_counts_in_sql_and_keeps_the_filters(app, world):
    with app.app_context():
        b = LedgerBuilder()
        many = b.counterparty("MANY")
        for n in range(55):
            b.item(many, f"{n + 1}.00", D(2025, 1, 1), D(2025, 2, 1), f"M{n:03d}")
        db.session.commit()
    client = sign_in(app, "fin1")
    first = get(client, f"/ledger/?as_of={AS_OF}&counterparty=MANY&sort=document_no")
    assert len(documents(first)) == 50
    assert read_testid(first, "total-count").startswith("55")
    match = re.search(r'href="([^"]*page=2[^"]*)"', first)
    second = get(client, html.unescape(match.group(1)))
    assert documents(second) == [f"M{n:03d}" for n in range(50, 55)]
    assert total_outstanding(second) == total_outstanding(first) == Decimal(55 * 56 / 2)
    assert documents(get(client, "/ledger/?counterparty=MANY&page=99")) == []
    assert documents(get(client, "/ledger/?counterparty=MANY&page=x"))


# ---------------------------------------------------------------------------------------------
# Aging and drill-down


def drill_links(page: str) -> list[tuple[str, Decimal]]:
    table = page[page.index('data-testid="aging-table"') :]
    table = table[: table.index("</table>")]
    links = re.findall(r'<a href="(/ledger/\?[^"]+)">([-\d,]+\.\d\d)</a>', table)
    return [(html.unescape(url), money(value)) for url, value in links]


@pytest.mark.parametrize("by", ["counterparty", "project", "department", "responsible"])
@pytest.mark.parametrize("basis", ["due", "age"])
def test_every_aging_figure_drills_down_to_items_adding_up_to_it(app, world, by, basis):
    client = sign_in(app, "fin1")
    page = get(client, f"/ledger/aging?as_of={AS_OF}&by={by}&basis={basis}")
    links = drill_links(page)
    assert links
    for url, value in links:
        assert total_outstanding(get(client, url)) == value, url
    # The totals row: outstanding = sum of the buckets, and it drills down too.
    totals = page[page.index('data-key="TOTAL"') :]
    totals = totals[: totals.index("</tr>")]
    cells = re.findall(r'data-testid="(\w+)">(?:<a [^>]*>)?([-\d,.]+)<', totals)
    values = {name: money(v) for name, v in cells}
    buckets = rules.DUE_BUCKETS if basis == "due" else rules.AGE_BUCKETS
    assert values["outstanding"] == sum(values[b] for b in buckets) == Decimal("3500.00")
    assert values["unapplied_credit"] == Decimal("75.00")
    # The same figures as the SQL totals of the whole ledger.
    with app.app_context():
        sql = screen_queries.totals(date.fromisoformat(AS_OF))
    assert values["outstanding"] == sql.outstanding
    for bucket in buckets:
        assert values[bucket] == (sql.due if basis == "due" else sql.age)[bucket]
    if basis == "due":
        assert values["overdue"] == sql.overdue


def test_unapplied_credit_row_is_explained(app, world):
    client = sign_in(app, "fin1")
    page = get(client, f"/ledger/aging?as_of={AS_OF}&by=project")
    assert 'data-key="UNAPPLIED"' in page
    client.post("/language", data={"language": "en"})
    page = get(client, f"/ledger/aging?as_of={AS_OF}&by=department")
    row = page[page.index('data-key="UNAPPLIED"') :]
    assert "not applied to any item" in row[: row.index("</tr>")]
    by_cp = get(client, f"/ledger/aging?as_of={AS_OF}&by=counterparty")
    assert 'data-key="UNAPPLIED"' not in by_cp
    assert 'data-key="CP-Z"' in by_cp


def test_aging_with_odd_arguments_falls_back(app, world):
    client = sign_in(app, "fin1")
    page = get(client, "/ledger/aging?by=planet&basis=moon&page=-3&as_of=2025-02-30")
    assert 'data-key="TOTAL"' in page and "is-invalid" in page


# ---------------------------------------------------------------------------------------------
# Sales see their own accounts only


def test_sales_see_only_their_own_accounts(app, world):
    client = sign_in(app, "s1")
    page = get(client, f"/ledger/?as_of={AS_OF}")
    assert sorted(documents(page)) == ["I1", "I2"]
    assert total_outstanding(page) == Decimal("1300.00")
    # Asking for another's counterparty by filter shows nothing of it.
    page = get(client, f"/ledger/?as_of={AS_OF}&counterparty_id={world.ids['CP-S2']}")
    assert documents(page) == [] and 'data-testid="unapplied-credit"' not in page
    get(client, f"/parties/counterparties/{world.ids['CP-S1']}?as_of={AS_OF}")
    # Another's counterparty, item or project: 404, as if it did not exist.
    get(client, f"/parties/counterparties/{world.ids['CP-S2']}", status=404)
    get(client, f"/parties/counterparties/{world.ids['CP-X']}", status=404)
    get(client, f"/ledger/items/{world.ids['I3']}", status=404)
    get(client, f"/parties/projects/{world.ids['P2']}", status=404)
    page = get(client, f"/parties/projects/{world.ids['P1']}?as_of={AS_OF}&show=all")
    assert sorted(documents(page)) == ["I1", "I2"]  # not I5 of CP-S2
    page = get(client, f"/ledger/aging?as_of={AS_OF}")
    assert re.findall(r'<tr[^>]*data-key="([^"]+)"', page) == ["CP-S1", "TOTAL"]
    page = get(client, "/parties/counterparties")
    assert "CP-S1" in page and "CP-S2" not in page and "CP-Z" not in page
    page = get(client, "/home/sales")
    assert "CP-S1" in page and "CP-S2" not in page
    # And they write nothing.
    assert client.get("/ledger/items/new").status_code == 403
    assert client.post(f"/ledger/items/{world.ids['I1']}/edit", data={}).status_code == 403
    assert client.get("/parties/projects").status_code == 403


def test_a_sales_user_responsible_for_one_item_sees_that_counterparty(app, world):
    with app.app_context():
        ledger.create_item(
            document_no="I9",
            counterparty_id=world.ids["CP-X"],
            item_type="goods",
            amount=Decimal("10.00"),
            recognized_on=D(2025, 6, 1),
            due_on=D(2025, 6, 2),
            responsible_id=world.users["s2"].id,
        )
        db.session.commit()
    client = sign_in(app, "s2")
    get(client, f"/parties/counterparties/{world.ids['CP-X']}")
    page = get(client, f"/ledger/?as_of={AS_OF}")
    assert sorted(documents(page)) == ["I3", "I9"]


# ---------------------------------------------------------------------------------------------
# Forms: items


ITEM = {
    "document_no": "N1",
    "counterparty_code": "CP-S1",
    "project_code": "",
    "contract_no": "K1",
    "item_type": "goods",
    "amount": "12,345.60",
    "recognized_on": "2025-06-01",
    "due_on": "2025-06-30",
    "department_id": "",
    "responsible_id": "",
    "overdue_rate": "",
    "description": "",
}


def test_finance_adds_an_item_with_defaults_from_the_counterparty_and_contract(app, world):
    client = sign_in(app, "fin1")
    response = client.post("/ledger/items/new", data=ITEM)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(sa.select(Item).where(Item.document_no == "N1"))
        assert item.amount == Decimal("12345.60")
        assert item.project_id == world.ids["P1"]  # from the contract
        assert item.department_id == world.ids["East"]  # from the counterparty
        assert item.responsible_id == world.users["s1"].id
        assert item.category == "accounts_receivable"
    page = get(client, response.headers["Location"])
    assert "12,345.60" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "12.345", "At most two decimals"),
        ("amount", "-5", "cannot be negative"),
        ("amount", "0", "cannot be zero"),
        ("amount", "abc", "Not an amount"),
        ("amount", "", "Enter an amount"),
        ("amount", "99999999999999", "too large"),
        ("recognized_on", "2025-02-30", "Not a date"),
        ("due_on", "", "Enter a date"),
        ("due_on", "2025-05-01", "before the recognition date"),
        ("counterparty_code", "NOPE", "No counterparty has this code"),
        ("contract_no", "K-NONE", "No contract has this number"),
        ("project_code", "NOPE", "No project has this code"),
        ("document_no", "I1", "This document number exists"),
        ("overdue_rate", "101", "between 0 and 100"),
        ("overdue_rate", "abc", "Not a rate"),
    ],
)
def test_item_form_refuses_bad_input_beside_the_field(app, world, field, value, message):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    response = client.post("/ledger/items/new", data={**ITEM, field: value})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The reason is beside the field (its invalid-feedback), and what was typed is kept.
    block = page[page.index(f'id="{field}"') :]
    block = block[: block.index("</div>")]
    assert (
        "is-invalid" in page[page.index(f'id="{field}"') - 200 : page.index(f'id="{field}"') + 200]
    )
    assert message in html.unescape(page), page
    assert f'value="{html.escape(value)}"' in page or field in ("item_type",)
    del block
    with app.app_context():
        assert db.session.scalar(sa.select(Item).where(Item.document_no == "N1")) is None


def test_every_mistake_is_shown_at_once(app, world):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    data = {**ITEM, "counterparty_code": "NOPE", "amount": "12.345", "due_on": "2025-05-01"}
    page = html.unescape(client.post("/ledger/items/new", data=data).get_data(as_text=True))
    assert "No counterparty has this code." in page
    assert "At most two decimals" in page
    assert "The due date is before the recognition date." in page


def test_contract_of_another_counterparty_is_refused(app, world):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    page = client.post("/ledger/items/new", data={**ITEM, "counterparty_code": "CP-S2"}).get_data(
        as_text=True
    )
    assert "This contract is with another counterparty." in page


def test_finance_corrects_an_item_and_the_allocation_follows(app, world):
    client = sign_in(app, "fin1")
    item_id = world.ids["I1"]
    page = get(client, f"/ledger/items/{item_id}/edit")
    assert 'value="1000.00"' in page and 'value="CP-S1"' in page
    data = {
        **ITEM,
        "document_no": "I1",
        "contract_no": "K1",
        "amount": "150.00",
        "recognized_on": "2025-01-01",
        "due_on": "2025-01-31",
    }
    response = client.post(f"/ledger/items/{item_id}/edit", data=data)
    assert response.status_code == 302
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item.amount == Decimal("150.00")
        # R2 (200) pays the 150 and 50 goes on to I2 (the only other open item).
        assert item.open_amount == Decimal("0.00")


# ---------------------------------------------------------------------------------------------
# Forms: receipts


RECEIPT = {
    "receipt_no": "RN1",
    "counterparty_code": "CP-S1",
    "amount": "300.00",
    "received_on": "2025-06-15",
    "method": "acceptance_bill",
    "reference": "bill 123",
    "item_document_no": "I2",
}


def test_finance_records_a_receipt_naming_an_item(app, world):
    client = sign_in(app, "fin1")
    response = client.post("/ledger/receipts/new", data=RECEIPT)
    assert response.status_code == 302
    page = get(client, response.headers["Location"] + f"?as_of={AS_OF}")
    assert 'data-receipt="RN1"' in page
    with app.app_context():
        receipt = db.session.scalar(sa.select(Receipt).where(Receipt.receipt_no == "RN1"))
        assert receipt.method == "acceptance_bill"
        assert receipt.item.document_no == "I2"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("item_document_no", "I3", "The item belongs to another counterparty."),
        ("item_document_no", "NOPE", "No item has this document number."),
        ("amount", "1.001", "At most two decimals"),
        ("amount", "-1", "cannot be negative"),
        ("received_on", "31/12/2025", "Not a date"),
        ("receipt_no", "R1", "This document number exists."),
        ("counterparty_code", "", "This field is required."),
    ],
)
def test_receipt_form_refuses_bad_input(app, world, field, value, message):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    response = client.post("/ledger/receipts/new", data={**RECEIPT, field: value})
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(Receipt).where(Receipt.receipt_no == "RN1")) is None


def test_finance_corrects_a_receipt(app, world):
    client = sign_in(app, "fin1")
    with app.app_context():
        receipt_id = db.session.scalar(sa.select(Receipt.id).where(Receipt.receipt_no == "R2"))
    page = get(client, f"/ledger/receipts/{receipt_id}/edit")
    assert 'value="200.00"' in page
    data = {
        **RECEIPT,
        "receipt_no": "R2",
        "amount": "1000.00",
        "received_on": "2025-03-01",
        "item_document_no": "",
    }
    assert client.post(f"/ledger/receipts/{receipt_id}/edit", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Item, world.ids["I1"]).open_amount == Decimal("0.00")


# ---------------------------------------------------------------------------------------------
# Forms: credit notes and write-offs, approved by another finance user


def test_write_off_is_proposed_and_approved_by_someone_else(app, world):
    fin1 = sign_in(app, "fin1")
    fin1.post("/language", data={"language": "en"})
    item_id = world.ids["I1"]
    data = {
        "kind": "write_off",
        "number": "W1",
        "amount": "300.00",
        "dated_on": "2025-06-01",
        "reason": "debtor dissolved",
    }
    assert fin1.post(f"/ledger/items/{item_id}/adjustments/new", data=data).status_code == 302
    with app.app_context():
        adjustment = db.session.scalar(sa.select(Adjustment).where(Adjustment.number == "W1"))
        adjustment_id = adjustment.id
    # Shown as pending on the counterparty page and the ledger.
    page = get(fin1, f"/parties/counterparties/{world.ids['CP-S1']}")
    assert 'data-adjustment="W1"' in page
    assert 'data-testid="pending-adjustments"' in get(fin1, "/ledger/")
    # The proposer may not approve it.
    response = fin1.post(
        f"/ledger/adjustments/{adjustment_id}/decide",
        data={"approve": "1"},
        follow_redirects=True,
    )
    assert "Nobody approves their own proposal." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Adjustment, adjustment_id).status == "proposed"
    # Another finance user approves it: outstanding drops as of its date, not before.
    fin2 = sign_in(app, "fin2")
    response = fin2.post(
        f"/ledger/adjustments/{adjustment_id}/decide",
        data={"approve": "1", "note": "checked", "next": f"/ledger/items/{item_id}"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/ledger/items/{item_id}"
    )
    with app.app_context():
        adjustment = db.session.get(Adjustment, adjustment_id)
        assert (adjustment.status, adjustment.decision_note) == ("approved", "checked")
    page = get(fin2, f"/ledger/items/{item_id}?as_of={AS_OF}")
    assert money(read_testid(page, "outstanding")) == Decimal("500.00")
    page = get(fin2, f"/ledger/items/{item_id}?as_of=2025-05-31")
    assert money(read_testid(page, "outstanding")) == Decimal("800.00")


def test_rejecting_a_credit_note_changes_nothing(app, world):
    fin1, fin2 = sign_in(app, "fin1"), sign_in(app, "fin2")
    item_id = world.ids["I1"]
    data = {
        "kind": "credit_note",
        "number": "CN9",
        "amount": "100",
        "dated_on": "2025-06-01",
        "reason": "discount",
    }
    assert fin1.post(f"/ledger/items/{item_id}/adjustments/new", data=data).status_code == 302
    with app.app_context():
        adjustment_id = db.session.scalar(sa.select(Adjustment.id))
    fin2.post(f"/ledger/adjustments/{adjustment_id}/decide", data={"reject": "1", "note": "no"})
    with app.app_context():
        assert db.session.get(Adjustment, adjustment_id).status == "rejected"
        assert db.session.get(Item, item_id).open_amount == Decimal("800.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "900.00", "Only 800.00 of this item is open"),
        ("amount", "0.001", "At most two decimals"),
        ("dated_on", "2024-12-31", "before the item was recognised"),
        ("reason", "", "This field is required."),
        ("number", "", "This field is required."),
    ],
)
def test_adjustment_form_refuses_bad_input(app, world, field, value, message):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    data = {
        "kind": "write_off",
        "number": "W1",
        "amount": "300.00",
        "dated_on": "2025-06-01",
        "reason": "gone",
        field: value,
    }
    response = client.post(f"/ledger/items/{world.ids['I1']}/adjustments/new", data=data)
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Adjustment)) == 0


# ---------------------------------------------------------------------------------------------
# Forms: counterparties, contacts, projects, contracts


def valid_credit_code() -> str:
    body = "91110108MA01ABCDE"  # 17 characters; the check character is computed
    return body + uscc.calc_check_digit(body)


COUNTERPARTY = {
    "code": "NEW1",
    "name": "新公司",
    "kind": "dealer",
    "credit_code": "",
    "credit_limit": "500,000",
    "financial_status": "good",
    "business_status": "normal",
    "department_id": "",
    "responsible_id": "",
    "active": "y",
}


def test_counterparty_form_checks_the_credit_code(app, world):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    code = valid_credit_code()
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = client.post("/parties/counterparties/new", data={**COUNTERPARTY, "credit_code": bad})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Not a valid unified social credit code" in page
    assert f'value="{bad}"' in page
    response = client.post(
        "/parties/counterparties/new", data={**COUNTERPARTY, "credit_code": code}
    )
    assert response.status_code == 302
    with app.app_context():
        counterparty = db.session.scalar(sa.select(Counterparty).where(Counterparty.code == "NEW1"))
        assert counterparty.credit_code == code
        assert counterparty.credit_limit == Decimal("500000.00")
        assert counterparty.kind == "dealer"
    # The same code twice is refused beside the code.
    response = client.post("/parties/counterparties/new", data={**COUNTERPARTY, "credit_code": ""})
    assert "This code is already used." in response.get_data(as_text=True)
    response = client.post(
        "/parties/counterparties/new",
        data={**COUNTERPARTY, "code": "NEW2", "credit_limit": "-1"},
    )
    assert "The amount cannot be negative." in response.get_data(as_text=True)


def test_counterparty_edit_contacts_projects_and_contracts(app, world):
    client = sign_in(app, "fin1")
    client.post("/language", data={"language": "en"})
    cp = world.ids["CP-X"]
    page = get(client, f"/parties/counterparties/{cp}/edit")
    assert 'value="CP-X"' in page
    response = client.post(
        f"/parties/counterparties/{cp}/edit",
        data={**COUNTERPARTY, "code": "CP-X", "name": "丙公司（新）", "financial_status": "poor"},
    )
    assert response.status_code == 302
    # Contacts.
    response = client.post(
        f"/parties/counterparties/{cp}/contacts/new",
        data={
            "name": "王经理",
            "title": "财务",
            "phone": "010-1234",
            "email": "bad",
            "active": "y",
        },
    )
    assert "Invalid email address." in response.get_data(as_text=True)
    response = client.post(
        f"/parties/counterparties/{cp}/contacts/new",
        data={"name": "王经理", "phone": "010-1234", "is_primary": "y", "active": "y"},
    )
    assert response.status_code == 302
    with app.app_context():
        contact = db.session.scalar(sa.select(Contact))
        contact_id = contact.id
    assert (
        client.post(
            f"/parties/contacts/{contact_id}/edit", data={"name": "王总", "active": "y"}
        ).status_code
        == 302
    )
    page = get(client, f"/parties/counterparties/{cp}")
    assert "王总" in page and "丙公司（新）" in page
    # Projects.
    response = client.post(
        "/parties/projects/new",
        data={
            "code": "P1",
            "name": "dup",
            "employer_code": "",
            "department_id": "",
            "prospects": "good",
            "active": "y",
        },
    )
    assert "This code is already used." in response.get_data(as_text=True)
    response = client.post(
        "/parties/projects/new",
        data={
            "code": "P9",
            "name": "Tunnel",
            "employer_code": "NOPE",
            "department_id": "",
            "prospects": "poor",
            "active": "y",
        },
    )
    assert "No counterparty has this code." in response.get_data(as_text=True)
    response = client.post(
        "/parties/projects/new",
        data={
            "code": "P9",
            "name": "Tunnel",
            "employer_code": "CP-X",
            "department_id": "",
            "prospects": "poor",
            "active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        project = db.session.scalar(sa.select(Project).where(Project.code == "P9"))
        assert project.employer_id == cp and project.prospects == "poor"
        project_id = project.id
    get(client, f"/parties/projects/{project_id}/edit")
    # Contracts.
    contract = {
        "number": "K9",
        "counterparty_code": "CP-X",
        "project_code": "P9",
        "signed_on": "2025-01-10",
        "amount": "1,000,000",
        "overdue_rate": "0.05",
        "rate_basis": "daily",
        "reviewed": "",
        "signer_id": str(world.users["s2"].id),
    }
    response = client.post("/parties/contracts/new", data={**contract, "overdue_rate": "150"})
    assert "between 0 and 100" in response.get_data(as_text=True)
    response = client.post("/parties/contracts/new", data={**contract, "signed_on": "10.1.2025"})
    assert "Not a date" in response.get_data(as_text=True)
    assert client.post("/parties/contracts/new", data=contract).status_code == 302
    with app.app_context():
        saved = db.session.scalar(sa.select(Contract).where(Contract.number == "K9"))
        assert (saved.overdue_rate, saved.rate_basis, saved.reviewed) == (
            Decimal("0.05"),
            "daily",
            False,
        )
        assert saved.signer_id == world.users["s2"].id
        contract_id = saved.id
    page = get(client, f"/parties/counterparties/{cp}")
    assert "K9" in page and "responsible for life" in page
    get(client, f"/parties/contracts/{contract_id}/edit")


# ---------------------------------------------------------------------------------------------
# The counterparty page shows the statement's figures


def test_counterparty_page_shows_the_statement(app, world):
    client = sign_in(app, "fin1")
    page = get(client, f"/parties/counterparties/{world.ids['CP-S1']}?as_of={AS_OF}")
    figures = {
        key: money(read_testid(page, f"total-{key}"))
        for key in ("amount", "applied", "outstanding", "overdue", "received", "unapplied_credit")
    }
    assert figures == {
        "amount": Decimal("1500.00"),
        "applied": Decimal("200.00"),
        "outstanding": Decimal("1300.00"),
        "overdue": Decimal("800.00"),
        "received": Decimal("200.00"),
        "unapplied_credit": Decimal("0.00"),
    }
    # I1 at the contract's 10 %: 1000×28 (1–28 Feb) + 800×122 (1 Mar–30 Jun) = 125,600
    # yuan-days × 10 % / 365 = 34.41.
    assert money(read_testid(page, "total-interest")) == Decimal("34.41")
    due = bucket_cells(page, "due-buckets")
    assert due["d91_180"] == Decimal("800.00") and due["not_due"] == Decimal("500.00")
    assert sum(due.values()) == Decimal("1300.00")
    with app.app_context():
        statement_screen = screen_queries.totals(
            date.fromisoformat(AS_OF),
            screen_queries.ScreenFilter(counterparty_id=world.ids["CP-S1"]),
        )
    assert statement_screen.outstanding == Decimal("1300.00")


def test_forms_carry_their_csrf_token(app, world):
    """With CSRF on (as in production), the pages' own forms are accepted and a POST
    without the token is refused."""
    fin1, fin2 = sign_in(app, "fin1"), sign_in(app, "fin2")
    app.config["WTF_CSRF_ENABLED"] = True
    item_id = world.ids["I1"]
    page = get(fin1, f"/ledger/items/{item_id}/adjustments/new")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "kind": "write_off",
        "number": "W7",
        "amount": "10.00",
        "dated_on": "2025-06-01",
        "reason": "gone",
    }
    url = f"/ledger/items/{item_id}/adjustments/new"
    assert fin1.post(url, data=data).status_code == 400
    assert fin1.post(url, data={**data, "csrf_token": token}).status_code == 302
    page = get(fin2, f"/ledger/items/{item_id}")
    form = re.search(
        r'<form [^>]*action="([^"]+)" data-testid="decide-\d+">(.*?)</form>', page, re.S
    )
    action, inside = html.unescape(form.group(1)), form.group(2)
    token = re.search(r'name="csrf_token" value="([^"]+)"', inside).group(1)
    response = fin2.post(action, data={"csrf_token": token, "approve": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Adjustment.status)) == "approved"
