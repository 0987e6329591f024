"""flask --app recovery demo load [--if-empty] [--from ar-late-payments [--path FILE]]"""

from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from recovery.audit.context import acting_as, cli_actor
from recovery.demo import services
from recovery.extensions import db

LOAD_HELP = """Create the demo company, departments and users (one per role, plus sales users
per department), print the logins, and fill an empty ledger with demo data.

\b
The demo ledger (skipped when the ledger already holds counterparties or items):
hundreds of dealers, customers and employers with valid unified social credit codes,
projects and contracts of 营销一部, 营销二部, 工程公司 and 华东子公司, tens of thousands
of items and receipts over six years up to today (or --as-of), credit notes and
write-offs. It comes from a fixed seed: the same day always gives the same ledger.

\b
Audit trail: counterparties, projects, contracts and adjustments go through the ORM and
are audited like any change; items and receipts are written in bulk and their audit
entries appended in one batch (actor cli:<your OS user>). The applications are computed
with the ledger's own allocation rule and stored as services.reallocate would store them
(derived rows, not audited, as always).

\b
Recovery work (skipped when any recovery case exists): two collectors of 清欠小组, cases in
every state and outcome, strategies at every step of their approval chains, activities of
every kind, promises kept, broken and open, disputes, service-level breaches for the
supervisor's team worklist, and a completed hand-over — through the services, dated in
working days back from the same day.

\b
Legal work (skipped when any lawsuit or letter exists): referrals sent, returned, declined
and accepted with their evidence; lawsuits at every stage (filed, hearings to come, property
preservation, judgment, enforcement with a receipt of method enforcement, closed) with their
costs; demand letters of each level, a balance confirmation and a statement of account (PDF),
one delivered with proof.

\b
Executives (skipped when any target, reward list or provision run exists): targets per
department and person for this month, quarter and year and the last month, the last month's
reward lists (one approved by a second executive, one waiting), a specific provision and the
provision run of the last month-end, closed.

\b
--from ar-late-payments loads the public data set of 2,466 real invoices instead of the
generated ledger (see docs/real-data.md): each customer a counterparty, each invoice an
item, each settlement a receipt naming its invoice. Loading it twice adds nothing.
"""


@click.group("demo", help="Demonstration data.")
def demo_cli():
    pass


@demo_cli.command("load", help=LOAD_HELP)
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users.")
@click.option(
    "--from",
    "source",
    type=click.Choice(["generated", "ar-late-payments"]),
    default="generated",
    show_default=True,
    help="What to put in the ledger.",
)
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The ar_late_payments.csv file (default: ../shared/data/ar_late_payments.csv "
    "next to the project folder).",
)
@click.option(
    "--scale",
    type=click.FloatRange(0.01, 10.0),
    default=1.0,
    show_default=True,
    help="Size of the generated ledger relative to the default.",
)
@click.option(
    "--as-of",
    "anchor",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the generated ledger ends on (default: today).",
)
@with_appcontext
def load(if_empty, source, path, scale, anchor):
    if if_empty and not services.database_is_empty():
        click.echo("The database already holds data; demo data not loaded.")
        return
    anchor_day: date | None = anchor.date() if anchor else None
    with acting_as(cli_actor()):
        logins = services.load_organisation()
        if source == "ar-late-payments":
            report = _load_ar_late_payments(path)
        else:
            report = _load_generated(anchor_day, scale)
        logins += services.extra_logins()
        db.session.commit()
    click.echo("Demo logins (change these passwords outside a demonstration):")
    for login in logins:
        click.echo(f"  {login.username:<12} {login.password:<24} {', '.join(login.roles)}")
    click.echo(report)


def _load_generated(anchor, scale) -> str:
    from recovery.demo.ledger import load_ledger
    from recovery.demo.recovery import load_recovery

    summary = load_ledger(anchor=anchor, scale=scale)
    if summary.skipped:
        report = f"Demo ledger not loaded: {summary.skipped}."
    else:
        report = (
            f"Demo ledger: {summary.counterparties} counterparties, {summary.projects} "
            f"projects, {summary.contracts} contracts, {summary.items} items, "
            f"{summary.receipts} receipts, {summary.applications} applications, "
            f"{summary.adjustments} credit notes and write-offs."
        )
    from recovery.demo.executive import load_executive
    from recovery.demo.legal import load_legal

    day = anchor or date.today()
    recovery = load_recovery(day)
    legal = load_legal(day)
    executive = load_executive(day)
    # The ledger was bulk-loaded past the session listeners: compute every credit hold once.
    from recovery.credit.services import reevaluate_all

    reevaluate_all(day)
    from recovery.credit.models import CreditStatus

    held = db.session.scalar(
        sa.select(sa.func.count()).select_from(CreditStatus).where(CreditStatus.on_hold)
    )
    holds = f"Credit control: {held} counterparties on hold (no new supply)."
    return "\n".join((report, recovery.describe(), legal.describe(), executive.describe(), holds))


def _load_ar_late_payments(path) -> str:
    from recovery.demo import ar_late_payments

    try:
        result = ar_late_payments.load(path)
    except ar_late_payments.DataSetError as exc:
        raise click.ClickException(str(exc)) from exc
    return (
        f"AR late payments: {result.invoices} invoices in the file; added "
        f"{result.counterparties} counterparties, {result.items} items and "
        f"{result.receipts} receipts. Days late and days to settle as the ledger gives them "
        f"match the file for {result.matching} of {result.invoices} invoices."
    )
