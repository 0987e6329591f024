from tests.conftest import login


def test_login_page_renders_in_chinese_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


def test_login_and_home(client, make_user):
    make_user("wang", "finance")
    response = login(client, "wang")
    assert response.status_code == 302
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert b"main.finance_home" in response.data
