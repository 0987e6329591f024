"""The report commands' contract (docs/reports.md): exact columns, sorting, the UNAPPLIED row,
"" keys, two-decimal amounts, the three formats, --output, interest rows, bad arguments.

One small ledger, computed by hand, as of 2025-07-01:

ACME 甲公司   INV-001 1000.00 rec 2025-01-01 due 2025-02-01, project P1, East, alice
              INV-002  300.00 rec 2025-06-01 due 2025-07-15, no project/department/person
              receipt 200.00 on 2025-03-01 (names nothing): pays INV-001 -> 800.00 open,
              150 days past due (d91_180); INV-002 not due.
BETA 乙公司   INV-003  200.00 rec 2024-12-01 due 2024-12-31, item rate 3.65 %
              receipt 250.00 on 2025-02-01: pays INV-003, 50.00 unapplied credit.
=EVIL +name   INV-005 1234.50 rec 2022-06-30 due 2022-07-31, project P2, West,
              contract rate 0.05 %/day: 1066 days past due (d731_1095), 3 years old (y3_4).
GAMMA         INV-006  100.00 paid on its due date by a receipt naming it: no row anywhere.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from recovery.auth import services as auth
from recovery.extensions import db
from recovery.parties import services as parties
from recovery.settings.services import update_settings
from tests.ledger.conftest import LedgerBuilder

D = date
AS_OF = "2025-07-01"
DUE_HEADER = (
    "key,name,outstanding,not_due,d1_30,d31_90,d91_180,d181_365,d366_730,d731_1095,"
    "d1096_plus,overdue,unapplied_credit"
)
AGE_HEADER = "key,name,outstanding,y0_1,y1_2,y2_3,y3_4,y4_5,y5_plus,unapplied_credit"
INTEREST_HEADER = "document_no,counterparty_code,outstanding,days_overdue,rate,interest"


@pytest.fixture
def ledger(app, make_user):
    alice = make_user("alice", "sales", display_name="Alice")
    with app.app_context():
        company = auth.create_department("Company", "company", None)
        east = auth.create_department("East", "department", company)
        west = auth.create_department("West", "department", company)
        p1 = parties.save_project(code="P1", name="Project one")
        p2 = parties.save_project(code="P2", name="Project two")
        build = LedgerBuilder()
        acme = build.counterparty("ACME", "甲公司")
        beta = build.counterparty("BETA", "乙公司")
        evil = build.counterparty("=EVIL", "+name")
        gamma = build.counterparty("GAMMA", "丁公司")
        daily = parties.save_contract(
            number="K-1", counterparty_id=evil.id, overdue_rate=Decimal("0.05"), rate_basis="daily"
        )
        build.item(
            acme,
            "1000.00",
            D(2025, 1, 1),
            D(2025, 2, 1),
            "INV-001",
            project_id=p1.id,
            department_id=east.id,
            responsible_id=alice.id,
        )
        build.item(acme, "300.00", D(2025, 6, 1), D(2025, 7, 15), "INV-002")
        build.receipt(acme, "200.00", D(2025, 3, 1))
        build.item(
            beta, "200.00", D(2024, 12, 1), D(2024, 12, 31), "INV-003", overdue_rate=Decimal("3.65")
        )
        build.receipt(beta, "250.00", D(2025, 2, 1))
        build.item(
            evil,
            "1234.50",
            D(2022, 6, 30),
            D(2022, 7, 31),
            "INV-005",
            project_id=p2.id,
            department_id=west.id,
            contract_id=daily.id,
        )
        paid = build.item(gamma, "100.00", D(2025, 1, 1), D(2025, 1, 31), "INV-006")
        build.receipt(gamma, "100.00", D(2025, 1, 31), item=paid)
        db.session.commit()


def lines(result) -> list[str]:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout.split("\n")


def zeros(n):
    return ["0.00"] * n


# ---------------------------------------------------------------------------------------------
# aging, CSV


def test_aging_by_counterparty_due_basis(ledger, report):
    result = report("aging", "--as-of", AS_OF, "--by", "counterparty", "--basis", "due")
    assert result.stdout_bytes[:3] != b"\xef\xbb\xbf"  # no BOM
    assert "\r" not in result.stdout
    assert lines(result) == [
        DUE_HEADER,
        # sorted by the key itself ("=" before "A"); the key and name are neutralised
        "'=EVIL,'+name,1234.50,0.00,0.00,0.00,0.00,0.00,0.00,1234.50,0.00,1234.50,0.00",
        "ACME,甲公司,1100.00,300.00,0.00,0.00,800.00,0.00,0.00,0.00,0.00,800.00,0.00",
        "BETA,乙公司," + ",".join(zeros(10)) + ",50.00",  # credit only: still a row
        "",
    ]


def test_aging_by_counterparty_age_basis(ledger, report):
    result = report("aging", "--as-of", AS_OF, "--basis", "age", "--format", "csv")
    assert lines(result) == [
        AGE_HEADER,
        "'=EVIL,'+name,1234.50,0.00,0.00,0.00,1234.50,0.00,0.00,0.00",
        "ACME,甲公司,1100.00,1100.00,0.00,0.00,0.00,0.00,0.00,0.00",
        "BETA,乙公司,0.00,0.00,0.00,0.00,0.00,0.00,0.00,50.00",
        "",
    ]


def test_aging_by_project_has_an_empty_key_and_the_unapplied_row(ledger, report):
    result = report("aging", "--as-of", AS_OF, "--by", "project", "--basis", "due")
    assert lines(result) == [
        DUE_HEADER,
        ",,300.00,300.00," + ",".join(zeros(9)),  # INV-002 has no project
        "P1,Project one,800.00,0.00,0.00,0.00,800.00,0.00,0.00,0.00,0.00,800.00,0.00",
        "P2,Project two,1234.50,0.00,0.00,0.00,0.00,0.00,0.00,1234.50,0.00,1234.50,0.00",
        "UNAPPLIED,," + ",".join(zeros(10)) + ",50.00",
        "",
    ]


def test_aging_by_department_and_responsible(ledger, report):
    result = report("aging", "--as-of", AS_OF, "--by", "department", "--basis", "age")
    assert lines(result) == [
        AGE_HEADER,
        ",,300.00,300.00,0.00,0.00,0.00,0.00,0.00,0.00",
        "East,East,800.00,800.00,0.00,0.00,0.00,0.00,0.00,0.00",
        # UNAPPLIED is a row like any other: sorted among the keys, before "West"
        "UNAPPLIED,,0.00,0.00,0.00,0.00,0.00,0.00,0.00,50.00",
        "West,West,1234.50,0.00,0.00,0.00,1234.50,0.00,0.00,0.00",
        "",
    ]
    result = report("aging", "--as-of", AS_OF, "--by", "responsible", "--basis", "due")
    assert lines(result) == [
        DUE_HEADER,
        ",,1534.50,300.00,0.00,0.00,0.00,0.00,0.00,1234.50,0.00,1234.50,0.00",
        "UNAPPLIED,," + ",".join(zeros(10)) + ",50.00",  # code-point order: "U" < "a"
        "alice,Alice,800.00,0.00,0.00,0.00,800.00,0.00,0.00,0.00,0.00,800.00,0.00",
        "",
    ]


def test_aging_as_of_a_past_date(ledger, report):
    """As of 2025-01-31 BETA's receipt has not come (it owes 200.00, 31 days late) and ACME's
    receipt neither; INV-002 does not exist yet."""
    result = report("aging", "--as-of", "2025-01-31", "--basis", "due")
    assert lines(result)[1:] == [
        "'=EVIL,'+name,1234.50,0.00,0.00,0.00,0.00,0.00,0.00,1234.50,0.00,1234.50,0.00",
        "ACME,甲公司,1000.00,1000.00," + ",".join(zeros(9)),
        "BETA,乙公司,200.00,0.00,0.00,200.00,0.00,0.00,0.00,0.00,0.00,200.00,0.00",
        "",
    ]
    # Before anything was recognised: the header alone.
    assert lines(report("aging", "--as-of", "2022-06-29")) == [DUE_HEADER, ""]


def test_every_row_sums_its_buckets(ledger, report):
    for basis in ("due", "age"):
        for by in ("counterparty", "project", "department", "responsible"):
            result = report("aging", "--as-of", AS_OF, "--by", by, "--basis", basis)
            for row in csv.DictReader(io.StringIO(result.stdout)):
                amounts = {k: Decimal(v) for k, v in row.items() if k not in ("key", "name")}
                buckets = [v for k, v in amounts.items() if k[0] in "dny"]  # d.., not_due, y..
                assert sum(buckets) == amounts["outstanding"], (by, basis, row)
                if basis == "due":
                    overdue = sum(v for k, v in amounts.items() if k.startswith("d"))
                    assert overdue == amounts["overdue"]


# ---------------------------------------------------------------------------------------------
# aging, JSON and XLSX, --output


def test_aging_json_on_stdout(ledger, report):
    result = report("aging", "--as-of", AS_OF, "--by", "project", "--format", "json")
    records = json.loads(lines(result) and result.stdout)
    assert [r["key"] for r in records] == ["", "P1", "P2", "UNAPPLIED"]
    assert list(records[1]) == DUE_HEADER.split(",")
    assert records[1]["outstanding"] == "800.00"
    assert records[1]["d91_180"] == "800.00"
    assert records[3]["unapplied_credit"] == "50.00"
    assert all(isinstance(v, str) for r in records for v in r.values())


def test_aging_json_keeps_text_as_it_is(ledger, report):
    records = json.loads(report("aging", "--as-of", AS_OF, "--format", "json").stdout)
    assert records[0]["key"] == "=EVIL"  # JSON is no spreadsheet: nothing to neutralise
    assert records[0]["name"] == "+name"
    assert records[1]["name"] == "甲公司"


def test_aging_output_files(ledger, report, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    stdout = report("aging", "--as-of", AS_OF, "--basis", "age").stdout_bytes
    target = tmp_path / "aging.csv"
    result = report("aging", "--as-of", AS_OF, "--basis", "age", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the data went to the file; the note went to stderr
    assert "3 rows" in result.stderr
    assert target.read_bytes() == stdout  # identical to stdout, no BOM

    target = tmp_path / "aging.json"
    result = report("aging", "--as-of", AS_OF, "--format", "json", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert [r["key"] for r in json.loads(target.read_text("utf-8"))] == ["=EVIL", "ACME", "BETA"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aging.csv", "aging.json"]  # no temp


def test_aging_xlsx(ledger, report, tmp_path):
    target = tmp_path / "aging.xlsx"
    result = report(
        "aging", "--as-of", AS_OF, "--by", "project", "--format", "xlsx", "--output", str(target)
    )
    assert result.exit_code == 0, result.output
    workbook = load_workbook(target, read_only=True)
    try:
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    assert rows[0] == DUE_HEADER.split(",")
    assert [row[0] for row in rows[1:]] == [None, "P1", "P2", "UNAPPLIED"]  # "" reads back empty
    p2 = rows[3]
    assert isinstance(p2[2], int | float)  # amounts are numbers in the workbook
    assert Decimal(str(p2[2])).quantize(Decimal("0.01")) == Decimal("1234.50")
    assert Decimal(str(rows[4][-1])) == Decimal("50")


def test_xlsx_neutralises_text(ledger, report, tmp_path):
    target = tmp_path / "aging.xlsx"
    assert (
        report("aging", "--as-of", AS_OF, "--format", "xlsx", "--output", str(target)).exit_code
        == 0
    )
    workbook = load_workbook(target, read_only=True)
    try:
        first = next(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    finally:
        workbook.close()
    assert first[:2] == ("'=EVIL", "'+name")


# ---------------------------------------------------------------------------------------------
# interest


def test_interest_rows(ledger, report):
    """INV-001: 1000.00 for 27 days, then 800.00 for 123 days at 4.65 %/365 -> 15.98.
    INV-003: 200.00 for 31 days at 3.65 % -> 0.62, though nothing is open now.
    INV-005: 1234.50 x 1066 days x 0.05 %/day = 657.9885 -> 657.99.
    INV-006 was paid on its due date; INV-002 is not due: no rows."""
    result = report("interest", "--as-of", AS_OF, "--format", "csv")
    assert result.stdout_bytes[:3] != b"\xef\xbb\xbf"
    assert lines(result) == [
        INTEREST_HEADER,
        "INV-001,ACME,800.00,150,4.65,15.98",
        "INV-003,BETA,0.00,182,3.65,0.62",
        "INV-005,'=EVIL,1234.50,1066,0.05/day,657.99",
        "",
    ]


def test_interest_follows_the_settings(app, ledger, report):
    with app.app_context():
        update_settings(
            {"interest.default_annual_rate": "3.65", "interest.day_count": "actual/360"}
        )
        db.session.commit()
    rows = list(csv.DictReader(io.StringIO(report("interest", "--as-of", AS_OF).stdout)))
    first = rows[0]
    assert (first["document_no"], first["rate"]) == ("INV-001", "3.65")
    # 12,540,000 fen-days x 3.65 % / 360 / 100 = 12.7141... -> 12.71
    assert first["interest"] == "12.71"
    assert rows[1]["interest"] == "0.63"  # 620,000 fen-days x 3.65 % / 360 = 0.6286 -> 0.63


def test_interest_as_of_the_due_date_has_no_rows(ledger, report):
    # As of 2025-02-01 INV-001 is due that day: no interest yet. INV-005 and INV-003 run.
    rows = lines(report("interest", "--as-of", "2025-02-01"))
    assert [r.split(",")[0] for r in rows[1:-1]] == ["INV-003", "INV-005"]
    assert lines(report("interest", "--as-of", "2022-07-31")) == [INTEREST_HEADER, ""]


def test_interest_output_formats(ledger, report, tmp_path):
    target = tmp_path / "interest.xlsx"
    result = report("interest", "--as-of", AS_OF, "--format", "xlsx", "--output", str(target))
    assert result.exit_code == 0, result.output
    workbook = load_workbook(target, read_only=True)
    try:
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    assert rows[0] == INTEREST_HEADER.split(",")
    assert rows[1][:2] == ["INV-001", "ACME"] and rows[1][3] == 150
    records = json.loads(report("interest", "--as-of", AS_OF, "--format", "json").stdout)
    assert records[2] == {
        "document_no": "INV-005",
        "counterparty_code": "=EVIL",
        "outstanding": "1234.50",
        "days_overdue": 1066,
        "rate": "0.05/day",
        "interest": "657.99",
    }


def test_rate_format():
    from recovery.reports.interest import format_rate

    assert format_rate(Decimal("4.65")) == "4.65"
    assert format_rate(Decimal("3.6500")) == "3.65"
    assert format_rate(Decimal("5")) == "5.00"
    assert format_rate(Decimal("100")) == "100.00"
    assert format_rate(Decimal("0.0125")) == "0.0125"
    assert format_rate(Decimal("0")) == "0.00"
    assert format_rate(Decimal("0.0500"), "daily") == "0.05/day"


# ---------------------------------------------------------------------------------------------
# bad arguments


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("aging", "--as-of", "2025-02-30"), "YYYY-MM-DD"),
        (("aging", "--as-of", "01/07/2025"), "YYYY-MM-DD"),
        (("aging", "--as-of", "20250701"), "YYYY-MM-DD"),
        (("aging",), "--as-of"),
        (("aging", "--as-of", AS_OF, "--by", "region"), "region"),
        (("aging", "--as-of", AS_OF, "--basis", "days"), "days"),
        (("aging", "--as-of", AS_OF, "--format", "pdf"), "pdf"),
        (("aging", "--as-of", AS_OF, "--format", "xlsx"), "--output"),
        (("interest", "--as-of", "2025-13-01"), "YYYY-MM-DD"),
        (("interest", "--as-of", AS_OF, "--format", "xlsx"), "--output"),
    ],
)
def test_bad_arguments_are_usage_errors(app, report, args, message):
    result = report(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_output_into_a_missing_folder(app, report, tmp_path):
    result = report("aging", "--as-of", AS_OF, "--output", str(tmp_path / "no" / "a.csv"))
    assert result.exit_code == 1
    assert "No such folder" in result.stderr


def test_empty_ledger_gives_the_header(app, report):
    assert lines(report("aging", "--as-of", AS_OF, "--basis", "age")) == [AGE_HEADER, ""]
    assert json.loads(report("aging", "--as-of", AS_OF, "--format", "json").stdout) == []
    assert lines(report("interest", "--as-of", AS_OF)) == [INTEREST_HEADER, ""]
