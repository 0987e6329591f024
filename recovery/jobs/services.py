"""A small local runner for long work (large imports): one background thread per process.

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
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
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
    """Store a Job for ``kind`` and queue it. Commits, so that the worker can read the Job."""
    task = task_for(kind)
    if task is None:
        raise ValueError(f"no task registered for job kind {kind!r}")
    job = Job(
        kind=kind,
        status="queued",
        title=title[:200],
        params=json.dumps(params, ensure_ascii=False),
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(job)
    db.session.commit()
    app = current_app._get_current_object()
    actor = current_actor()
    if user is not None and actor.user_id != user.id:
        actor = Actor(user.id, user.username, actor.ip)
    _handles[(id(app), job.id)] = threading.Event()
    _ensure_worker()
    _queue.put((app, job.id, actor))
    return job


def visible_to(job: Job, user) -> bool:
    """A job is seen by the user who submitted it and by administrators."""
    return user is not None and (job.created_by_id == user.id or user.has_role("admin"))


def status(job: Job) -> dict:
    """The job's state for the page that follows it (live figures when this process runs it)."""
    live = _live.get((id(current_app._get_current_object()), job.id))
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
    """Block until the job is finished in this process (tests, command line); True if it is."""
    job_id = job.id if isinstance(job, Job) else job
    handle = _handles.get((id(current_app._get_current_object()), job_id))
    if handle is None:
        return True
    return handle.wait(timeout)


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
            if job is None:
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
                job = db.session.get(Job, job_id)  # the task may have expunged it
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
        handle = _handles.pop(key, None)
        if handle is not None:
            handle.set()
