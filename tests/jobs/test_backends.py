"""Background jobs on both backends: RQ on a real Redis server, and the local worker thread.

Submit, progress, success, failure with its error, retry (a new attempt, the failed one
kept), and the job's page and JSON read again afterwards (a page reload)."""

from __future__ import annotations

import json

import pytest
from rq import SimpleWorker

from recovery.auth.models import User
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.jobs.models import Job
from tests.conftest import login

calls: dict[str, int] = {}


def _steps(params, progress):
    """Three steps of progress; the figure is checked, mid-run, as another process sees it."""
    seen = []
    for done in range(1, 4):
        progress("step", done, 3)
        seen.append(jobs._live_from_redis(progress.app, progress.job_id))
    return {"n": params["n"], "seen": [list(s) if s else None for s in seen]}


def _flaky(params, progress):
    """Fails on its first run, succeeds on the next (what a retry is for)."""
    calls[params["key"]] = calls.get(params["key"], 0) + 1
    if calls[params["key"]] == 1:
        raise RuntimeError("the bank file was not there yet")
    progress("step", 1, 1)
    return {"attempt": calls[params["key"]]}


jobs.register(jobs.Task(kind="test-steps", label="steps", work=_steps))
jobs.register(jobs.Task(kind="test-flaky", label="flaky", work=_flaky))


def work_off(app) -> None:
    """A real RQ worker, in this process, until the queue is empty."""
    with app.app_context():
        queue = jobs.rq_queue(app)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


@pytest.fixture
def finance(make_user):
    return make_user("fin", "finance")


def submit(app, kind, params, user_id):
    with app.test_request_context():
        return jobs.submit(kind, params, db.session.get(User, user_id)).id


def row(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


# ---------------------------------------------------------------------------------------------
# RQ


def test_rq_job_runs_in_the_worker_with_progress_and_survives_a_reload(
    rq_app, client, finance, monkeypatch
):
    monkeypatch.setattr(jobs, "PERSIST_INTERVAL", 0)  # every figure written, not 2 a second
    login(client, "fin")
    job_id = submit(rq_app, "test-steps", {"n": 7}, finance.id)
    with rq_app.app_context():
        assert jobs.backend() == "rq"
        assert jobs.rq_queue().count == 1
    assert row(rq_app, job_id).status == "queued"  # nothing runs it in the web process
    assert client.get(f"/jobs/{job_id}.json").get_json()["status"] == "queued"
    assert 'data-testid="job-progress"' in client.get(f"/jobs/{job_id}").get_data(as_text=True)

    work_off(rq_app)

    job = row(rq_app, job_id)
    assert job.status == "done" and job.started_at and job.finished_at
    assert (job.message, job.progress, job.total) == (None, 3, 3)
    result = jobs.params_of(job)  # the parameters stay as submitted
    assert result == {"n": 7}
    with rq_app.app_context():
        stored = jobs.result_of(db.session.get(Job, job_id))
    assert stored["n"] == 7
    # Mid-run, the live figure was in Redis for pages served by other processes.
    assert stored["seen"] == [["step", 1, 3], ["step", 2, 3], ["step", 3, 3]]
    with rq_app.app_context():
        assert jobs.rq_queue().count == 0
        assert jobs._live_from_redis(rq_app, job_id) is None  # cleared at the end
    for _reload in range(2):
        state = client.get(f"/jobs/{job_id}.json").get_json()
        assert state["status"] == "done" and state["finished"] and state["percent"] == 100
        html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert 'data-testid="job-progress"' not in html and "job-retry" not in html


def test_rq_failure_shows_the_error_and_is_retried(rq_app, client, make_user, finance):
    key = "rq-flaky"
    calls.pop(key, None)
    login(client, "fin")
    job_id = submit(rq_app, "test-flaky", {"key": key}, finance.id)
    work_off(rq_app)

    failed = row(rq_app, job_id)
    assert failed.status == "failed" and "the bank file was not there yet" in failed.error
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["status"] == "failed" and state["finished"]
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="job-failed"' in html and 'data-testid="job-retry"' in html
    make_user("boss", "admin")
    admin = rq_app.test_client()
    login(admin, "boss")
    admin_html = admin.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="job-error"' in admin_html
    assert "RuntimeError: the bank file was not there yet" in admin_html

    # Another finance user may neither see nor retry it.
    make_user("other", "finance")
    other = rq_app.test_client()
    login(other, "other")
    assert other.post(f"/jobs/{job_id}/retry").status_code == 404

    response = client.post(f"/jobs/{job_id}/retry")
    assert response.status_code == 302
    with rq_app.app_context():
        attempt = db.session.scalar(db.select(Job).where(Job.retry_of_id == job_id))
        assert attempt is not None and attempt.id != job_id
        assert response.headers["Location"].endswith(f"/jobs/{attempt.id}")
        assert attempt.status == "queued" and attempt.kind == "test-flaky"
        assert jobs.params_of(attempt) == {"key": key}
        assert attempt.created_by_id == finance.id
        assert jobs.rq_queue().count == 1
        attempt_id = attempt.id
    assert row(rq_app, job_id).status == "failed"  # the failed attempt is kept as it was

    work_off(rq_app)
    done = row(rq_app, attempt_id)
    assert done.status == "done" and done.error is None
    html = client.get(f"/jobs/{attempt_id}").get_data(as_text=True)
    assert 'data-testid="job-retry-of"' in html
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="job-retried"' in html and 'data-testid="job-retry"' not in html

    # A second retry of the same failed job, or a retry of a finished one, is refused.
    for target in (job_id, attempt_id):
        assert client.post(f"/jobs/{target}/retry").status_code == 302
    with rq_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Job.id))) == 2
        assert jobs.rq_queue().count == 0


def test_a_job_that_cannot_be_queued_fails_visibly_and_is_retried(rq_app, client, finance):
    good = rq_app.config["REDIS_URL"]
    with rq_app.app_context():
        closed = f"redis://127.0.0.1:{_closed_port()}/0"
    rq_app.config["REDIS_URL"] = closed
    login(client, "fin")
    job_id = submit(rq_app, "test-steps", {"n": 3}, finance.id)
    failed = row(rq_app, job_id)
    assert failed.status == "failed" and "could not queue the work" in failed.error
    rq_app.config["REDIS_URL"] = good  # Redis is back
    response = client.post(f"/jobs/{job_id}/retry")
    assert response.status_code == 302
    work_off(rq_app)
    with rq_app.app_context():
        attempt = db.session.scalar(db.select(Job).where(Job.retry_of_id == job_id))
        assert attempt.status == "done"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_cli_worker_runs_the_queue(rq_app, finance):
    job_id = submit(rq_app, "test-steps", {"n": 1}, finance.id)
    try:
        result = rq_app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    finally:
        jobs.set_worker_app(None)
    assert result.exit_code == 0, result.output
    assert row(rq_app, job_id).status == "done"
    status = rq_app.test_cli_runner().invoke(args=["jobs", "status"])
    assert "RQ" in status.output and "0 job(s) waiting" in status.output


def test_a_worker_process_started_from_the_command_line_runs_the_job(rq_app, finance, tmp_path):
    """`flask --app recovery jobs worker --burst` in a process of its own, configured by the
    environment only, as on a worker machine."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    job_id = submit(rq_app, "credit.reevaluate_all", {}, finance.id)
    flask = Path(sys.executable).with_name("flask")
    env = {
        **os.environ,
        "RECOVERY_DATABASE_URL": rq_app.config["SQLALCHEMY_DATABASE_URI"],
        "RECOVERY_REDIS_URL": rq_app.config["REDIS_URL"],
        "RECOVERY_JOBS_QUEUE": rq_app.config["JOBS_QUEUE"],
        "RECOVERY_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "RECOVERY_SECRET_KEY": "worker-test-key",
    }
    done = subprocess.run(
        [str(flask), "--app", "recovery", "jobs", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    job = row(rq_app, job_id)
    assert job.status == "done", job.error
    assert job.result is not None and "changed" in job.result


def test_reevaluating_all_holds_is_a_job(rq_app, finance):
    job_id = submit(rq_app, "credit.reevaluate_all", {}, finance.id)
    work_off(rq_app)
    job = row(rq_app, job_id)
    assert job.status == "done", job.error
    assert "changed" in json.loads(job.result)


def test_wait_follows_an_rq_job_by_its_row(rq_app, finance):
    job_id = submit(rq_app, "test-steps", {"n": 2}, finance.id)
    with rq_app.app_context():
        assert jobs.wait(job_id, timeout=0.2) is False
    work_off(rq_app)
    with rq_app.app_context():
        assert jobs.wait(job_id, timeout=5) is True


# ---------------------------------------------------------------------------------------------
# The local worker thread


def test_local_failure_is_retried_as_a_new_attempt(app, client, finance):
    key = "local-flaky"
    calls.pop(key, None)
    login(client, "fin")
    job_id = submit(app, "test-flaky", {"key": key}, finance.id)
    with app.app_context():
        assert jobs.backend() == "local"
        assert jobs.wait(job_id, timeout=30)
    assert row(app, job_id).status == "failed"
    response = client.post(f"/jobs/{job_id}/retry")
    assert response.status_code == 302
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert jobs.wait(attempt_id, timeout=30)
    attempt = row(app, attempt_id)
    assert attempt.status == "done" and attempt.retry_of_id == job_id
    assert row(app, job_id).status == "failed"
    assert client.get(f"/jobs/{attempt_id}.json").get_json()["retry_of"] == job_id


def test_a_retry_of_an_import_whose_file_is_gone_is_refused(app, client, finance):
    def work(params, progress):
        raise RuntimeError("no")

    jobs.register(jobs.Task(kind="test-file", label="file", work=work))
    login(client, "fin")
    job_id = submit(app, "test-file", {"path": "/nonexistent/upload.xlsx"}, finance.id)
    with app.app_context():
        assert jobs.wait(job_id, timeout=30)
    response = client.post(f"/jobs/{job_id}/retry", follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Job.id))) == 1
