"""flask --app recovery demo load"""

import click
from flask.cli import with_appcontext

from recovery.audit.context import acting_as, cli_actor
from recovery.demo import services
from recovery.extensions import db


@click.group("demo", help="Demonstration data.")
def demo_cli():
    pass


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users.")
@with_appcontext
def load(if_empty):
    """Create the demo company, departments and one user per role; print the logins."""
    if if_empty and not services.database_is_empty():
        click.echo("The database already holds data; demo data not loaded.")
        return
    with acting_as(cli_actor()):
        logins = services.load_organisation()
        db.session.commit()
    click.echo("Demo logins (change these passwords outside a demonstration):")
    for login in logins:
        click.echo(f"  {login.username:<12} {login.password:<24} {', '.join(login.roles)}")
