"""flask --app recovery report monthly --month YYYY-MM --format pdf|xlsx --output FILE

The monthly report for head office (篇三 12) as of the month's last day: the same report as
the button on /reports/monthly (recovery/monthly/report.py). Sections whose part of the
application is not installed are named on standard error (and in the report), never faked.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from recovery.monthly import report as monthly_report

FORMATS = ("pdf", "xlsx")
LANGUAGES = ("zh_CN", "en")


class Month(click.ParamType):
    """A calendar month written YYYY-MM (and nothing else)."""

    name = "YYYY-MM"

    def convert(self, value, param, ctx):
        if isinstance(value, monthly_report.Period):
            return value
        try:
            return monthly_report.parse_month(str(value))
        except monthly_report.ReportError:
            self.fail(f"{value!r} is not a month written YYYY-MM (e.g. 2026-03).", param, ctx)


@click.command("monthly")
@click.option("--month", type=Month(), required=True, help="The month, YYYY-MM.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="pdf",
    show_default=True,
    help="pdf: the printed report with its charts; xlsx: one sheet per section.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (written whole or not at all).",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default=None,
    help="The report's language (default: the application's default language).",
)
@with_appcontext
def monthly(month, fmt, output, language):
    """The monthly report for head office, as of the month's last day."""
    from recovery.ledger.routes import company_today
    from recovery.reports.cli import _write_atomically

    folder = output.resolve().parent
    if not folder.is_dir():  # before the work, not after it
        raise click.ClickException(f"No such folder: {folder}")
    language = language or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    with force_locale(language):
        try:
            data, report = monthly_report.generate(
                month, fmt, today=company_today(), generated_by="flask report monthly"
            )
        except monthly_report.ReportError as error:
            raise click.ClickException(str(error)) from error
        missing = report.missing_sources
    _write_atomically(output, data)
    if missing:
        click.echo(f"Not included (not installed): {', '.join(missing)}", err=True)
    click.echo(f"Monthly report {month.label} written to {output} ({len(data)} bytes)", err=True)
