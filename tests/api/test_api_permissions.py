"""Every API route with every role, by token and by browser session (the web's matrix,
tests/test_permissions.py, for /api/: anonymous requests get 401 in the envelope — HTML
or JSON alike — instead of being sent to the login page)."""

from __future__ import annotations

from recovery.core.permissions import ROLES
from tests.api.conftest import bearer
from tests.test_permissions import _declared_access, _fetch, _requests, _sign_in

HTML = {"Accept": "text/html"}


def _api_requests(app):
    for rule, method, url in _requests(app):
        if rule.rule.startswith("/api/"):
            yield rule, method, url


def test_api_routes_answer_401_then_follow_the_roles(app, make_user, token_for):
    users = {role: make_user(f"m-{role}", role) for role in ROLES}
    tokens = {role: token_for(f"t-{role}", role) for role in ROLES}
    checked = 0
    for rule, method, url in _api_requests(app):
        access = _declared_access(app, rule.endpoint)
        assert access is not None, rule.endpoint
        anonymous = _fetch(app.test_client(), method, url, HTML)
        if access.public:
            assert anonymous.status_code == 200, (method, url)
            continue
        assert anonymous.status_code == 401, (method, url, anonymous.status_code)
        assert anonymous.get_json()["error"]["code"] == "unauthorized"
        for role in ROLES:
            session_client = app.test_client()
            _sign_in(session_client, users[role])
            by_session = _fetch(session_client, method, url, HTML)
            by_token = _fetch(app.test_client(), method, url, bearer(tokens[role]))
            for response in (by_session, by_token):
                if role in access.roles:
                    assert response.status_code != 403, (role, method, url)
                    assert response.status_code < 500, (role, method, url, response.status_code)
                else:
                    assert response.status_code == 403, (role, method, url)
                    assert response.get_json()["error"]["code"] == "forbidden"
                if response.status_code >= 400:
                    body = response.get_json()["error"]
                    assert {"status", "code", "message"} <= set(body)
            checked += 1
    assert checked >= len(ROLES) * 15
