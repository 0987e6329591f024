"""The web side: upload → background job → errors table or summary; exports; permissions."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from recovery.auth.models import User
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.jobs.models import Job
from recovery.ledger.models import Item
from tests.conftest import login
from tests.imports.conftest import ITEM_HEADER, RECEIPT_HEADER, csv_bytes, item_row, receipt_row

D = date


@pytest.fixture
def finance(client, make_user):
    user = make_user("fin", "finance", language="en")
    assert login(client, "fin").status_code == 302
    return user


def upload(client, data: bytes, filename="items.csv", kind="items", dry_run=False):
    form = {"kind": kind, "file": (io.BytesIO(data), filename)}
    if dry_run:
        form["dry_run"] = "y"
    return client.post("/ledger/import/", data=form, content_type="multipart/form-data")


def finished_job(app, response) -> int:
    assert response.status_code == 302, response.data[:500]
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    job_id = int(match.group(1))
    with app.app_context():
        assert jobs.wait(job_id, timeout=60)
    return job_id


def test_the_upload_page(client, finance):
    page = client.get("/ledger/import/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert "counterparty_code" in html and "客户编码" in html


def test_a_file_with_errors_shows_them_all_and_writes_nothing(app, client, finance):
    rows = [item_row(amount="-1"), item_row(document_no="B", due_on="2025-02-30")]
    job_id = finished_job(app, upload(client, csv_bytes(ITEM_HEADER, rows)))
    page = client.get(f"/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="import-errors"' in html
    assert 'data-row="2" data-code="amount_negative"' in html
    assert 'data-row="3" data-code="impossible_date"' in html
    assert "There is no such date." in html and "<code>2025-02-30</code>" in html
    assert "nothing was written" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0


def test_a_correct_file_is_imported_and_summarised(app, client, finance):
    job_id = finished_job(app, upload(client, csv_bytes(ITEM_HEADER, [item_row()], bom=True)))
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="import-done"' in html
    assert re.search(r'data-table="items">.*?data-count="new">1<', html, re.S)
    with app.app_context():
        assert db.session.scalar(sa.select(Item.document_no)) == "INV001"
        job = db.session.get(Job, job_id)
        assert job.status == "done" and job.created_by_id == finance.id
        # The upload was stored under a generated name and deleted after the job.
        params = jobs.params_of(job)
        assert params["filename"] == "items.csv" and "items.csv" not in params["path"]
    assert list((Path(app.config["UPLOAD_FOLDER"]) / "imports").glob("*")) == []


def test_a_dry_run_writes_nothing(app, client, finance):
    job_id = finished_job(app, upload(client, csv_bytes(ITEM_HEADER, [item_row()]), dry_run=True))
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Dry run" in html and 'data-count="new">1<' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0


def test_an_xlsx_upload(app, client, finance, tmp_path):
    from tests.imports.conftest import write_xlsx

    path = write_xlsx(tmp_path / "台帐.xlsx", ITEM_HEADER, [item_row()])
    job_id = finished_job(app, upload(client, path.read_bytes(), filename="台帐.xlsx"))
    with app.app_context():
        assert db.session.get(Job, job_id).title == "台帐.xlsx"
        assert db.session.scalar(sa.select(Item.document_no)) == "INV001"


def test_receipts_upload(app, client, finance):
    finished_job(app, upload(client, csv_bytes(ITEM_HEADER, [item_row()])))
    body = csv_bytes(RECEIPT_HEADER, [receipt_row(document_no="INV001")])
    job_id = finished_job(app, upload(client, body, filename="r.csv", kind="receipts"))
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-table="receipts"' in html


def test_wrong_extension_and_missing_file_are_form_errors(client, finance):
    page = upload(client, b"a,b", filename="items.xls")
    assert page.status_code == 200
    assert "Only .csv and .xlsx files can be imported." in page.get_data(as_text=True)
    page = client.post("/ledger/import/", data={"kind": "items"})
    assert "Choose a file." in page.get_data(as_text=True)


def test_an_upload_over_the_limit_is_refused_cleanly(app, client, finance):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = upload(client, b"x" * 20_000)
    assert response.status_code == 413
    assert "larger than the allowed size" in response.get_data(as_text=True)


def test_only_finance_uploads(client, login_as):
    login_as("sales")
    assert client.get("/ledger/import/").status_code == 403
    assert upload(client, csv_bytes(ITEM_HEADER, [item_row()])).status_code == 403


def test_the_job_json_and_page_follow_progress(app, client, finance):
    job_id = finished_job(app, upload(client, csv_bytes(ITEM_HEADER, [item_row()])))
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["status"] == "done" and state["finished"] is True and state["percent"] == 100
    assert {"progress", "total", "phase", "phase_label", "kind", "id"} <= set(state)


def test_a_running_job_shows_a_progress_bar_fed_by_script(app, client, finance):
    with app.app_context():
        job = Job(kind="import", status="running", created_by_id=finance.id, progress=40)
        job.params, job.message, job.total = '{"kind": "items"}', "reading", 100
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = client.get(f"/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert f'data-job-url="/jobs/{job_id}.json"' in html
    assert 'data-job-percent="40"' in html and "Reading and checking rows" in html
    assert "js/jobs.js" in html and "<script>" not in html and "style=" not in html
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert (state["status"], state["percent"], state["phase"]) == ("running", 40, "reading")
    assert state["phase_label"] == "Reading and checking rows"


def test_live_progress_is_reported_while_the_job_runs(app, finance):
    """What the task reports is what the JSON view of the same process answers, at once."""
    seen = []

    def work(params, progress):
        progress("reading", 3, 10)
        with app.test_client() as other:
            login(other, "fin")
            seen.append(other.get(f"/jobs/{progress.job_id}.json").get_json())
        return {}

    jobs.register(jobs.Task(kind="test-live", label="test", work=work))
    with app.test_request_context():
        job = jobs.submit("test-live", {}, db.session.get(User, finance.id))
        assert jobs.wait(job.id, timeout=30)
    assert seen[0]["status"] == "running"
    assert (seen[0]["progress"], seen[0]["total"], seen[0]["percent"]) == (3, 10, 30)


def test_a_failing_task_is_recorded_as_failed(app, client, finance):
    def work(params, progress):
        raise RuntimeError("boom")

    jobs.register(jobs.Task(kind="test-fail", label="test", work=work))
    with app.test_request_context():
        job = jobs.submit("test-fail", {}, db.session.get(User, finance.id))
        job_id = job.id
        assert jobs.wait(job_id, timeout=30)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "failed" and "boom" in job.error
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="job-failed"' in html and "boom" not in html


def test_jobs_are_seen_by_their_creator_and_admin_only(app, client, make_user, finance):
    job_id = finished_job(app, upload(client, csv_bytes(ITEM_HEADER, [item_row()])))
    assert client.get("/jobs/").get_data(as_text=True).count(f'/jobs/{job_id}"') == 1
    for username, role in (("other", "finance"), ("boss", "admin")):
        make_user(username, role)
        other = app.test_client()
        login(other, username)
        expected = 200 if role == "admin" else 404
        assert other.get(f"/jobs/{job_id}").status_code == expected
        assert other.get(f"/jobs/{job_id}.json").status_code == expected
        listed = f'/jobs/{job_id}"' in other.get("/jobs/").get_data(as_text=True)
        assert listed is (role == "admin")
