"""Real data (issue 3, point 7): the 2,466 invoices of ../shared/data/ar_late_payments.csv.

After `flask --app recovery demo load --from ar-late-payments`, the days late and days to
settle the ledger gives for every invoice — from its stored applications, in SQL — match the
file's own DaysLate and DaysToSettle columns.
"""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.demo.ar_late_payments import DEFAULT_PATH, settlement_days
from recovery.extensions import db
from recovery.ledger.models import Application, Item, Receipt
from recovery.parties.models import Counterparty

pytestmark = pytest.mark.skipif(
    not DEFAULT_PATH.is_file(), reason=f"the data set is not at {DEFAULT_PATH}"
)


def file_rows(path=DEFAULT_PATH):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def us_date(text):
    return datetime.strptime(text, "%m/%d/%Y").date()


def counts():
    return [
        db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in (Counterparty, Item, Receipt, Application)
    ]


def test_days_late_and_days_to_settle_match_the_file_for_every_invoice(app, runner):
    result = runner.invoke(args=["demo", "load", "--from", "ar-late-payments"])
    assert result.exit_code == 0, result.output
    assert "match the file for 2466 of 2466 invoices" in result.output
    rows = file_rows()
    assert len(rows) == 2466
    with app.app_context():
        assert counts()[:3] == [len({r["customerID"] for r in rows}), 2466, 2466]
        items = {
            i.document_no: i for i in db.session.scalars(sa.select(Item).where(Item.amount > 0))
        }
        computed = settlement_days()  # one SQL query over the stored applications
        for row in rows:
            number = row["invoiceNumber"]
            item = items[number]
            assert item.recognized_on == us_date(row["InvoiceDate"])
            assert item.due_on == us_date(row["DueDate"])
            assert item.amount == Decimal(row["InvoiceAmount"]).quantize(Decimal("0.01"))
            assert item.open_amount == 0
            paid_on, days_to_settle, days_late = computed[number]
            assert paid_on == us_date(row["SettledDate"]), number
            assert days_to_settle == int(row["DaysToSettle"]), number
            assert days_late == int(row["DaysLate"]), number


def test_loading_twice_adds_nothing(app, runner):
    assert runner.invoke(args=["demo", "load", "--from", "ar-late-payments"]).exit_code == 0
    with app.app_context():
        before = counts()
    again = runner.invoke(args=["demo", "load", "--from", "ar-late-payments"])
    assert again.exit_code == 0, again.output
    assert "added 0 counterparties, 0 items and 0 receipts" in again.output
    with app.app_context():
        assert counts() == before


def test_path_option_loads_another_file_of_the_same_shape(app, runner, tmp_path):
    rows = file_rows()[:3]
    path = tmp_path / "three.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(args=["demo", "load", "--from", "ar-late-payments", "--path", path])
    assert result.exit_code == 0, result.output
    assert "match the file for 3 of 3 invoices" in result.output
    with app.app_context():
        assert counts()[1:3] == [3, 3]


def test_a_file_that_is_not_the_data_set_is_refused(app, runner, tmp_path):
    missing = runner.invoke(
        args=["demo", "load", "--from", "ar-late-payments", "--path", tmp_path / "nope.csv"]
    )
    assert missing.exit_code != 0 and "no such file" in missing.output
    bad = tmp_path / "bad.csv"
    header = ",".join(file_rows()[0])
    bad.write_text(
        header + "\n391,0379-NEVHP,4/6/2013,1,13/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\n",
        encoding="utf-8",
    )
    refused = runner.invoke(args=["demo", "load", "--from", "ar-late-payments", "--path", bad])
    assert refused.exit_code != 0 and "line 2" in refused.output
    with app.app_context():
        assert counts()[1] == 0
