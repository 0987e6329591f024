"""flask --app recovery report limitation: the exact columns, the sorting, negative days_left,
the payment interruption, --output, bad arguments."""

from __future__ import annotations

import json
from datetime import date

from recovery.extensions import db

AS_OF = "2024-01-01"
HEADER = (
    "document_no,counterparty_code,outstanding,expires_on,days_left,"
    "last_interruption_on,last_interruption_kind"
)


def build(lim):
    acme = lim.counterparty("ACME")
    evil = lim.counterparty("=EVIL")
    # Ends Sunday 18 February 2024 (Spring Festival make-up day): 48 days left.
    lim.item(acme, 500, date(2021, 1, 1), date(2021, 2, 12), document_no="SPRING")
    # Ended 15 March 2023: expired, negative days left.
    lim.item(acme, 1234.5, date(2020, 1, 1), date(2020, 3, 15), document_no="OLD")
    # Two items ending the same day, sorted by document number.
    lim.item(evil, 10, date(2021, 1, 1), date(2021, 2, 12), document_no="B-2")
    lim.item(acme, 20, date(2021, 1, 1), date(2021, 2, 12), document_no="A-1")
    # Paid in part after its due date: interrupted on 7 June 2022, ends 9 June 2025.
    paid = lim.item(acme, 1000, date(2021, 1, 4), date(2021, 3, 15), document_no="PAID")
    lim.receipt(acme, 100, date(2022, 6, 7), item=paid)
    # Far away: ends in 2026.
    lim.item(acme, 1, date(2023, 1, 1), date(2023, 6, 1), document_no="LATER")
    db.session.commit()


def report(runner, *extra):
    return runner.invoke(
        args=["report", "limitation", "--as-of", AS_OF, "--within", *extra],
        catch_exceptions=False,
    )


def test_columns_sorting_and_negative_days(lim, runner):
    build(lim)
    result = report(runner, "60", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        HEADER,
        "OLD,ACME,1234.50,2023-03-15,-292,,",
        "A-1,ACME,20.00,2024-02-18,48,,",
        "B-2,'=EVIL,10.00,2024-02-18,48,,",
        "SPRING,ACME,500.00,2024-02-18,48,,",
    ]


def test_the_window_and_the_payment_interruption(lim, runner):
    build(lim)
    # The example of docs/reports.md; LATER (ends 1 June 2026, 882 days) is outside.
    assert report(runner, "600").stdout.splitlines() == [
        HEADER,
        "OLD,ACME,1234.50,2023-03-15,-292,,",
        "A-1,ACME,20.00,2024-02-18,48,,",
        "B-2,'=EVIL,10.00,2024-02-18,48,,",
        "SPRING,ACME,500.00,2024-02-18,48,,",
        "PAID,ACME,900.00,2025-06-09,525,2022-06-07,payment",
    ]
    # Nothing within zero days but the expired one.
    assert report(runner, "0").stdout.splitlines() == [HEADER, "OLD,ACME,1234.50,2023-03-15,-292,,"]


def test_output_file_holds_the_same_bytes(lim, runner, tmp_path):
    build(lim)
    printed = report(runner, "60").stdout_bytes
    target = tmp_path / "limitation.csv"
    result = report(runner, "60", "--output", str(target))
    assert result.exit_code == 0
    assert target.read_bytes() == printed
    assert not printed.startswith(b"\xef\xbb\xbf")
    assert "4 rows written to" in result.stderr


def test_json_and_bad_arguments(lim, runner):
    build(lim)
    records = json.loads(report(runner, "60", "--format", "json").stdout)
    assert records[0] == {
        "document_no": "OLD",
        "counterparty_code": "ACME",
        "outstanding": "1234.50",
        "expires_on": "2023-03-15",
        "days_left": -292,
        "last_interruption_on": "",
        "last_interruption_kind": "",
    }
    missing = runner.invoke(args=["report", "limitation", "--as-of", AS_OF])
    assert missing.exit_code == 2 and "--within" in missing.output
    negative = runner.invoke(args=["report", "limitation", "--as-of", AS_OF, "--within", "-1"])
    assert negative.exit_code == 2
    bad_date = runner.invoke(
        args=["report", "limitation", "--as-of", "2024-02-30", "--within", "5"]
    )
    assert bad_date.exit_code == 2 and bad_date.stdout == ""
