"""flask --app recovery report kpi --from YYYY-MM-DD --to YYYY-MM-DD --format json

The dashboard's twelve figures (recovery.dashboard.kpis.compute; formulas in docs/kpis.md)
for the period --from..--to, balances as of --to, as one JSON object with exactly the keys
receivables, overdue, overdue_ratio, dso, cei, add, collection_rate, avg_days_to_pay,
avg_days_late, recovered, target, completion:

- amounts (receivables, overdue, recovered, target) as strings with two decimals: "1234.50";
- ratios (overdue_ratio, collection_rate, completion) as decimal numbers with four places:
  0.2500 is 25 %; CEI as its percentage index with two places (41.67); days (dso, add,
  avg_days_to_pay, avg_days_late) as numbers with two places;
- null where a figure is undefined (no receivables, no sales, no target): the reason is
  written to standard error, one line per figure.

Numbers are written from the exact Decimal, never through a float.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import click
from flask.cli import with_appcontext

from recovery.core.money import format_amount
from recovery.dashboard import kpis
from recovery.reports.cli import ISO_DATE, _write_atomically, output_option


def _value(key: str, value) -> str:
    """The JSON text of one figure."""
    if value is None:
        return "null"
    if key in kpis.AMOUNT_KEYS:
        return json.dumps(format_amount(value))
    places = "0.0001" if key in kpis.RATIO_KEYS else "0.01"
    return str(Decimal(value).quantize(Decimal(places)))


def kpi_json(figures: dict) -> bytes:
    """The figures as a JSON object, keys in the order of kpis.KEYS."""
    lines = [f"  {json.dumps(key)}: {_value(key, figures[key])}" for key in kpis.KEYS]
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def find_department_id(name: str | None) -> int | None:
    if not name:
        return None
    from recovery.auth.services import find_department

    department = find_department(name)
    if department is None:
        raise click.BadParameter(f"no department named {name!r}", param_hint="--department")
    return department.id


@click.command("kpi")
@click.option("--from", "date_from", type=ISO_DATE, required=True, help="First day of the period.")
@click.option(
    "--to", "date_to", type=ISO_DATE, required=True, help="Last day; balances as of this date."
)
@click.option("--format", "fmt", type=click.Choice(("json",)), default="json", show_default=True)
@click.option("--department", default=None, help="A department's name: it and those below it.")
@output_option
@with_appcontext
def kpi(date_from: date, date_to: date, fmt: str, department: str | None, output):
    """The dashboard's KPIs for a period (docs/kpis.md), as JSON."""
    try:
        report = kpis.report(
            date_to, date_from=date_from, department_id=find_department_id(department)
        )
    except kpis.KpiError as error:
        raise click.UsageError(str(error.message)) from error
    data = kpi_json(report.figures)
    for key in kpis.KEYS:
        if report.figures[key] is None:
            click.echo(f"{key}: {report.reasons.get(key, '')}", err=True)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        _write_atomically(output, data)
