"""flask --app recovery users create USERNAME --role ROLE [--role ROLE] [--department NAME]"""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from recovery.audit.context import acting_as, cli_actor
from recovery.auth import services
from recovery.auth.models import User
from recovery.core.permissions import ROLES
from recovery.extensions import db


@click.group("users", help="Manage users.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--department", default=None, help="Name of an existing department.")
@click.option("--name", "display_name", default=None, help="Full name (defaults to USERNAME).")
@click.option("--email", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create(username, roles, department, display_name, email, password_stdin):
    """Create a user; the password comes from a prompt or --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    dept = None
    if department:
        dept = services.find_department(department)
        if dept is None:
            raise click.ClickException(f"no department named {department!r}")
    with acting_as(cli_actor()):
        try:
            user = services.create_user(
                username,
                password,
                roles,
                display_name=display_name,
                email=email,
                department=dept,
            )
        except services.AuthError as error:
            db.session.rollback()
            field = f"{error.field}: " if error.field else ""
            raise click.ClickException(f"{field}{error.message}") from None
        db.session.commit()
    click.echo(f"created user {user.username} with roles {', '.join(user.role_names)}")


@users_cli.command("list")
@with_appcontext
def list_users():
    """List users with their roles and state."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        state = "active" if user.active else "disabled"
        if user.is_locked():
            state += ", locked"
        department = user.department.name if user.department else "-"
        click.echo(f"{user.username}\t{','.join(user.role_names)}\t{department}\t{state}")
