"""flask --app recovery api purge-keys [--dry-run]: forget expired idempotency keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("api", help="The JSON API: maintenance.")
def api_cli():
    pass


@api_cli.command("purge-keys")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
@with_appcontext
def purge_keys(dry_run: bool):
    """Remove the answers stored for Idempotency-Keys older than api.idempotency_hours (a
    replay of such a key is a new request anyway). Safe to run at any time, e.g. daily."""
    from recovery.api.idempotency import purge_expired
    from recovery.extensions import db
    from recovery.settings.services import get_setting

    count = purge_expired(dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    hours = get_setting("api.idempotency_hours")
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {count} idempotency keys older than {hours} hours")
