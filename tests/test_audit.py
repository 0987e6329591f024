"""The audit trail: recorded centrally, chained by hash, append-only (issue #2, point 6)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from recovery.audit.context import Actor, acting_as
from recovery.audit.listeners import AuditTamperError
from recovery.audit.models import AuditLog
from recovery.audit.services import verify_chain
from recovery.auth import services
from recovery.auth.models import Department
from recovery.extensions import db


def _entries(table=None):
    query = sa.select(AuditLog).order_by(AuditLog.id)
    if table:
        query = query.where(AuditLog.table_name == table)
    return db.session.scalars(query).all()


def test_insert_update_delete_are_recorded_once_with_before_and_after(app):
    with app.app_context(), acting_as(Actor(7, "tester", "10.0.0.9")):
        company = services.create_department("集团", "company", None)
        db.session.commit()
        company.name = "集团公司"
        db.session.commit()
        db.session.delete(company)
        db.session.commit()
        rows = _entries("departments")
        assert [r.action for r in rows] == ["insert", "update", "delete"]
        assert {r.row_id for r in rows} == {str(company.id)}
        inserted, updated, deleted = (json.loads(r.changes) for r in rows)
        assert inserted["name"] == [None, "集团"]
        assert updated == {"name": ["集团", "集团公司"]}
        assert deleted["name"] == ["集团公司", None]
        assert all(r.actor_name == "tester" and r.actor_id == 7 for r in rows)
        assert all(r.ip == "10.0.0.9" for r in rows)


def test_update_of_an_expired_attribute_still_shows_the_old_value(app):
    with app.app_context():
        services.create_department("集团", "company", None)
        db.session.commit()
        department = db.session.scalar(sa.select(Department))
        db.session.expire(department)
        department.name = "新名称"
        db.session.commit()
        changes = json.loads(_entries("departments")[-1].changes)
        assert changes == {"name": ["集团", "新名称"]}


def test_password_hash_is_redacted_and_roles_are_audited(app, make_user):
    make_user("wang", "finance", "sales")
    with app.app_context():
        user_row = _entries("users")[0]
        assert json.loads(user_row.changes)["password_hash"] == [None, "***"]
        roles = [json.loads(r.changes)["role"][1] for r in _entries("user_roles")]
        assert sorted(roles) == ["finance", "sales"]


def test_web_changes_record_the_user_and_address(app, client, login_as):
    admin = login_as("admin")
    client.post(
        "/admin/departments/new",
        data={"name": "集团", "kind": "company", "parent_id": ""},
        environ_base={"REMOTE_ADDR": "192.0.2.5"},
    )
    with app.app_context():
        row = _entries("departments")[0]
        assert (row.actor_id, row.actor_name, row.ip) == (admin.id, admin.username, "192.0.2.5")


def test_chain_verifies_and_tampering_is_found(app, runner, make_user):
    make_user("wang", "finance")
    make_user("li", "sales")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        report = verify_chain(db.session.connection())
        assert report.ok and report.rows >= 4
        target = _entries()[2]
        _force_update(target.id, '{"forged":[null,1]}')
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {target.id}" in result.output


def test_a_removed_row_breaks_the_link(app, runner, make_user):
    make_user("wang", "finance")
    make_user("li", "sales")
    with app.app_context():
        victim = _entries()[1]
        following = _entries()[2]
        _force_delete(victim.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {following.id}" in result.output


def test_audit_rows_cannot_be_changed_through_the_orm(app, make_user):
    make_user("wang", "finance")
    with app.app_context():
        row = _entries()[0]
        row.changes = "{}"
        with pytest.raises(AuditTamperError):
            db.session.commit()
        db.session.rollback()


def test_database_refuses_update_and_delete_of_audit_rows(app, make_user):
    make_user("wang", "finance")
    with app.app_context():
        first = _entries()[0].id
        for statement in (
            sa.text("UPDATE audit_log SET changes = '{}' WHERE id = :id"),
            sa.text("DELETE FROM audit_log WHERE id = :id"),
        ):
            with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as connection:
                connection.execute(statement, {"id": first})


def test_audit_viewer_filters(app, client, login_as, make_user):
    make_user("wang", "finance")
    login_as("executive")
    page = client.get("/audit/?table=users").get_data(as_text=True)
    assert "wang" in page
    page = client.get("/audit/?table=departments").get_data(as_text=True)
    assert 'data-testid="empty-state"' in page
    page = client.get("/audit/?date_from=not-a-date").get_data(as_text=True)
    assert "is-invalid" in page
    page = client.get("/audit/?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert 'data-testid="empty-state"' in page


def _force_update(row_id, changes):
    """Tamper behind the application's back (as an attacker with database access would)."""
    with db.engine.begin() as connection:
        _without_triggers(connection)
        connection.execute(
            sa.text("UPDATE audit_log SET changes = :c WHERE id = :id"),
            {"c": changes, "id": row_id},
        )
        _restore_triggers(connection)


def _force_delete(row_id):
    with db.engine.begin() as connection:
        _without_triggers(connection)
        connection.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": row_id})
        _restore_triggers(connection)


def _without_triggers(connection):
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        connection.execute(sa.text("DROP TRIGGER audit_log_no_update"))
        connection.execute(sa.text("DROP TRIGGER audit_log_no_delete"))


def _restore_triggers(connection):
    if connection.dialect.name == "sqlite":
        connection.execute(
            sa.text(
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        )
        connection.execute(
            sa.text(
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        )


def test_date_filter_uses_the_company_time_zone(app, client, login_as):
    from datetime import datetime

    from recovery.audit.routes import _local_midnight_in_utc

    with app.test_request_context():
        # Midnight in Shanghai (UTC+8) is 16:00 UTC the day before.
        assert _local_midnight_in_utc(datetime(2026, 3, 1).date()) == datetime(2026, 2, 28, 16)
