"""The overdue-interest report (DOMAIN §3, 篇七 第三条): one row per item bearing interest.

The figures come from recovery.ledger.queries.interest_rows (SQL, checked against
recovery.ledger.rules.overdue_interest). The default rate and the day count are settings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from recovery.ledger import queries
from recovery.reports.output import Table
from recovery.settings.services import get_setting

COLUMNS = ("document_no", "counterparty_code", "outstanding", "days_overdue", "rate", "interest")
DAY_COUNTS = {"actual/365": 365, "actual/360": 360}


def format_rate(rate: Decimal, basis: str = "annual") -> str:
    """A rate in percent as a plain decimal with at least two places: 4.65, 5.00, 0.0125.

    An annual rate is the number alone; a rate agreed per day gets the suffix "/day"
    (0.05/day = 0.05 % a day)."""
    value = Decimal(rate).normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(Decimal("0.01"))
    text = format(value, "f")
    return f"{text}/day" if basis == "daily" else text


def interest_settings() -> tuple[Decimal, int]:
    """(default annual rate in percent, days in the year) from the business settings."""
    rate = get_setting("interest.default_annual_rate")
    day_count = DAY_COUNTS.get(get_setting("interest.day_count"), 365)
    return Decimal(rate), day_count


def interest_table(as_of: date) -> Table:
    """Items overdue as of ``as_of`` with interest above zero, sorted by document number.

    days_overdue = as_of − due date; interest is simple interest on each day's outstanding
    balance after the due date up to and including ``as_of``, rounded once to the fen.
    """
    default_rate, day_count = interest_settings()
    rows = [
        row
        for row in queries.interest_rows(as_of, default_rate=default_rate, day_count=day_count)
        if row["interest"] > 0
    ]
    # Sorted here, not in SQL: the order must not depend on the database's collation.
    rows.sort(key=lambda row: row["document_no"])
    table = Table(title="interest", columns=COLUMNS)
    for row in rows:
        table.rows.append(
            [
                row["document_no"],
                row["counterparty_code"],
                row["outstanding"],
                row["days_overdue"],
                format_rate(row["rate"], row["basis"]),
                row["interest"],
            ]
        )
    return table
