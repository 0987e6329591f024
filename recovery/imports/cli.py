"""flask --app recovery ledger import items|receipts|adjustments FILE [--dry-run]"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from recovery.audit.context import acting_as, cli_actor
from recovery.extensions import db
from recovery.imports import services


@click.group("ledger", help="The receivables ledger.")
def ledger_cli():
    pass


@ledger_cli.group(
    "import",
    help="Import receivable items, receipts, or credit notes and write-offs (for approval) "
    "from a CSV or XLSX file.",
)
def import_group():
    pass


def _run(kind: str, path: Path, dry_run: bool) -> None:
    with acting_as(cli_actor()):
        result = services.import_file(kind, path, dry_run=dry_run)
        if result.written:
            db.session.commit()
        else:
            db.session.rollback()
    with force_locale("en"):
        if not result.ok:
            for issue in result.issues:
                click.echo(issue.line())
            click.echo(f"{len(result.issues)} error(s) in {path.name}: nothing was imported.")
            sys.exit(1)
        for line in summary_lines(result):
            click.echo(line)


def summary_lines(result: services.Result) -> list[str]:
    """The summary the command prints (also used by tests)."""
    heading = "Dry run, nothing written" if result.dry_run else "Imported"
    lines = [f"{heading}: {result.rows} row(s) of {result.kind} in {result.seconds:.1f} s."]
    for table, counts in result.counts.items():
        parts = [f"{counts.get('new', 0)} new", f"{counts.get('updated', 0)} updated"]
        if "unchanged" in counts:
            parts.append(f"{counts['unchanged']} unchanged")
        lines.append(f"  {table}: {', '.join(parts)}")
    for change in result.changes:
        fields = "; ".join(
            f"{name} '{before}' -> '{after}'" for name, before, after in change["fields"]
        )
        verb = "would change" if result.dry_run else "changed"
        lines.append(f"  {change['table']} {change['key']} {verb}: {fields}")
    if not result.dry_run and result.reallocated:
        lines.append(f"  allocation replayed for {result.reallocated} counterparty(ies)")
    proposed = result.counts.get("adjustments", {}).get("new", 0)
    if result.kind == "adjustments" and proposed and not result.dry_run:
        lines.append(f"  {proposed} proposal(s) await approval by another finance user")
    return lines


@import_group.command("items")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
@with_appcontext
def import_items(file: Path, dry_run: bool):
    """Import receivable items (columns: see docs/import-export.md)."""
    _run("items", file, dry_run)


@import_group.command("receipts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
@with_appcontext
def import_receipts(file: Path, dry_run: bool):
    """Import receipts (columns: see docs/import-export.md)."""
    _run("receipts", file, dry_run)


@import_group.command("adjustments")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
@with_appcontext
def import_adjustments(file: Path, dry_run: bool):
    """Import credit notes and write-offs as proposals awaiting a finance user's approval
    (columns: see docs/import-export.md)."""
    _run("adjustments", file, dry_run)
