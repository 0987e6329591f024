"""Every /credit endpoint with every role (the permission matrix of tests/test_permissions.py,
narrowed to this blueprint so that it is checked on its own)."""

from recovery.core.permissions import ROLES
from tests.test_permissions import HTML, JSON, _declared_access, _fetch, _requests, _sign_in


def test_credit_permission_matrix(app, make_user):
    users = {role: make_user(f"matrix-{role}", role) for role in ROLES}
    checked = 0
    for rule, method, url in _requests(app):
        if not rule.rule.startswith("/credit"):
            continue
        access = _declared_access(app, rule.endpoint)
        assert access is not None and not access.public, rule.endpoint
        html = _fetch(app.test_client(), method, url, HTML)
        json = _fetch(app.test_client(), method, url, JSON)
        assert html.status_code == 302 and "/login" in html.headers["Location"], (method, url)
        assert json.status_code == 401, (method, url)
        for role in ROLES:
            client = app.test_client()
            _sign_in(client, users[role])
            response = _fetch(client, method, url, HTML)
            if role in access.roles:
                assert response.status_code != 403, (role, method, url)
                assert response.status_code < 500, (role, method, url, response.status_code)
            else:
                assert response.status_code == 403, (role, method, url, response.status_code)
            checked += 1
    assert checked >= len(ROLES) * 12


def test_admin_sees_no_credit_pages(client, login_as):
    login_as("admin")
    assert client.get("/credit/").status_code == 403
