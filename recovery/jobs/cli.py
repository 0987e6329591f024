"""flask --app recovery jobs worker|status: the RQ worker that runs background jobs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from recovery.jobs import services


@click.group("jobs", help="Background jobs: the RQ worker (when RECOVERY_REDIS_URL is set).")
def jobs_cli():
    pass


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--name", default=None, help="The worker's name in Redis (default: RQ's own).")
@with_appcontext
def worker(burst: bool, name: str | None):
    """Run jobs from the Redis queue, one at a time, in this application.

    The worker runs each job in this process (rq.SimpleWorker: no fork, so database
    connections are never shared with a child). Start several processes for more jobs at
    once (docs/jobs.md)."""
    from rq import SimpleWorker

    app = current_app._get_current_object()
    if not services.redis_url(app):
        raise click.ClickException(
            "RECOVERY_REDIS_URL is not set: jobs run in the app's own worker thread, "
            "there is no queue to work on."
        )
    services.set_worker_app(app)
    queue = services.rq_queue(app)
    click.echo(f"jobs worker: queue {queue.name!r} on {services.redis_url(app)}")
    worker = SimpleWorker([queue], connection=queue.connection, name=name)
    worker.work(burst=burst, logging_level="INFO")
    click.echo("jobs worker: stopped")


@jobs_cli.command("status")
@with_appcontext
def status():
    """Which backend runs jobs, and how many wait in the queue."""
    app = current_app._get_current_object()
    if not services.redis_url(app):
        click.echo("backend: local worker thread (RECOVERY_REDIS_URL not set)")
        return
    queue = services.rq_queue(app)
    click.echo(f"backend: RQ, queue {queue.name!r}, {queue.count} job(s) waiting")
