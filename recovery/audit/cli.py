"""flask --app recovery audit verify"""

import click
from flask.cli import with_appcontext

from recovery.audit.services import verify_chain
from recovery.extensions import db


@click.group("audit", help="The audit trail (备案).")
def audit_cli():
    pass


@audit_cli.command("verify")
@with_appcontext
def verify():
    """Check the hash chain; exit 1 naming the first broken row."""
    with db.engine.connect() as connection:
        report = verify_chain(connection)
    if report.ok:
        click.echo(f"audit trail intact: {report.rows} rows")
        return
    click.echo(f"audit trail broken at row {report.broken_id}: {report.reason}", err=True)
    raise SystemExit(1)
