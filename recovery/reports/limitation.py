"""The limitation report (诉讼时效, DOMAIN §3) as a table — the contract of docs/reports.md.

One row per item open as of the date whose limitation ends within DAYS days (expired ones
included, with negative days_left), sorted by expiry date then document number. The figures
come from recovery.limitation.services.expiry_rows; this module only fixes the columns.
"""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from recovery.limitation.services import expiry_rows
from recovery.reports.output import Table

COLUMNS = (
    "document_no",
    "counterparty_code",
    "outstanding",
    "expires_on",
    "days_left",
    "last_interruption_on",
    "last_interruption_kind",
)


def limitation_table(as_of: date, within: int, rows=None) -> Table:
    table = Table(title="limitation", columns=COLUMNS)
    for row in rows if rows is not None else expiry_rows(as_of, within=within):
        last_on = row.last_interruption_on
        table.rows.append(
            [
                row.document_no,
                row.counterparty_code,
                row.outstanding,
                row.expires_on.isoformat(),
                row.days_left,
                last_on.isoformat() if last_on is not None else "",
                row.last_interruption_kind or "",
            ]
        )
    return table


def command() -> click.Command:
    """``report limitation``, built when the report group registers it (it uses the group's
    option types, and recovery.reports.cli imports this module)."""
    from recovery.reports.cli import (
        _check_destination,
        _emit,
        as_of_option,
        format_option,
        output_option,
    )

    @click.command("limitation")
    @as_of_option
    @click.option(
        "--within",
        "within",
        type=click.IntRange(min=0),
        required=True,
        metavar="DAYS",
        help="Items whose limitation ends within DAYS days of the date (or has ended).",
    )
    @format_option()
    @output_option
    @with_appcontext
    def limitation(as_of, within, fmt, output):
        """Limitation (诉讼时效) of the open items as of a date: expiring within DAYS days,
        or expired, sorted by expiry date then document number."""
        _check_destination(fmt, output)
        _emit(limitation_table(as_of, within), fmt, output)

    return limitation
