"""flask --app recovery backup create|verify|restore (implemented in services.py)."""

import click


@click.group("backup", help="Backups: create, verify, restore.")
def backup_cli():
    pass
