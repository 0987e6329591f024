"""The JSON API v1: tokens, the envelope, permissions, pagination, resources, idempotency,
batches, the rate limit and the credit check (issue 7, point 2)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from recovery.extensions import db
from tests.api.conftest import bearer

TODAY = date.today().isoformat()


def assert_envelope(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.get_data(True))
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


# ---------------------------------------------------------------------------------------------
# Tokens


def test_token_created_in_the_ui_is_shown_once_and_stored_hashed(app, client, login_as):
    user = login_as("finance")
    response = client.post("/account/api-tokens/", data={"name": "ERP", "scope": "write"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    start = page.index("rk_")
    plain = page[start : page.index("<", start)].strip()
    assert len(plain) > 40
    from recovery.api.models import ApiToken
    from recovery.api.tokens import hash_token

    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        assert token.user_id == user.id
        assert token.token_hash == hash_token(plain) and plain not in token.token_hash
        assert plain.startswith(token.prefix)
    assert b'href="/account/api-tokens/"' in client.get("/account/api-tokens/").data  # menu
    listing = client.get("/account/api-tokens/").get_data(as_text=True)
    assert plain not in listing and token.prefix in listing
    fresh = app.test_client()
    ok = fresh.get("/api/v1/items", headers=bearer(plain))
    assert ok.status_code == 200
    assert "Set-Cookie" not in ok.headers  # a token request opens no session


def test_revoked_token_is_refused_at_once(app, client, login_as):
    login_as("finance")
    page = client.post("/account/api-tokens/", data={"name": "ERP", "scope": "read"})
    text = page.get_data(as_text=True)
    plain = text[text.index("rk_") : text.index("<", text.index("rk_"))].strip()
    other = app.test_client()
    assert other.get("/api/v1/items", headers=bearer(plain)).status_code == 200
    from recovery.api.models import ApiToken

    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 302
    error = assert_envelope(other.get("/api/v1/items", headers=bearer(plain)), 401, "unauthorized")
    assert "revoked" in error["message"].lower() or error["message"]


def test_expired_unknown_and_missing_tokens_are_refused(app, client, token_for):
    from recovery.core.timeutil import utcnow

    expired = token_for("old", "finance", expires_at=utcnow() + timedelta(seconds=1))
    from recovery.api.models import ApiToken

    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    response = client.get("/api/v1/items", headers=bearer(expired))
    assert_envelope(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_envelope(client.get("/api/v1/items", headers=bearer("rk_nonsense")), 401)
    assert_envelope(client.get("/api/v1/items"), 401)
    assert_envelope(client.get("/api/v1/items", headers={"Accept": "text/html"}), 401)


def test_deactivated_user_is_refused(app, client, token_for):
    plain = token_for("gone", "finance")
    assert client.get("/api/v1/items", headers=bearer(plain)).status_code == 200
    from recovery.auth.models import User

    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == "gone").values(active=False))
        db.session.commit()
    assert_envelope(client.get("/api/v1/items", headers=bearer(plain)), 401)


def test_read_scope_cannot_write(client, token_for, ledger):
    plain = token_for("reader", "finance", scope="read")
    response = client.post(
        "/api/v1/receipts",
        json={"receipt_no": "R-1", "counterparty_code": "C1", "amount": "10.00",
              "received_on": TODAY},
        headers=bearer(plain),
    )  # fmt: skip
    assert_envelope(response, 403, "insufficient_scope")


def test_role_rules_are_the_webs(client, token_for, ledger):
    sales = token_for("s1", "sales")
    response = client.post(
        "/api/v1/receipts",
        json={"receipt_no": "R-1", "counterparty_code": "C1", "amount": "10.00",
              "received_on": TODAY},
        headers=bearer(sales),
    )  # fmt: skip
    assert_envelope(response, 403, "forbidden")
    admin = token_for("a1", "admin")
    assert_envelope(client.get("/api/v1/items", headers=bearer(admin)), 403)


def test_sales_token_sees_only_own_accounts(app, client, ledger):
    from recovery.api import tokens
    from recovery.auth.models import User

    with app.app_context():
        _t, plain = tokens.create_token(db.session.get(User, ledger["rep"]), name="x", scope="read")
        db.session.commit()
    items = client.get("/api/v1/items", headers=bearer(plain)).get_json()
    assert [i["document_no"] for i in items["data"]] == ["I-1"]
    parties = client.get("/api/v1/counterparties", headers=bearer(plain)).get_json()
    assert [c["code"] for c in parties["data"]] == ["C1"]
    assert_envelope(
        client.get(f"/api/v1/counterparties/{ledger['C2']}", headers=bearer(plain)), 404
    )
    assert_envelope(
        client.get(f"/api/v1/counterparties/{ledger['C2']}/statement", headers=bearer(plain)),
        404,
    )
    check = client.post(
        "/api/v1/credit-check", json={"counterparty_code": "C2", "amount": "1.00"},
        headers=bearer(plain),
    )  # fmt: skip
    assert_envelope(check, 404, "unknown_counterparty")
    aging = client.get("/api/v1/aging", headers=bearer(plain)).get_json()
    assert [r["key"] for r in aging["data"]] == ["C1"]


# ---------------------------------------------------------------------------------------------
# The envelope


def test_every_error_kind_has_the_envelope(app, client, token_for, ledger):
    plain = token_for("fin", "finance")
    h = bearer(plain)
    assert_envelope(client.get("/api/v1/nowhere", headers=h), 404, "not_found")
    assert_envelope(client.get("/api/v1/items/999999", headers=h), 404, "not_found")
    assert_envelope(client.delete("/api/v1/items", headers=h), 405, "method_not_allowed")
    error = assert_envelope(
        client.post("/api/v1/items", json={"amount": 3.5}, headers=h), 422, "validation_error"
    )
    assert "document_no" in error["details"]["json"]
    assert_envelope(client.get("/api/v1/items?page=0", headers=h), 422)
    assert_envelope(client.get("/api/v1/items?per_page=100000", headers=h), 422)
    assert_envelope(
        client.post(
            "/api/v1/items", data="{not json", headers={**h, "Content-Type": "application/json"}
        ),
        422,
    )
    error = assert_envelope(
        client.post("/api/v1/items", json={"x": 1, "document_no": "A"}, headers=h), 422
    )
    assert "x" in error["details"]["json"]


def test_session_writes_need_csrf_but_tokens_do_not(app, client, login_as, token_for, ledger):
    app.config["WTF_CSRF_ENABLED"] = True
    body = {"counterparty_code": "C1", "amount": "1.00"}
    plain = token_for("fin2", "finance")
    assert (
        app.test_client().post("/api/v1/credit-check", json=body, headers=bearer(plain)).status_code
        == 200
    )
    app.config["WTF_CSRF_ENABLED"] = False
    login_as("finance")
    app.config["WTF_CSRF_ENABLED"] = True
    assert_envelope(client.post("/api/v1/credit-check", json=body), 400, "csrf_failed")
    assert client.get("/api/v1/items").status_code == 200


# ---------------------------------------------------------------------------------------------
# Resources and pagination


def test_items_pagination_and_reads(client, token_for, ledger):
    h = bearer(token_for("fin", "finance"))
    first = client.get("/api/v1/items?per_page=1", headers=h).get_json()
    assert first["pagination"]["total"] == 2 and first["pagination"]["pages"] == 2
    assert (
        first["pagination"]["links"]["next"].endswith("page=2")
        or "page=2" in (first["pagination"]["links"]["next"])
    )
    second = client.get("/api/v1/items?per_page=1&page=2", headers=h).get_json()
    assert [first["data"][0]["document_no"], second["data"][0]["document_no"]] == ["I-1", "I-2"]
    item = client.get(f"/api/v1/items/{first['data'][0]['id']}", headers=h).get_json()
    assert item["amount"] == "500.00" and item["counterparty_code"] == "C1"
    assert item["due_on"] == (date.today() - timedelta(days=150)).isoformat()
    cps = client.get("/api/v1/counterparties", headers=h).get_json()
    assert [c["outstanding"] for c in cps["data"]] == ["500.00", "800.00"]
    one = client.get(f"/api/v1/counterparties/{ledger['C1']}", headers=h).get_json()
    assert one["overdue"] == "500.00"
    statement = client.get(
        f"/api/v1/counterparties/{ledger['C1']}/statement?as_of={TODAY}", headers=h
    ).get_json()
    assert statement["totals"]["outstanding"] == "500.00"
    assert [i["document_no"] for i in statement["items"]] == ["I-1"]
    aging = client.get("/api/v1/aging?basis=age", headers=h).get_json()
    assert aging["data"][0]["values"]["outstanding"] == "500.00"
    assert client.get("/api/v1/projects", headers=h).get_json()["data"] == []
    assert client.get("/api/v1/cases?status=all", headers=h).get_json()["data"] == []


def test_create_item_and_receipt_allocate(app, client, token_for, ledger):
    h = bearer(token_for("fin", "finance"))
    response = client.post(
        "/api/v1/items",
        json={"document_no": "I-3", "counterparty_code": "C1", "item_type": "settlement",
              "amount": "100.00", "recognized_on": TODAY, "due_on": TODAY},
        headers=h,
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["open_amount"] == "100.00"
    response = client.post(
        "/api/v1/receipts",
        json={"receipt_no": "R-1", "counterparty_code": "C1", "amount": "550.00",
              "received_on": TODAY},
        headers=h,
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["applied"] == "550.00" and body["unapplied"] == "0.00"
    listing = client.get("/api/v1/receipts", headers=h).get_json()
    assert listing["data"][0]["receipt_no"] == "R-1"
    assert client.get(f"/api/v1/receipts/{body['id']}", headers=h).get_json()["amount"] == "550.00"
    duplicate = client.post(
        "/api/v1/receipts",
        json={"receipt_no": "R-1", "counterparty_code": "C1", "amount": "1.00",
              "received_on": TODAY},
        headers=h,
    )  # fmt: skip
    error = assert_envelope(duplicate, 422)
    assert "receipt_no" in error["details"]["fields"]


# ---------------------------------------------------------------------------------------------
# Idempotency and batches


def _receipt(no, amount="10.00", code="C1"):
    return {"receipt_no": no, "counterparty_code": code, "amount": amount, "received_on": TODAY}


def _count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_idempotent_replay_returns_first_answer_and_writes_once(app, client, token_for, ledger):
    from recovery.ledger.models import Receipt

    h = {**bearer(token_for("fin", "finance")), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/receipts", json=_receipt("R-9"), headers=h)
    assert first.status_code == 201
    again = client.post("/api/v1/receipts", json=_receipt("R-9"), headers=h)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, Receipt) == 1
    conflict = client.post("/api/v1/receipts", json=_receipt("R-10"), headers=h)
    assert_envelope(conflict, 422, "idempotency_key_reused")
    assert _count(app, Receipt) == 1


def test_batch_is_all_or_nothing_with_per_record_errors(app, client, token_for, ledger):
    from recovery.ledger.models import Item, Receipt

    h = bearer(token_for("fin", "finance"))
    bad = client.post(
        "/api/v1/receipts/batch",
        json={"receipts": [_receipt("B-1"), _receipt("B-2", code="NOPE"), _receipt("B-3")]},
        headers=h,
    )
    error = assert_envelope(bad, 422)
    assert list(error["details"]["records"]) == ["1"]
    assert "counterparty_code" in error["details"]["records"]["1"]
    assert _count(app, Receipt) == 0
    invalid = client.post(
        "/api/v1/receipts/batch",
        json={"receipts": [_receipt("B-1"), _receipt("B-2", amount="1.001")]},
        headers=h,
    )
    error = assert_envelope(invalid, 422)
    assert "1" in error["details"]["json"]["receipts"]
    assert list(error["details"]["records"]) == ["1"]
    good = client.post(
        "/api/v1/receipts/batch", json={"receipts": [_receipt("B-1"), _receipt("B-2")]}, headers=h
    )
    assert good.status_code == 201 and good.get_json()["count"] == 2
    assert _count(app, Receipt) == 2
    item = {"counterparty_code": "C2", "item_type": "progress", "amount": "5.00",
            "recognized_on": TODAY, "due_on": TODAY}  # fmt: skip
    dup = client.post(
        "/api/v1/items/batch",
        json={"items": [{**item, "document_no": "N-1"}, {**item, "document_no": "I-1"}]},
        headers=h,
    )
    error = assert_envelope(dup, 422)
    assert list(error["details"]["records"]) == ["1"]
    assert _count(app, Item) == 2
    ok = client.post(
        "/api/v1/items/batch",
        json={"items": [{**item, "document_no": "N-1"}, {**item, "document_no": "N-2"}]},
        headers=h,
    )
    assert ok.status_code == 201 and _count(app, Item) == 4


# ---------------------------------------------------------------------------------------------
# Rate limit


def test_too_many_requests_answer_429_with_retry_after(app, client, token_for):
    app.config["API_RATE_LIMIT"] = 3
    h = bearer(token_for("fin", "finance"))
    for _ in range(3):
        assert client.get("/api/v1/items", headers=h).status_code == 200
    error = assert_envelope(client.get("/api/v1/items", headers=h), 429, "rate_limited")
    response = client.get("/api/v1/items", headers=h)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert error["details"]["limit"] == 3
    other = bearer(token_for("fin-b", "finance"))
    assert client.get("/api/v1/items", headers=other).status_code == 200


# ---------------------------------------------------------------------------------------------
# Credit check


def test_credit_check_allow_hold_and_unknown(client, token_for, ledger):
    h = bearer(token_for("sal", "finance"))
    allow = client.post(
        "/api/v1/credit-check", json={"counterparty_code": "C2", "amount": "100.00"}, headers=h
    )
    assert allow.status_code == 200, allow.get_json()
    body = allow.get_json()
    assert body["decision"] == "allow" and body["reasons"] == []
    assert body["exposure"] == "800.00" and body["limit"] == "1000.00"
    assert body["exception"] is None
    hold = client.post(
        "/api/v1/credit-check", json={"counterparty_code": "C2", "amount": "300.00"}, headers=h
    ).get_json()
    assert hold["decision"] == "hold"
    assert [r["rule"] for r in hold["reasons"]] == ["order_limit"]
    assert hold["reasons"][0]["value"] == "1100.00"
    overdue = client.post(
        "/api/v1/credit-check", json={"counterparty_code": "C1", "amount": "0"}, headers=h
    ).get_json()
    assert overdue["decision"] == "hold"
    assert "overdue_days" in [r["rule"] for r in overdue["reasons"]]
    unknown = client.post(
        "/api/v1/credit-check", json={"counterparty_code": "ZZZ", "amount": "1.00"}, headers=h
    )
    error = assert_envelope(unknown, 404, "unknown_counterparty")
    assert "ZZZ" in error["message"]
    assert_envelope(
        client.post("/api/v1/credit-check", json={"counterparty_code": "C2"}, headers=h), 422
    )


# ---------------------------------------------------------------------------------------------
# Activities and the documents


def test_activity_created_through_the_service(app, client, token_for, ledger):
    from tests.api.conftest import now_local_text

    h = bearer(token_for("collector", "finance"))
    response = client.post(
        "/api/v1/activities",
        json={"counterparty_code": "C1", "kind": "letter", "occurred_at": now_local_text(),
              "summary": "Sent a reminder"},
        headers=h,
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["user"] == "collector"
    listing = client.get("/api/v1/activities", headers=h).get_json()
    assert listing["data"][0]["id"] == created["id"]
    assert client.get(f"/api/v1/activities/{created['id']}", headers=h).status_code == 200
    refused = client.post(
        "/api/v1/activities",
        json={"counterparty_code": "C1", "kind": "call", "occurred_at": now_local_text(),
              "summary": "x"},
        headers=h,
    )  # fmt: skip
    assert_envelope(refused, 422)
    executive = bearer(token_for("boss", "executive"))
    assert_envelope(
        client.post(
            "/api/v1/activities",
            json={"counterparty_code": "C1", "kind": "letter", "occurred_at": now_local_text(),
                  "summary": "x"},
            headers=executive,
        ),
        403,
    )  # fmt: skip


def test_openapi_document_and_docs_page(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/credit-check" in document["paths"]
    assert "/api/v1/items/batch" in document["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"/api/v1/credit-check" in page.data
    assert b"<script>" not in page.data


def test_far_dates_are_refused_not_500(client, token_for, ledger):
    h = bearer(token_for("fin", "finance"))
    response = client.post(
        "/api/v1/items",
        json={"document_no": "F-1", "counterparty_code": "C1", "item_type": "progress",
              "amount": "1.00", "recognized_on": "2020-01-01", "due_on": "9999-12-31"},
        headers=h,
    )  # fmt: skip
    error = assert_envelope(response, 422)
    assert "due_on" in error["details"]["json"]
    assert_envelope(client.get("/api/v1/items/99999999999", headers=h), 404)


def test_huge_amounts_are_refused_not_500(client, token_for, ledger):
    h = bearer(token_for("fin", "finance"))
    for amount in (10**40, "9" * 30, "1e5", 12.5, True, "NaN"):
        response = client.post(
            "/api/v1/credit-check", json={"counterparty_code": "C1", "amount": amount}, headers=h
        )
        assert "amount" in assert_envelope(response, 422)["details"]["json"]


def test_token_pages_refuse_bad_input_and_other_users_tokens(app, client, login_as, token_for):
    token_for("someone", "finance")
    login_as("sales")
    from recovery.api.models import ApiToken

    with app.app_context():
        other = db.session.scalar(sa.select(ApiToken.id))
    assert client.post(f"/account/api-tokens/{other}/revoke").status_code == 404
    past = (date.today() - timedelta(days=1)).isoformat()
    response = client.post(
        "/account/api-tokens/", data={"name": "x", "scope": "read", "expires_on": past}
    )
    assert response.status_code == 422
    assert b'value="x"' in response.data  # what was typed is shown again
    assert client.post("/account/api-tokens/", data={"scope": "all"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1


def test_same_key_sent_at_the_same_moment_writes_once(app, token_for, ledger):
    from concurrent.futures import ThreadPoolExecutor

    from recovery.ledger.models import Receipt

    h = {**bearer(token_for("fin", "finance")), "Idempotency-Key": "together"}

    def post(_):
        response = app.test_client().post("/api/v1/receipts", json=_receipt("R-T"), headers=h)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(post, range(6)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({str(body) for _, body in answers}) == 1
    assert _count(app, Receipt) == 1
