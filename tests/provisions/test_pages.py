"""The provisions pages: who may see and do what, the approval through the forms, runs and
their closing, and the exports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.provisions.models import ProvisionRun, SpecificProvision
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder
from tests.provisions.scenario import build_scenario

PASSWORD = "pw-123456789"


@pytest.fixture
def scenario(app):
    with app.app_context():
        built = build_scenario(LedgerBuilder())
        ids = dict(built.ids)
        db.session.remove()
    return ids


def sign_in(client, username):
    client.post("/logout")
    response = login(client, username, PASSWORD)
    assert response.status_code == 302


def test_who_may_see_the_matrix(client, scenario):
    for username, status in (("fin1", 200), ("exec", 200), ("sale", 403)):
        sign_in(client, username)
        assert client.get("/provisions/?as_of=2026-06-30").status_code == status
        assert client.get("/provisions/specific").status_code == status
        assert client.get("/provisions/runs").status_code == status
    sign_in(client, "exec")
    assert client.get("/provisions/specific/new").status_code == 403
    assert client.post("/provisions/runs", data={"as_of": "2026-06-30"}).status_code == 403


def test_the_matrix_page_and_its_views(client, scenario):
    sign_in(client, "exec")
    page = client.get("/provisions/?as_of=2026-06-30").get_data(as_text=True)
    assert 'data-testid="fig-total">183.41<' in page
    assert 'data-key="A01"' in page and "113.40" in page
    by_department = client.get("/provisions/?as_of=2026-06-30&view=department").get_data(
        as_text=True
    )
    assert "营销二部" in by_department and "178.41" in by_department
    buckets = client.get("/provisions/?as_of=2026-06-30&view=buckets").get_data(as_text=True)
    assert "信用减值损失" in buckets and "183.41" in buckets
    empty = client.get("/provisions/?as_of=2010-01-01").get_data(as_text=True)
    assert 'data-testid="empty-state"' in empty
    bad = client.get("/provisions/?as_of=nonsense")
    assert bad.status_code == 200 and "is-invalid" in bad.get_data(as_text=True)


def test_export_downloads(client, scenario):
    sign_in(client, "fin1")
    response = client.get("/provisions/export?as_of=2026-06-30&format=csv&part=lines&lang=zh")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "provisions-2026-06-30-lines.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["客户编码", "客户名称", "部门"]
    assert len(rows) == 6
    journal = client.get("/provisions/export?as_of=2026-06-30&format=csv&part=journal&lang=en")
    rows = list(csv.reader(io.StringIO(journal.get_data().decode("utf-8-sig"))))
    assert rows[1] == [
        "1",
        "信用减值损失 Credit impairment loss",
        "183.41",
        "",
        "Charge for the period",
    ]
    xlsx = client.get("/provisions/export?as_of=2026-06-30&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/provisions/export?as_of=2026-06-30&format=pdf").status_code == 400
    assert client.get("/provisions/export?as_of=bad").status_code == 400


def propose_b01(client, **values):
    data = {
        "counterparty_code": "B01",
        "method": "rate",
        "rate": "100",
        "amount": "",
        "effective_from": "2026-01-01",
        "reason": "法院裁定破产，无可供执行财产",
        **values,
    }
    return client.post("/provisions/specific/new", data=data)


def test_propose_and_approve_through_the_pages(app, client, scenario):
    sign_in(client, "fin1")
    refused = propose_b01(client, rate="120")
    assert refused.status_code == 200
    assert "120" in refused.get_data(as_text=True)  # what was typed is shown again
    unknown = propose_b01(client, counterparty_code="NOPE")
    assert unknown.status_code == 200 and "NOPE" in unknown.get_data(as_text=True)
    assert propose_b01(client).status_code == 302
    with app.app_context():
        specific = db.session.scalar(sa.select(SpecificProvision))
        specific_id, version = specific.id, specific.version
    # The proposer cannot approve it.
    client.post(
        f"/provisions/specific/{specific_id}/decide", data={"version": version, "approve": "1"}
    )
    with app.app_context():
        assert db.session.get(SpecificProvision, specific_id).status == "proposed"
    # A sales user may not decide at all.
    sign_in(client, "sale")
    response = client.post(
        f"/provisions/specific/{specific_id}/decide", data={"version": version, "approve": "1"}
    )
    assert response.status_code == 403
    # An executive rejects without a reason: refused; then approves.
    sign_in(client, "exec")
    client.post(
        f"/provisions/specific/{specific_id}/decide", data={"version": version, "reject": "1"}
    )
    with app.app_context():
        assert db.session.get(SpecificProvision, specific_id).status == "proposed"
    # A stale form (an older version) changes nothing.
    client.post(
        f"/provisions/specific/{specific_id}/decide", data={"version": version - 1, "approve": "1"}
    )
    with app.app_context():
        assert db.session.get(SpecificProvision, specific_id).status == "proposed"
    response = client.post(
        f"/provisions/specific/{specific_id}/decide",
        data={"version": version, "approve": "1", "note": "同意全额计提"},
    )
    assert response.status_code == 302
    with app.app_context():
        specific = db.session.get(SpecificProvision, specific_id)
        assert specific.status == "approved" and specific.decision_note == "同意全额计提"
    page = client.get("/provisions/?as_of=2026-06-30").get_data(as_text=True)
    assert 'data-testid="fig-specific">700.00<' in page
    # The decision is audited.
    with app.app_context():
        from recovery.audit.models import AuditLog

        rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.table_name == "specific_provisions")
        ).all()
        assert len(rows) == 2


def test_withdraw(app, client, scenario):
    sign_in(client, "fin1")
    propose_b01(client)
    with app.app_context():
        specific = db.session.scalar(sa.select(SpecificProvision))
    sign_in(client, "fin2")
    client.post(f"/provisions/specific/{specific.id}/withdraw", data={"version": specific.version})
    with app.app_context():
        assert db.session.get(SpecificProvision, specific.id).status == "proposed"
    sign_in(client, "fin1")
    client.post(f"/provisions/specific/{specific.id}/withdraw", data={"version": specific.version})
    with app.app_context():
        assert db.session.get(SpecificProvision, specific.id).status == "withdrawn"


def test_runs_through_the_pages(app, client, scenario):
    sign_in(client, "fin1")
    response = client.post("/provisions/runs", data={"as_of": "2026-03-31", "note": "一季度"})
    assert response.status_code == 302
    with app.app_context():
        run = db.session.scalar(sa.select(ProvisionRun))
        assert run.total_provision == Decimal("168.37") and run.note == "一季度"
    page = client.get(f"/provisions/runs/{run.id}").get_data(as_text=True)
    assert 'data-testid="close-run"' in page
    response = client.post(f"/provisions/runs/{run.id}/close", data={"version": run.version})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ProvisionRun, run.id).status == "closed"
    page = client.get("/provisions/?as_of=2026-06-30").get_data(as_text=True)
    assert 'data-testid="mv-opening">168.37<' in page
    assert client.get(f"/provisions/runs/{run.id}/export?format=xlsx").status_code == 200
    assert client.get("/provisions/runs/999").status_code == 404
    # A run in the closed period is refused with the reason.
    response = client.post("/provisions/runs", data={"as_of": "2026-03-01"}, follow_redirects=True)
    assert "2026-03-31" in response.get_data(as_text=True)
