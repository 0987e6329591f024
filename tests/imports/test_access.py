"""The permission matrix of tests/test_permissions.py, for the import, export and job pages
(it covers them too once they are registered by the application factory)."""

from __future__ import annotations

from recovery.core.permissions import ROLES
from tests.test_permissions import HTML, JSON, _declared_access, _fetch, _requests, _sign_in

OURS = ("imports.", "jobs.")


def test_permission_matrix_of_imports_exports_and_jobs(app, make_user):
    users = {role: make_user(f"matrix-{role}", role) for role in ROLES}
    checked = 0
    for rule, method, url in _requests(app):
        if not rule.endpoint.startswith(OURS):
            continue
        access = _declared_access(app, rule.endpoint)
        assert access is not None and not access.public, rule.endpoint
        anonymous = app.test_client()
        assert _fetch(anonymous, method, url, HTML).status_code == 302
        assert _fetch(anonymous, method, url, JSON).status_code == 401
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
    assert checked >= len(ROLES) * 9
