"""Chinese first, English too (issue #2, point 8)."""

from __future__ import annotations

from recovery.core.translations import LOCALES, extract, problems
from tests.conftest import login


def _lang(page: str) -> str:
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_default_language_is_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert _lang(page) == "zh-CN"
    assert "登录" in page


def test_switching_language_for_an_anonymous_visitor(client):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert _lang(page) == "en" and "Sign in" in page


def test_unknown_language_falls_back_to_chinese(client):
    client.post("/language", data={"language": "en"})
    client.post("/language", data={"language": "fr"})
    assert _lang(client.get("/login").get_data(as_text=True)) == "zh-CN"
    with client.session_transaction() as session:
        session["lang"] = "../../etc"
    assert _lang(client.get("/login").get_data(as_text=True)) == "zh-CN"


def test_each_user_keeps_their_language(app, make_user):
    make_user("wang", "finance", language="en")
    make_user("li", "finance")
    wang, li = app.test_client(), app.test_client()
    login(wang, "wang")
    login(li, "li")
    assert "Receivables ledger" in wang.get("/home/finance").get_data(as_text=True)
    assert "应收账款台帐" in li.get("/home/finance").get_data(as_text=True)
    li.post("/language", data={"language": "en"})
    again = app.test_client()
    login(again, "li")
    assert _lang(again.get("/home/finance").get_data(as_text=True)) == "en"


def test_form_validation_messages_are_translated(client):
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "This field is required" not in page
    client.post("/language", data={"language": "en"})
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "This field is required" in page


def test_role_and_error_labels_are_translated(app, client, login_as):
    login_as("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "系统管理员" in page
    page = client.get("/nothing-here").get_data(as_text=True)
    assert "此地址没有内容" in page


def test_both_catalogs_are_complete():
    template = extract()
    assert len(template) > 100
    found = [line for locale in LOCALES for line in problems(template, locale)]
    assert found == [], "run: flask --app recovery translations update, then translate"
