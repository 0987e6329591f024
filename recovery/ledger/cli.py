"""flask --app recovery ledger compact-sums [--rebuild] [--check]"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from recovery.extensions import db
from recovery.ledger import open_sums


@click.command(
    "compact-sums",
    help="Compact the kept open-item sums to one row per department and day (the reads do it "
    "in the background once changes pile up); --rebuild sums the open items again, --check "
    "compares the kept sums with the items and exits 1 where they differ.",
)
@click.option("--rebuild", is_flag=True, help="Sum the open items again (writers wait meanwhile).")
@click.option("--check", is_flag=True, help="Only compare the kept sums with the items.")
@with_appcontext
def compact_sums(rebuild: bool, check: bool) -> None:
    if check:
        differing = open_sums.differences()
        for line in differing:
            click.echo(line)
        if differing:
            click.echo("The kept open-item sums differ from the items: run --rebuild.")
            sys.exit(1)
        click.echo("The kept open-item sums agree with the items.")
        return
    if rebuild:
        rows = open_sums.rebuild()
        db.session.commit()
        click.echo(f"Open-item sums rebuilt: {rows} row(s).")
        return
    counts = open_sums.compact()
    db.session.commit()
    if counts is None:
        click.echo("Another compaction is running: nothing done.")
    else:
        click.echo(f"Open-item sums compacted: {counts[0]} row(s) to {counts[1]}.")
