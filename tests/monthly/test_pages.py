"""The monthly report page: who may use it, generating in the background, downloading."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.jobs.models import Job
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder
from tests.monthly.scenario import JUNE, build_june
from tests.monthly.test_report import pdf_text

PASSWORD = "pw-123456789"


@pytest.fixture
def june(app):
    with app.app_context():
        build_june(LedgerBuilder())
        db.session.remove()


def fetch(client, url):
    """GET and close (a file is streamed from disk)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def sign_in(client, username):
    client.post("/logout")
    assert login(client, username, PASSWORD).status_code == 302


def test_who_may_use_it(client, make_user):
    for username, role, status in (
        ("ee", "executive", 200),
        ("ff", "finance", 200),
        ("ss", "supervisor", 200),
        ("ll", "legal", 403),
        ("pp", "sales", 403),
    ):
        make_user(username, role, password=PASSWORD)
        sign_in(client, username)
        assert client.get("/reports/monthly/").status_code == status
        assert fetch(client, "/reports/monthly/1/download").status_code in (status, 404)


def test_a_bad_month_is_shown_again_with_the_reason(client, june):
    sign_in(client, "exec")
    page = client.get("/reports/monthly/").get_data(as_text=True)
    assert 'data-testid="monthly-form"' in page
    response = client.post("/reports/monthly/", data={"month": "2026-13", "pdf": "1"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'value="2026-13"' in text and "is-invalid" in text
    response = client.post("/reports/monthly/", data={"month": "2999-01", "pdf": "1"})
    assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True)


def test_generate_follow_and_download(app, client, june, tmp_path):
    sign_in(client, "exec")
    response = client.post("/reports/monthly/", data={"month": JUNE, "pdf": "1"})
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        assert jobs.wait(job_id, timeout=240)
        job = db.session.get(Job, job_id)
        assert job.status == "done", job.error
        result = json.loads(job.result)
    assert result["filename"] == "monthly-report-2026-06.pdf"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="download"' in page
    download = fetch(client, f"/reports/monthly/{job_id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert "monthly-report-2026-06.pdf" in download.headers["Content-Disposition"]
    assert "甲公司" in pdf_text(download.data, tmp_path)
    # The company's report: finance may fetch the executive's too; the list shows it.
    sign_in(client, "fin1")
    assert fetch(client, f"/reports/monthly/{job_id}/download").status_code == 200
    listing = client.get("/reports/monthly/").get_data(as_text=True)
    assert f'data-testid="download-{job_id}"' in listing
    sign_in(client, "sale")
    assert fetch(client, f"/reports/monthly/{job_id}/download").status_code == 403


def test_download_of_something_else_is_404(app, client, june):
    sign_in(client, "exec")
    with app.app_context():
        other = Job(kind="import", status="done", result=json.dumps({"file": "x.pdf"}))
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        forged = Job(
            kind="monthly_report",
            status="done",
            result=json.dumps({"file": "../../secret_key", "format": "pdf"}),
        )
        db.session.add(forged)
        db.session.commit()
        forged_id = forged.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 2
    assert client.get(f"/reports/monthly/{other_id}/download").status_code == 404
    assert client.get(f"/reports/monthly/{forged_id}/download").status_code == 404
    assert client.get("/reports/monthly/99999/download").status_code == 404
