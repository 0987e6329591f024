"""flask --app recovery report aging|interest — the report contract of docs/reports.md.

CSV and JSON go to standard output unless --output names a file; XLSX needs --output.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.reports import aging as aging_report
from recovery.reports import interest as interest_report
from recovery.reports.output import BINARY_FORMATS, FORMATS, Table, render

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class IsoDate(click.ParamType):
    """A calendar date written YYYY-MM-DD (and nothing else)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if _ISO_DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        self.fail(f"{value!r} is not a date written YYYY-MM-DD.", param, ctx)


ISO_DATE = IsoDate()

as_of_option = click.option(
    "--as-of", "as_of", type=ISO_DATE, required=True, help="The date the figures are as of."
)
output_option = click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output; required for xlsx).",
)


def format_option(default: str = "csv"):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=default,
        show_default=True,
        help="csv and json: UTF-8 text; xlsx: an Excel workbook (needs --output).",
    )


@click.group("report", help="Reports: aging and overdue interest, as CSV, XLSX or JSON.")
def report_cli():
    pass


def _check_destination(fmt: str, output: Path | None) -> None:
    if fmt in BINARY_FORMATS and output is None:
        raise click.UsageError(f"--format {fmt} writes a binary file: give --output FILE.")


def _emit(table: Table, fmt: str, output: Path | None) -> None:
    data = render(table, fmt)
    if output is None:
        # Bytes, not text: UTF-8 whatever the terminal's locale.
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            sys.stdout.flush()
            stream.write(data)
        sys.stdout.flush()
        return
    _write_atomically(output, data)
    click.echo(f"{len(table.rows)} rows written to {output}", err=True)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temporary file beside it, then a rename."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise click.ClickException(f"No such folder: {folder}")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@report_cli.command("aging")
@as_of_option
@click.option(
    "--by",
    type=click.Choice(aging_report.DIMENSIONS),
    default="counterparty",
    show_default=True,
    help="One row per counterparty, project, department or responsible person.",
)
@click.option(
    "--basis",
    type=click.Choice(aging_report.BASES),
    default="due",
    show_default=True,
    help="due: days past the due date (collection view); age: years since recognition (账龄).",
)
@format_option()
@output_option
@with_appcontext
def aging(as_of, by, basis, fmt, output):
    """Aging of the receivables as of a date (DOMAIN §3), one row per key, sorted by key."""
    _check_destination(fmt, output)
    _emit(aging_report.aging_table(as_of, by=by, basis=basis), fmt, output)


@report_cli.command("interest")
@as_of_option
@format_option()
@output_option
@with_appcontext
def interest(as_of, fmt, output):
    """Overdue interest as of a date: one row per item with interest above zero."""
    _check_destination(fmt, output)
    _emit(interest_report.interest_table(as_of), fmt, output)


# Commands of later issues, each in its own module (they use the types above).
from recovery.reports import kpi as kpi_report  # noqa: E402

report_cli.add_command(kpi_report.kpi)

from recovery.reports import limitation as limitation_report  # noqa: E402

report_cli.add_command(limitation_report.command())

from recovery.reports import monthly as monthly_report  # noqa: E402

report_cli.add_command(monthly_report.monthly)
