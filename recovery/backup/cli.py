"""flask --app recovery backup create|verify|restore (the logic lives in services.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from recovery.audit.context import cli_actor
from recovery.backup import services
from recovery.extensions import db

BACKUP_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("backup", help="Backups: create, verify, restore.")
def backup_cli():
    pass


def _describe(manifest: services.Manifest) -> str:
    revision = manifest.alembic_revision or "none"
    return (
        f"{manifest.dialect} database, alembic revision {revision}, created {manifest.created_at}"
        f", {len(manifest.tables)} tables, {manifest.total_rows} rows"
    )


@backup_cli.command("create")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Backup file to write (default: instance/backups/recovery-<UTC time>.zip).",
)
@with_appcontext
def create(output):
    """Write a consistent backup of the running database to one ZIP file."""
    try:
        result = services.create_backup(
            db.engine,
            output,
            backup_dir=Path(current_app.instance_path) / "backups",
            required_tables=db.metadata.tables.keys(),
            created_by=cli_actor().name,
        )
    except services.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written: {result.path}")
    click.echo(f"  {_describe(result.manifest)}")
    click.echo(f"  file SHA-256: {result.file_sha256}")


@backup_cli.command("verify")
@click.argument("file", type=BACKUP_FILE)
@with_appcontext
def verify(file):
    """Check that FILE is an intact backup; exit 1 with the reason if it is not."""
    try:
        result = services.verify_backup(file)
    except services.BackupError as error:
        raise click.ClickException(str(error)) from None
    if result.rows_checked:
        extent = "payload SHA-256 and every table's rows match the manifest"
    else:
        extent = "payload SHA-256 and archive match; rows are checked on restore"
    click.echo(f"backup OK: {file}")
    click.echo(f"  {_describe(result.manifest)}")
    click.echo(f"  {extent}")
    click.echo(f"  file SHA-256: {result.file_sha256}")


@backup_cli.command("restore")
@click.argument("file", type=BACKUP_FILE)
@with_appcontext
def restore(file):
    """Restore FILE into the configured database, which must be empty."""
    target = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"restoring {file} into {target}")
    try:
        result = services.restore_backup(file, db.engine)
    except services.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"  {_describe(result.manifest)}")
    click.echo(f"restore complete: {result.tables} tables, {result.rows} rows match the manifest")
