"""One way to make a Job row (``create``) for both ``submit`` and ``run_now``; ``run_now`` runs
the job in the calling thread whatever the backend, as the user, and returns it finished."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from recovery.audit.context import current_actor
from recovery.auth.models import User
from recovery.credit import services as credit
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.jobs import tasks
from recovery.jobs.models import Job


def _who(params, progress):
    """Reports the acting user and one figure of progress."""
    progress("step", 1, 1)
    return {"n": params["n"], "actor": current_actor().user_id}


def _broken(params, progress):
    raise RuntimeError("the bank file was not there")


jobs.register(jobs.Task(kind="test-now", label="now", work=_who))
jobs.register(jobs.Task(kind="test-now-broken", label="broken", work=_broken))


@pytest.fixture
def finance(make_user):
    return make_user("fin", "finance")


def _jobs() -> list[Job]:
    return list(db.session.scalars(sa.select(Job).order_by(Job.id)))


def test_create_stores_a_queued_job_and_runs_nothing(app, finance):
    with app.app_context():
        user = db.session.get(User, finance.id)
        job = jobs.create("test-now", {"n": 1}, user, title="x" * 300)
        db.session.expire_all()  # committed: read back
        (stored,) = _jobs()
        assert stored.id == job.id and stored.status == "queued"
        assert stored.created_by_id == finance.id and stored.title == "x" * 200
        assert json.loads(stored.params) == {"n": 1}
        assert (id(app), job.id) not in jobs._handles  # not handed to any worker
        with pytest.raises(ValueError):
            jobs.create("no-such-kind", {}, user)
        assert len(_jobs()) == 1


def test_run_now_runs_here_as_the_user_on_the_local_backend(app, finance):
    with app.app_context():
        assert jobs.backend() == "local"
        job = jobs.run_now("test-now", {"n": 3}, db.session.get(User, finance.id))
        assert job.status == "done" and job.started_at and job.finished_at
        assert json.loads(job.result) == {"n": 3, "actor": finance.id}
        assert job.created_by_id == finance.id
        assert jobs._queue.empty() and (id(app), job.id) not in jobs._handles


def test_run_now_runs_here_even_on_rq(rq_app, finance):
    with rq_app.app_context():
        assert jobs.backend() == "rq"
        job = jobs.run_now("test-now", {"n": 4}, None)  # the system's work
        assert job.status == "done" and job.created_by_id is None
        assert json.loads(job.result) == {"n": 4, "actor": None}
        assert jobs.rq_queue().count == 0  # nothing was queued


def test_run_now_records_a_failure_on_the_job(app, finance):
    with app.app_context():
        job = jobs.run_now("test-now-broken", {}, db.session.get(User, finance.id))
        assert job.status == "failed"
        assert job.error == "RuntimeError: the bank file was not there"
        assert jobs.can_retry(job)


def test_reevaluating_all_holds_now_is_a_job_of_the_user(app, finance):
    with app.app_context():
        job = credit.reevaluate_all_now(db.session.get(User, finance.id))
        assert job.kind == tasks.REEVALUATE_ALL and job.status == "done"
        assert job.created_by_id == finance.id and job.params == "{}" and job.title == ""
        assert json.loads(job.result) == {"changed": 0}
        assert credit.rules_pending() is None
        assert credit.reevaluate_all_now().created_by_id is None
