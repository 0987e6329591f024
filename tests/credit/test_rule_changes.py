"""A change of the hold rules (credit.* settings): the settings page submits the job that
re-evaluates everybody instead of doing it inside the request; until the job has run, the
credit check applies the new rules live, the counterparty panel re-evaluates its one
counterparty, and the holds page says that its list may follow the previous rules."""

import queue

import pytest
import sqlalchemy as sa

from recovery.audit.context import Actor
from recovery.credit import services
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.jobs import tasks
from recovery.jobs.models import Job
from recovery.settings.services import all_texts, update_settings
from tests.conftest import login


def _two_held(w):
    a, b = w.counterparty(), w.counterparty()
    w.overdue_item(a, "100.00", days=10)
    w.overdue_item(b, "100000.00", days=10)
    return a.id, a.code, b.id


def _on_hold(app, cp_id) -> bool:
    with app.app_context():
        return services.status_of(cp_id).on_hold


def _reevaluation_jobs(app) -> list[Job]:
    with app.app_context():
        found = db.session.scalars(sa.select(Job).where(Job.kind == tasks.REEVALUATE_ALL)).all()
        db.session.expunge_all()
        return found


@pytest.fixture
def held_back(monkeypatch):
    """Jobs are stored but not run by the local thread: the test runs them itself. Counts
    the calls of reevaluate_all (the job's work)."""
    calls = []
    real = services.reevaluate_all

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "reevaluate_all", counted)
    monkeypatch.setattr(jobs, "_ensure_worker", lambda: None)
    monkeypatch.setattr(jobs, "_queue", queue.Queue())
    return calls


def _settings_form(app, **changes) -> dict:
    with app.app_context():
        values = all_texts()
    values.update(changes)
    return values


def test_a_hold_rule_change_submits_one_job_and_the_job_sets_the_statuses(
    app, client, within, users, held_back
):
    a_id, a_code, b_id = within(_two_held)
    assert _on_hold(app, a_id) and _on_hold(app, b_id)
    login(client, "admin")
    response = client.post(
        "/admin/settings/", data=_settings_form(app, **{"credit.overdue_amount": "5000"})
    )
    assert response.status_code == 302
    assert held_back == []  # not re-evaluated inside the request
    (job,) = _reevaluation_jobs(app)
    assert job.status == "queued" and job.created_by_id == users["admin"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/jobs/{job.id}"' in page  # the flash links to the job's progress
    # Until the job has run, the stored statuses follow the previous rules ...
    assert _on_hold(app, a_id) and _on_hold(app, b_id)
    with app.app_context():
        assert services.rules_pending().job.id == job.id
        # ... but the credit check applies the new rules at once.
        assert services.credit_check(a_code).decision == "allow"
    client.post("/logout")
    login(client, "finance")
    holds = client.get("/credit/").get_data(as_text=True)
    assert "The hold rules were changed" in holds
    # The counterparty page re-evaluates its own counterparty.
    assert client.get(f"/parties/counterparties/{a_id}").status_code == 200
    assert not _on_hold(app, a_id) and _on_hold(app, b_id)
    assert held_back == []

    with app.app_context():  # the job, run here and now as the worker would
        jobs.run(app, job.id, Actor(users["admin"], "admin"))
    (job,) = _reevaluation_jobs(app)
    assert job.status == "done" and held_back == [1]
    assert not _on_hold(app, a_id) and _on_hold(app, b_id)
    with app.app_context():
        assert services.rules_pending() is None
    assert "The hold rules were changed" not in client.get("/credit/").get_data(as_text=True)


def test_a_setting_that_is_no_hold_rule_submits_nothing(app, client, within, held_back):
    within(_two_held)
    login(client, "admin")
    response = client.post(
        "/admin/settings/", data=_settings_form(app, **{"conduct.max_calls_per_day": "2"})
    )
    assert response.status_code == 302
    assert _reevaluation_jobs(app) == [] and held_back == []
    with app.app_context():
        assert services.rules_pending() is None


def test_saving_unchanged_hold_rules_submits_nothing(app, client, within, held_back):
    within(_two_held)
    login(client, "admin")
    assert client.post("/admin/settings/", data=_settings_form(app)).status_code == 302
    assert _reevaluation_jobs(app) == []


def test_a_failed_reevaluation_keeps_the_warning_and_the_cli_clears_it(app, world, monkeypatch):
    a_id, _, _ = _two_held(world)
    update_settings({"credit.overdue_amount": "5000"})
    db.session.commit()
    assert services.rules_pending().job is None  # changed without the page: no job yet

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "reevaluate_all", broken)
    job = services.reevaluate_all_now()
    assert job.status == "failed" and services.rules_pending().job.id == job.id
    monkeypatch.undo()
    assert services.status_of(a_id).on_hold
    result = app.test_cli_runner().invoke(args=["credit", "reevaluate"])
    assert result.exit_code == 0, result.output
    assert services.rules_pending() is None
    db.session.expire_all()
    assert not services.status_of(a_id).on_hold


def test_the_job_keeps_a_status_written_by_a_change_after_its_read(world, monkeypatch):
    """reevaluate_all reads everybody's figures, then writes: a counterparty re-evaluated in
    between (a receipt committed while the job runs) keeps what that change wrote."""
    from recovery.core.timeutil import utcnow
    from recovery.credit import queries
    from recovery.credit.models import CreditStatus

    a_id, _, b_id = _two_held(world)
    update_settings({"credit.overdue_amount": "5000"})  # a is released by the new rules ...
    db.session.commit()
    real = queries.figures_for

    def read_then_someone_writes(*args, **kwargs):
        figures = real(*args, **kwargs)
        # ... and b too, by "a change" committed after the job's read (b's figures as the
        # job read them still hold it).
        db.session.execute(
            sa.update(CreditStatus)
            .where(CreditStatus.counterparty_id == b_id)
            .values(on_hold=False, rules="", reasons=[], evaluated_at=utcnow())
        )
        return figures

    monkeypatch.setattr(queries, "figures_for", read_then_someone_writes)
    assert services.reevaluate_all() == 1  # a only
    db.session.commit()
    db.session.expire_all()
    assert not services.status_of(a_id).on_hold
    assert not services.status_of(b_id).on_hold  # kept as the later change wrote it
