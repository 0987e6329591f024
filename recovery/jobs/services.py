"""Long work outside the request (imports, letter batches, the monthly report, re-evaluating
holds), on one of two backends behind the same functions (submit, status, wait, retry); the
Job row is made in one place (``create``), and ``run_now`` runs a job in the calling thread:

- **RQ + Redis** when ``RECOVERY_REDIS_URL`` (config ``REDIS_URL``) is set: ``submit`` stores
  the Job row and enqueues ``perform(job_id, ...)`` on the queue ``JOBS_QUEUE`` ("recovery");
  an RQ worker started by ``flask --app recovery jobs worker`` runs it inside an application
  context. Progress is written to the Job row and, live, to a Redis key the page reads.
- **A local worker thread** (below) when it is not set.

Either way the Job row is the source of truth for the pages (status, progress, error,
result); a failed job can be retried (``retry``): a new Job with the same parameters, the
failed one kept and linked from it (``retry_of_id``).

The local runner: one background thread per process.

``submit(kind, params, user)`` stores a Job and queues it; the worker thread runs the task
registered for ``kind`` inside its own application context, as the user who submitted it (the
audit trail names them), and stores the task's result — or, if it raised, the failure — on
the Job. Tasks run one after another, never two at once in a process, so two imports never
compete for SQLite's single writer.

Progress. A task reports ``progress(phase, done, total)``. The figure is kept in memory (the
page of a job run by this process always sees it live) and written to the Job row at most
twice a second on a separate connection. On PostgreSQL that write always succeeds; on SQLite
it is skipped while the task itself holds the database's write lock, so another process
serving the page then sees the figure of the last phase that could be written.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from recovery.audit.context import Actor, acting_as, current_actor
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.jobs.models import Job

log = logging.getLogger(__name__)

FINISHED = ("done", "failed")
STATUS_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "done": _l("Finished"),
    "failed": _l("Failed"),
}
PERSIST_INTERVAL = 0.5  # seconds between progress writes to the database
DEFAULT_QUEUE = "recovery"
JOB_TIMEOUT = 6 * 3600  # seconds an RQ job may run before the worker stops it
LIVE_TTL = 3600  # seconds a live progress figure stays in Redis


class JobError(ValueError):
    """A refused request about a job (e.g. a retry that cannot be made); shown to the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Task:
    """What runs for jobs of one kind, and how the job page shows them."""

    kind: str
    label: object  # a (lazy) translated name, "Import"
    work: Callable[[dict, Callable[[str, int, int], None]], dict]
    result_template: str | None = None  # rendered on the job page with ``result`` and ``job``
    phases: dict = field(default_factory=dict)  # phase code -> (lazy) translated label
    describe: Callable[[dict], object] | None = None  # what the job is about, from its params
    present: Callable[[dict], object] | None = None  # stored result -> what the template shows


_tasks: dict[str, Task] = {}


def register(task: Task) -> Task:
    _tasks[task.kind] = task
    return task


def task_for(kind: str) -> Task | None:
    return _tasks.get(kind)


# ---------------------------------------------------------------------------------------------
# Submitting and following


def submit(kind: str, params: dict, user, *, title: str = "") -> Job:
    """Store a Job for ``kind`` and queue it (RQ or this process's worker thread). Commits, so
    that the worker can read the Job."""
    actor = _actor_for(user)
    job = create(kind, params, user, title=title)
    _dispatch(job, actor)
    return job


def run_now(kind: str, params: dict, user, *, title: str = "") -> Job:
    """Store a Job for ``kind`` and run it here, in this thread, whatever the backend (the
    command line, tests): the row records the work like any other job. Returns the finished
    Job (done or failed; a failure is recorded on it, not raised)."""
    actor = _actor_for(user)
    job = create(kind, params, user, title=title)
    run(current_app._get_current_object(), job.id, actor)
    return db.session.get(Job, job.id, populate_existing=True)


def create(kind: str, params: dict, user, *, title: str = "") -> Job:
    """The one way a Job row is made: queued, owned by ``user`` (None: the system), committed.
    Refused (ValueError) for a kind no task is registered for."""
    return _create(kind, params, created_by_id=user.id if user is not None else None, title=title)


def _create(
    kind: str,
    params: dict,
    *,
    created_by_id: int | None,
    title: str = "",
    retry_of_id: int | None = None,
) -> Job:
    if task_for(kind) is None:
        raise ValueError(f"no task registered for job kind {kind!r}")
    job = Job(
        kind=kind,
        status="queued",
        title=title[:200],
        params=json.dumps(params, ensure_ascii=False),
        created_by_id=created_by_id,
        retry_of_id=retry_of_id,
    )
    db.session.add(job)
    db.session.commit()
    return job


def _actor_for(user) -> Actor:
    """Who the work runs as (the audit trail names them): ``user`` when given, at the
    request's address; else whoever acts now."""
    actor = current_actor()
    if user is not None and actor.user_id != user.id:
        actor = Actor(user.id, user.username, actor.ip)
    return actor


def _dispatch(job: Job, actor: Actor) -> None:
    """Hand a committed, queued Job to RQ or to this process's worker thread."""
    app = current_app._get_current_object()
    if redis_url(app):
        try:
            _enqueue_rq(app, job.id, actor)
        except Exception as exc:  # Redis away: the job fails visibly and can be retried
            app.logger.exception("job %s (%s): could not be queued", job.id, job.kind)
            job.status = "failed"
            job.error = f"could not queue the work: {type(exc).__name__}: {exc}"[:2000]
            job.finished_at = utcnow()
            db.session.commit()
    else:
        _handles[(id(app), job.id)] = threading.Event()
        _ensure_worker()
        _queue.put((app, job.id, actor))


def retry(job: Job, user) -> Job:
    """Queue a failed job again as a new attempt with the same parameters; the failed Job is
    kept (and names the attempt that followed it). ``user`` is who asked (the job's owner or
    an administrator; the caller checks): the new attempt runs as them and belongs to the
    failed job's owner. Refused (JobError) unless the job failed and was not retried yet, or
    when what it read is gone (an uploaded file is deleted once its import has run)."""
    locked = db.session.execute(
        sa.select(Job).where(Job.id == job.id).with_for_update()
    ).scalar_one()
    if locked.status != "failed":
        raise JobError(_l("Only work that failed can be tried again."))
    later = retried_as(locked)
    if later is not None:
        raise JobError(_l("This work was already tried again (#%(n)s).", n=later))
    if task_for(locked.kind) is None:
        raise JobError(_l("This kind of work no longer exists."))
    params = params_of(locked)
    path = params.get("path")
    if isinstance(path, str) and path and not os.path.exists(path):
        raise JobError(_l("The file this work read is no longer kept: upload it again."))
    actor = _actor_for(user)
    attempt = _create(
        locked.kind,
        params,
        created_by_id=locked.created_by_id,
        title=locked.title,
        retry_of_id=locked.id,
    )
    _dispatch(attempt, actor)
    return attempt


def retried_as(job: Job) -> int | None:
    """The id of the attempt that retried ``job``, if any."""
    return db.session.scalar(sa.select(Job.id).where(Job.retry_of_id == job.id).limit(1))


def can_retry(job: Job) -> bool:
    return job.status == "failed" and task_for(job.kind) is not None and retried_as(job) is None


def visible_to(job: Job, user) -> bool:
    """A job is seen by the user who submitted it and by administrators."""
    return user is not None and (job.created_by_id == user.id or user.has_role("admin"))


def status(job: Job) -> dict:
    """The job's state for the page that follows it (live figures when this process runs it)."""
    app = current_app._get_current_object()
    live = _live.get((id(app), job.id))
    if live is None and job.status == "running" and redis_url(app):
        live = _live_from_redis(app, job.id)
    phase, done, total = (job.message, job.progress, job.total)
    if live is not None and job.status not in FINISHED:
        phase, done, total = live
    task = task_for(job.kind)
    label = task.phases.get(phase) if task is not None and phase else None
    percent = None
    if job.status in FINISHED:
        percent = 100
    elif total:
        percent = max(0, min(100, round(100 * done / total)))
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "finished": job.status in FINISHED,
        "phase": phase,
        "phase_label": str(label) if label is not None else "",
        "progress": done,
        "total": total,
        "percent": percent,
        "retry_of": job.retry_of_id,
    }


def params_of(job: Job) -> dict:
    return json.loads(job.params or "{}")


def describe(job: Job) -> str:
    """What the job is about, in the reader's language ("" when the task does not say)."""
    task = task_for(job.kind)
    if task is None or task.describe is None:
        return ""
    return str(task.describe(params_of(job)))


def result_of(job: Job):
    """The stored result, as the task presents it (a plain dict when it does not say)."""
    if job.result is None:
        return None
    data = json.loads(job.result)
    task = task_for(job.kind)
    if task is not None and task.present is not None:
        return task.present(data)
    return data


def wait(job: Job | int, timeout: float = 60.0) -> bool:  # float-ok: seconds
    """Block until the job is finished (tests, command line); True if it is. A job run by this
    process's thread is awaited directly; any other (RQ) by reading its row."""
    job_id = job.id if isinstance(job, Job) else job
    app = current_app._get_current_object()
    handle = _handles.get((id(app), job_id))
    if handle is not None:
        return handle.wait(timeout)
    if not redis_url(app):
        return True
    deadline = time.monotonic() + timeout
    table = Job.__table__
    while True:
        with db.engine.connect() as connection:
            state = connection.execute(
                sa.select(table.c.status).where(table.c.id == job_id)
            ).scalar()
        if state is None or state in FINISHED:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# The RQ backend


def redis_url(app=None) -> str | None:
    """The Redis URL jobs go through, or None for the local thread: config REDIS_URL when the
    app has that key, else the environment's RECOVERY_REDIS_URL."""
    app = app or current_app._get_current_object()
    if "REDIS_URL" in app.config:
        return app.config["REDIS_URL"] or None
    return os.environ.get("RECOVERY_REDIS_URL", "").strip() or None


def backend(app=None) -> str:
    return "rq" if redis_url(app) else "local"


_connections: dict[str, object] = {}
_connections_lock = threading.Lock()


def redis_connection(app=None):
    from redis import Redis

    url = redis_url(app)
    with _connections_lock:
        connection = _connections.get(url)
        if connection is None:
            connection = _connections[url] = Redis.from_url(url)
        return connection


def queue_name(app=None) -> str:
    """Config JOBS_QUEUE, else the environment's RECOVERY_JOBS_QUEUE, else "recovery"."""
    app = app or current_app._get_current_object()
    return (
        app.config.get("JOBS_QUEUE")
        or os.environ.get("RECOVERY_JOBS_QUEUE", "").strip()
        or DEFAULT_QUEUE
    )


def rq_queue(app=None):
    from rq import Queue

    app = app or current_app._get_current_object()
    return Queue(queue_name(app), connection=redis_connection(app))


def _enqueue_rq(app, job_id: int, actor: Actor) -> None:
    rq_queue(app).enqueue_call(
        perform,
        args=(job_id, actor.user_id, actor.name, actor.ip),
        timeout=app.config.get("JOBS_TIMEOUT") or JOB_TIMEOUT,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"recovery job {job_id}",
    )


_worker_app = None  # the application `flask jobs worker` runs its jobs in


def set_worker_app(app) -> None:
    global _worker_app
    _worker_app = app


def perform(job_id: int, user_id: int | None, name: str, ip: str | None) -> None:
    """What the RQ worker runs: the job, in the worker's application (or the one whose
    context is pushed, or a new one from the environment)."""
    app = _worker_app
    if app is None and has_app_context():
        app = current_app._get_current_object()
    if app is None:
        from recovery import create_app

        app = create_app()
    run(app, job_id, Actor(user_id, name, ip))


def _live_key(app, job_id: int) -> str:
    return f"{queue_name(app)}:progress:{job_id}"


def _live_from_redis(app, job_id: int):
    try:
        raw = redis_connection(app).get(_live_key(app, job_id))
    except Exception:  # Redis away: the Job row's figures serve
        return None
    if not raw:
        return None
    phase, done, total = json.loads(raw)
    return phase, done, total


# ---------------------------------------------------------------------------------------------
# The worker

_queue: queue.Queue = queue.Queue()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()
_live: dict[tuple[int, int], tuple[str, int, int]] = {}
_handles: dict[tuple[int, int], threading.Event] = {}


def _ensure_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work_forever, name="recovery-jobs", daemon=True)
            _worker.start()


def _work_forever() -> None:
    while True:
        app, job_id, actor = _queue.get()
        try:
            run(app, job_id, actor)
        except Exception:  # run() records failures itself; this only guards the loop
            log.exception("job %s: the runner failed", job_id)
        finally:
            _queue.task_done()


class _Progress:
    """The callable a task reports progress to."""

    def __init__(self, app, job_id: int):
        self.app = app
        self.job_id = job_id
        self.key = (id(app), job_id)
        self.last_write = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        _live[self.key] = (phase, done, total)
        now = time.monotonic()
        if now - self.last_write >= PERSIST_INTERVAL or (total and done >= total):
            self.last_write = now
            self._persist(phase, done, total)
            self._publish(phase, done, total)

    def _publish(self, phase: str, done: int, total: int) -> None:
        """On RQ, the live figure for pages served by other processes (the row may lag on
        SQLite while the task writes)."""
        if not redis_url(self.app):
            return
        try:
            redis_connection(self.app).set(
                _live_key(self.app, self.job_id), json.dumps([phase, done, total]), ex=LIVE_TTL
            )
        except Exception:  # Redis away: the row still carries the figure
            log.warning("job %s: could not publish progress to Redis", self.job_id)

    def _persist(self, phase: str, done: int, total: int) -> None:
        """Write the figure on a connection of its own; give up at once if the database is
        busy (SQLite while the task writes): the live figure still serves this process."""
        table = Job.__table__
        try:
            with db.engine.connect() as connection:
                sqlite = connection.dialect.name == "sqlite"
                if sqlite:
                    connection.exec_driver_sql("PRAGMA busy_timeout=0")
                try:
                    connection.execute(
                        table.update()
                        .where(table.c.id == self.job_id)
                        .values(message=phase, progress=done, total=total)
                    )
                    connection.commit()
                finally:
                    if sqlite:
                        connection.rollback()
                        connection.exec_driver_sql("PRAGMA busy_timeout=10000")
        except sa.exc.OperationalError:
            pass


def run(app, job_id: int, actor: Actor) -> None:
    """Run one job to its end inside its own application context; never raises."""
    key = (id(app), job_id)
    try:
        with app.app_context(), acting_as(actor):
            job = db.session.get(Job, job_id)
            if job is None or job.status != "queued":  # gone, or already run (a redelivery)
                return
            job.status = "running"
            job.started_at = utcnow()
            db.session.commit()
            task = task_for(job.kind)
            params = json.loads(job.params or "{}")
            try:
                if task is None:
                    raise LookupError(f"no task registered for job kind {job.kind!r}")
                result = task.work(params, _Progress(app, job_id))
                # The task may have expunged it; progress was written on another connection.
                job = db.session.get(Job, job_id, populate_existing=True)
                job.status = "done"
                job.result = json.dumps(result, ensure_ascii=False)
                job.message = None
            except Exception as exc:
                db.session.rollback()
                app.logger.exception("job %s (%s) failed", job_id, getattr(job, "kind", "?"))
                job = db.session.get(Job, job_id)
                job.status = "failed"
                job.error = f"{type(exc).__name__}: {exc}"[:2000]
            job.finished_at = utcnow()
            db.session.commit()
    except Exception:
        log.exception("job %s: could not record its outcome", job_id)
    finally:
        _live.pop(key, None)
        if redis_url(app):
            try:
                redis_connection(app).delete(_live_key(app, job_id))
            except Exception:
                log.warning("job %s: could not clear its progress in Redis", job_id)
        handle = _handles.pop(key, None)
        if handle is not None:
            handle.set()
