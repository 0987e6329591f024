"""CSRF, cookies, headers and error pages (issue #2, points 5 and 9)."""

from __future__ import annotations

import sqlalchemy as sa

from recovery import create_app
from recovery.auth.models import Department
from recovery.extensions import db
from tests.conftest import TEST_PASSWORD, base_config, login


def _csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_post_without_csrf_token_is_refused(app, make_user):
    _csrf_app(app)
    make_user("wang", "admin")
    client = app.test_client()
    response = client.post("/login", data={"username": "wang", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert b"Traceback" not in response.data


def test_signed_in_post_without_token_changes_nothing(app, make_user):
    make_user("admin1", "admin")
    client = app.test_client()
    login(client, "admin1")
    _csrf_app(app)
    response = client.post(
        "/admin/departments/new", data={"name": "X", "kind": "company", "parent_id": ""}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 0


def test_form_pages_carry_a_csrf_token(app, make_user):
    _csrf_app(app)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_session_cookie_flags(app, make_user):
    make_user("wang", "finance")
    client = app.test_client()
    response = login(client, "wang")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_secure_cookies_when_configured(migrated_database, tmp_path, monkeypatch):
    from tests.conftest import fresh_database_url

    monkeypatch.setenv("RECOVERY_SECURE_COOKIES", "1")
    secure_app = create_app(base_config(tmp_path, fresh_database_url(migrated_database, tmp_path)))
    assert secure_app.config["SESSION_COOKIE_SECURE"] is True
    assert secure_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script(app, login_as):
    client = app.test_client()
    for path in ["/login"]:
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page
        assert "onclick=" not in page
        assert 'style="' not in page


def test_logout_only_by_post(app, login_as, client):
    login_as("finance")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/home/finance").status_code == 302


def test_not_found_html_and_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Traceback" not in response.data
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_upload_too_large_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "x" * 4000, "password": "y"})
    assert response.status_code == 413


def test_unhandled_error_rolls_back_and_hides_traceback(app, make_user):
    from recovery.auth import services
    from recovery.core.permissions import signed_in

    def explode():
        services.create_department("Half-written", "company", None)
        raise RuntimeError("boom")

    app.add_url_rule("/explode", "explode", signed_in(explode))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    make_user("wang", "finance")
    client = app.test_client()
    login(client, "wang")
    response = client.get("/explode")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "boom" not in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 0
    response = client.get("/explode", headers={"Accept": "application/json"})
    assert response.get_json()["error"]["status"] == 500


def test_open_redirect_after_login_is_refused(client, make_user):
    make_user("wang", "finance")
    response = client.post(
        "/login",
        data={"username": "wang", "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post(
        "/login",
        data={"username": "wang", "password": TEST_PASSWORD, "next": "/home/finance?x=1"},
    )
    assert response.headers["Location"] == "/home/finance?x=1"


def test_secret_key_generated_once_and_reused(tmp_path, monkeypatch):
    from recovery.config import secret_key_for

    monkeypatch.delenv("RECOVERY_SECRET_KEY", raising=False)
    first = secret_key_for(tmp_path)
    assert len(first) == 64
    assert secret_key_for(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("RECOVERY_SECRET_KEY", "from-environment")
    assert secret_key_for(tmp_path) == "from-environment"
