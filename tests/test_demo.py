"""flask --app recovery demo load (issue #2, point 10). The demo ledger itself is tested in
tests/test_demo_ledger.py; here it is loaded small (--scale) to keep these tests quick."""

import sqlalchemy as sa

from recovery.auth.models import Department, User
from recovery.demo.recovery import COLLECTORS
from recovery.demo.services import DEPARTMENTS, USERS, demo_password
from recovery.extensions import db
from tests.conftest import login

SMALL = ["--scale", "0.02"]


def _snapshot():
    users = db.session.execute(
        sa.select(User.username, User.display_name, User.department_id).order_by(User.username)
    ).all()
    departments = db.session.execute(
        sa.select(Department.name, Department.kind, Department.parent_id).order_by(Department.id)
    ).all()
    return users, departments


def test_demo_load_is_deterministic_and_prints_logins(app, runner, migrated_database, tmp_path):
    result = runner.invoke(args=["demo", "load", *SMALL])
    assert result.exit_code == 0, result.output
    for username, *_ in USERS:
        assert username in result.output and demo_password(username) in result.output
    with app.app_context():
        first = _snapshot()
        names = {d.name for d in db.session.scalars(sa.select(Department))}
        assert {name for name, _ in DEPARTMENTS} <= names
        roles = {r for u in db.session.scalars(sa.select(User)) for r in u.role_names}
        assert roles == {"finance", "sales", "supervisor", "legal", "executive", "admin"}
    again = runner.invoke(args=["demo", "load", *SMALL])
    assert again.exit_code == 0
    with app.app_context():
        assert _snapshot() == first  # loading twice adds nothing
    skipped = runner.invoke(args=["demo", "load", "--if-empty", *SMALL])
    assert "not loaded" in skipped.output


def test_every_demo_login_works(app, runner):
    result = runner.invoke(args=["demo", "load", *SMALL])
    # Even a tiny ledger gets its recovery work (as many stories as it has debtors).
    assert "Demo recovery work: cases" in result.output
    collectors = [(username, None) for username, _name in COLLECTORS]
    for username, *_ in [*USERS, *collectors]:
        client = app.test_client()
        assert login(client, username, demo_password(username)).status_code == 302
