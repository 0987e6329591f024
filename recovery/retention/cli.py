"""flask --app recovery retention purge [--as-of YYYY-MM-DD] [--dry-run]."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("retention", help="Retention (five years): purge what is past it.")
def retention_cli():
    pass


@retention_cli.command("purge")
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="The day to judge by (default: today).",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@with_appcontext
def purge(as_of, dry_run: bool):
    """Remove the counterparties past the retention period after their agreement ended (and
    every row that depends on them); list what is refused and why."""
    from recovery.audit.context import acting_as, cli_actor
    from recovery.extensions import db
    from recovery.retention import services
    from recovery.targets.services import company_today

    day = as_of.date() if as_of else company_today()
    with acting_as(cli_actor()):
        report = services.purge(day, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"retention purge as of {day} ({report.years} years after the agreement ended)"
        + (" — dry run, nothing changed" if dry_run else "")
    )
    for decision in report.removed:
        rows = ", ".join(f"{name} {count}" for name, count in decision.rows.items())
        click.echo(f"  {verb}: {decision.code} {decision.name} (ended {decision.ended}): {rows}")
    for decision in report.refused:
        click.echo(f"  refused: {decision.code} {decision.name}: {decision.reason}")
    total = sum(report.rows.values())
    click.echo(
        f"{verb} {len(report.removed)} counterparty(ies), {total} row(s); "
        f"refused {len(report.refused)}"
        + (f"; recorded as purge #{report.purge_id} in the audit trail" if report.purge_id else "")
    )
