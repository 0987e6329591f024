"""Walk every endpoint of app.url_map with every role (issue #2, point 4).

For each endpoint: an anonymous HTML request is sent to sign in, an anonymous JSON request
gets 401, every allowed role gets something other than 403, every other role gets 403.
An endpoint without a declaration fails the test.
"""

from __future__ import annotations

import pytest

from recovery.core.permissions import ROLES, Access

SAMPLE_ARGUMENTS = {"filename": "css/app.css"}
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


def _declared_access(app, endpoint) -> Access | None:
    from recovery.core.permissions import PUBLIC_ENDPOINTS

    if endpoint in PUBLIC_ENDPOINTS:
        return Access(public=True)
    return getattr(app.view_functions[endpoint], "access", None)


def _url(rule) -> str:
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        if argument in SAMPLE_ARGUMENTS:
            values[argument] = SAMPLE_ARGUMENTS[argument]
        elif type(converter).__name__ in {"IntegerConverter", "NumberConverter"}:
            values[argument] = 999_999
        else:
            values[argument] = "sample"
    return rule.build(values, append_unknown=False)[1]


def _requests(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, _url(rule)


def _fetch(client, method, url, headers):
    """Make a request and close the response (static files are streamed from disk)."""
    response = getattr(client, method.lower())(url, headers=headers)
    response.get_data()
    response.close()
    return response


def _sign_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def test_every_endpoint_declares_its_access(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if _declared_access(app, rule.endpoint) is None
    ]
    assert undeclared == [], f"endpoints without a permission declaration: {undeclared}"


def test_an_undeclared_endpoint_is_refused(app, client, login_as):
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    login_as("admin")
    assert client.get("/undeclared").status_code == 403


def test_permission_matrix(app, make_user):
    users = {role: make_user(f"matrix-{role}", role) for role in ROLES}
    checked = 0
    for rule, method, url in _requests(app):
        access = _declared_access(app, rule.endpoint)
        assert access is not None, rule.endpoint
        client = app.test_client()
        html = _fetch(client, method, url, HTML)
        json = _fetch(client, method, url, JSON)
        if access.public:
            assert html.status_code not in (401, 403), (method, url, html.status_code)
            assert "/login?" not in html.headers.get("Location", ""), (method, url)
        elif url.startswith("/api/"):
            # The JSON API answers 401 in its envelope, never a redirect to the login page.
            assert html.status_code == 401, (method, url, html.status_code)
            assert json.status_code == 401, (method, url, json.status_code)
            assert json.is_json and json.get_json()["error"]["status"] == 401
        else:
            assert html.status_code == 302, (method, url, html.status_code)
            assert "/login" in html.headers["Location"], (method, url)
            assert json.status_code == 401, (method, url, json.status_code)
            assert json.is_json and json.get_json()["error"]["status"] == 401

        for role in ROLES:
            client = app.test_client()
            _sign_in(client, users[role])
            response = _fetch(client, method, url, HTML)
            if access.public or role in access.roles:
                assert response.status_code != 403, (role, method, url)
                assert response.status_code < 500, (role, method, url, response.status_code)
            else:
                assert response.status_code == 403, (role, method, url, response.status_code)
            checked += 1
    assert checked >= len(ROLES) * 10


@pytest.mark.parametrize("role", ROLES)
def test_forbidden_json_answer(app, client, login_as, role):
    login_as(role)
    refused = "/admin/users" if role != "admin" else "/home/finance"
    response = client.get(refused, headers=JSON)
    assert response.status_code == 403
    assert response.get_json()["error"]["status"] == 403
