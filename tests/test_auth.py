"""Sign-in, lockout, disabled users, passwords, the users CLI (issue #2, point 3)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from recovery.auth.models import LoginAttempt, User
from recovery.extensions import db
from tests.conftest import TEST_PASSWORD, login


def _user(app, username) -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge_all()
        return user


def test_wrong_password_and_unknown_user_get_the_same_message(client, make_user):
    make_user("wang", "finance")
    wrong = login(client, "wang", "not-the-password")
    unknown = login(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    marker = 'data-testid="login-error"'
    text_wrong = wrong.get_data(as_text=True).split(marker)[1].split("<")[0]
    text_unknown = unknown.get_data(as_text=True).split(marker)[1].split("<")[0]
    assert text_wrong == text_unknown
    # What was typed is shown again (the username), never the password.
    assert 'value="wang"' in wrong.get_data(as_text=True)
    assert "not-the-password" not in wrong.get_data(as_text=True)


def test_five_wrong_passwords_lock_for_fifteen_minutes(app, client, make_user):
    make_user("wang", "finance")
    for _ in range(4):
        assert b"login-error" in login(client, "wang", "wrong-password").data
    fifth = login(client, "wang", "wrong-password").get_data(as_text=True)
    assert "15" in fifth
    # Even the right password is refused while locked.
    response = login(client, "wang")
    assert response.status_code == 401
    user = _user(app, "wang")
    assert user.locked_until is not None
    assert timedelta(minutes=14) < user.locked_until - user.created_at < timedelta(minutes=16)
    with app.app_context():
        outcomes = db.session.scalars(
            sa.select(LoginAttempt.outcome).order_by(LoginAttempt.id)
        ).all()
    assert outcomes == ["bad_password"] * 5 + ["locked"]
    # The lock ends after 15 minutes.
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.locked_until = stored.locked_until - timedelta(minutes=16)
        db.session.commit()
    assert login(client, "wang").status_code == 302


def test_unknown_user_is_locked_like_a_known_one(client):
    for _ in range(4):
        login(client, "ghost", "wrong-password")
    fifth = login(client, "ghost", "wrong-password").get_data(as_text=True)
    assert "15" in fifth


def test_admin_sees_and_clears_a_lock(app, client, make_user):
    make_user("wang", "finance")
    make_user("boss", "admin")
    for _ in range(5):
        login(client, "wang", "wrong-password")
    login(client, "boss")
    user = _user(app, "wang")
    page = client.get("/admin/login-attempts").get_data(as_text=True)
    assert "wang" in page
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert f"/admin/users/{user.id}/unlock" in page
    client.post(f"/admin/users/{user.id}/unlock")
    assert _user(app, "wang").locked_until is None
    other = app.test_client()
    assert login(other, "wang").status_code == 302


def test_disabled_user_cannot_sign_in_and_sessions_end(app, make_user):
    make_user("wang", "finance")
    make_user("boss", "admin")
    wang = app.test_client()
    login(wang, "wang")
    assert wang.get("/home/finance").status_code == 200
    boss = app.test_client()
    login(boss, "boss")
    user = _user(app, "wang")
    response = boss.post(
        f"/admin/users/{user.id}",
        data={"display_name": "Wang", "roles": ["finance"], "department_id": "", "language": ""},
    )
    assert response.status_code == 302
    assert _user(app, "wang").active is False
    assert wang.get("/home/finance").status_code == 302  # the open session has ended
    assert login(app.test_client(), "wang").status_code == 401


def test_admin_cannot_disable_self(app, client, login_as):
    boss = login_as("admin")
    response = client.post(
        f"/admin/users/{boss.id}",
        data={"display_name": "Boss", "roles": ["admin"], "department_id": "", "language": ""},
    )
    assert response.status_code == 200
    assert _user(app, boss.username).active is True


def test_change_own_password_ends_other_sessions(app, make_user):
    make_user("wang", "finance")
    first, second = app.test_client(), app.test_client()
    login(first, "wang")
    login(second, "wang")
    response = first.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "password": "new-secret-42",
            "confirm": "new-secret-42",
        },
    )
    assert response.status_code == 302
    assert first.get("/home/finance").status_code == 200
    assert second.get("/home/finance").status_code == 302
    assert login(app.test_client(), "wang", "new-secret-42").status_code == 302


def test_change_password_errors_are_shown_beside_the_field(client, login_as):
    login_as("finance")
    response = client.post(
        "/account/password",
        data={"current_password": "wrong", "password": "new-secret-42", "confirm": "x"},
    )
    page = response.get_data(as_text=True)
    assert "is-invalid" in page
    response = client.post(
        "/account/password",
        data={"current_password": "wrong", "password": "short", "confirm": "short"},
    )
    assert "is-invalid" in response.get_data(as_text=True)


def test_passwords_are_hashed(app, make_user):
    make_user("wang", "finance")
    user = _user(app, "wang")
    assert TEST_PASSWORD not in user.password_hash
    assert user.password_hash.startswith("pbkdf2:")


def test_admin_creates_user_and_bad_input_is_reshown(app, client, login_as):
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "Li.Qiang",
            "display_name": "李强",
            "roles": ["sales", "supervisor"],
            "department_id": "",
            "language": "",
            "password": "short",
            "active": "y",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Li.Qiang"' in page and "李强" in page
    assert "is-invalid" in page
    response = client.post(
        "/admin/users/new",
        data={
            "username": "Li.Qiang",
            "display_name": "李强",
            "roles": ["sales", "supervisor"],
            "department_id": "",
            "language": "en",
            "password": "long-enough-1",
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = _user(app, "li.qiang")
    assert user.role_names == ["sales", "supervisor"]
    assert user.language == "en"


def test_users_cli_create_with_password_stdin(app, runner):
    from recovery.auth import services

    with app.app_context():
        services.create_department("总公司", "company", None)
        db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "zhang",
            "--role",
            "supervisor",
            "--role",
            "sales",
            "--department",
            "总公司",
            "--password-stdin",
        ],
        input="a-good-password\n",
    )
    assert result.exit_code == 0, result.output
    user = _user(app, "zhang")
    assert user.role_names == ["sales", "supervisor"]
    assert login(app.test_client(), "zhang", "a-good-password").status_code == 302


def test_users_cli_prompt_and_errors(app, runner):
    result = runner.invoke(
        args=["users", "create", "li", "--role", "legal"], input="pass-word-1\npass-word-1\n"
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["users", "create", "li", "--role", "legal", "--password-stdin"],
        input="pass-word-1\n",
    )
    assert result.exit_code != 0 and "username:" in result.output
    result = runner.invoke(args=["users", "create", "x1", "--role", "wizard", "--password-stdin"])
    assert result.exit_code != 0
    result = runner.invoke(
        args=["users", "create", "x2", "--role", "legal", "--department", "Nowhere"],
        input="pass-word-1\npass-word-1\n",
    )
    assert result.exit_code != 0 and "Nowhere" in result.output


def test_department_tree_refuses_cycles(app, client, login_as):
    from recovery.auth import services

    with app.app_context():
        company = services.create_department("集团", "company", None)
        sales = services.create_department("营销一部", "department", company)
        team = services.create_department("一组", "department", sales)
        db.session.commit()
        ids = company.id, sales.id, team.id
    login_as("admin")
    response = client.post(
        f"/admin/departments/{ids[1]}",
        data={"name": "营销一部", "kind": "department", "parent_id": str(ids[2]), "active": "y"},
    )
    assert response.status_code == 200  # re-shown with an error, nothing saved
    assert "is-invalid" in response.get_data(as_text=True)
    page = client.get("/admin/departments").get_data(as_text=True)
    assert page.index("集团") < page.index("营销一部") < page.index("一组")
