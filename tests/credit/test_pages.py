"""The credit pages: holds (with sales scope), exceptions and their forms, groups, the
check, the counterparty panel. Users read English."""

from datetime import timedelta
from decimal import Decimal

from recovery.credit import services
from recovery.credit.models import CreditException, CreditGroupMember
from recovery.extensions import db
from tests.conftest import login


def _held(w, responsible="sales", days=100):
    cp = w.counterparty(responsible=responsible)
    w.overdue_item(cp, "1000.00", days=days)
    return cp.id, cp.code


def test_holds_page_lists_reasons_and_sales_see_their_own(client, within):
    mine = within(_held)[1]
    theirs = within(lambda w: _held(w, responsible="sales2"))[1]
    login(client, "finance")
    page = client.get("/credit/").get_data(as_text=True)
    assert mine in page and theirs in page
    assert "Overdue 100 days &gt; 90" in page and "Overdue 1,000.00 &gt; 0.00" in page
    filtered = client.get("/credit/?rule=lawsuit").get_data(as_text=True)
    assert mine not in filtered
    client.post("/logout")
    login(client, "sales")
    page = client.get("/credit/").get_data(as_text=True)
    assert mine in page and theirs not in page


def test_request_form_reshows_bad_input_with_reasons(app, client, within):
    _, code = within(_held)
    today = services.company_today()
    login(client, "sales")
    response = client.post(
        "/credit/exceptions/new",
        data={
            "counterparty": code,
            "amount_cap": "12,3x",
            "valid_until": (today - timedelta(days=1)).isoformat(),
            "reason": "",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="12,3x"' in page and "Not an amount" in page
    response = client.post(
        "/credit/exceptions/new",
        data={
            "counterparty": code,
            "amount_cap": "100",
            "valid_until": (today - timedelta(days=1)).isoformat(),
            "reason": "x",
        },
    )
    assert response.status_code == 422
    assert "The expiry date is in the past." in response.get_data(as_text=True)
    response = client.post(
        "/credit/exceptions/new",
        data={
            "counterparty": "NOPE",
            "amount_cap": "100",
            "valid_until": today.isoformat(),
            "reason": "x",
        },
    )
    assert "No counterparty has the code NOPE." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(CreditException).count() == 0


def test_request_and_approve_through_the_pages(app, client, within):
    cp_id, code = within(_held)
    today = services.company_today()
    login(client, "executive")
    response = client.post(
        "/credit/exceptions/new",
        data={"counterparty": code, "amount_cap": "100", "valid_until": "", "reason": "x"},
    )
    assert response.status_code == 403  # executives decide, they do not request
    client.post("/logout")
    login(client, "finance")
    response = client.post(
        "/credit/exceptions/new",
        data={
            "counterparty": code,
            "amount_cap": "500",
            "valid_until": (today + timedelta(days=5)).isoformat(),
            "reason": "Paid in advance",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        exception_id = db.session.query(CreditException).one().id
    client.post("/logout")
    login(client, "executive")
    response = client.post(f"/credit/exceptions/{exception_id}/refuse", data={"note": ""})
    assert response.status_code == 422
    assert "Say why the request is refused." in response.get_data(as_text=True)
    response = client.post(f"/credit/exceptions/{exception_id}/approve", data={"note": "ok"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(CreditException, exception_id).status == "approved"
    page = client.get(f"/parties/counterparties/{cp_id}").get_data(as_text=True)
    assert 'data-testid="credit-panel"' in page and "On hold — no new supply" in page
    assert "Exception approved" in page
    assert client.get("/credit/exceptions").status_code == 200
    assert client.get(f"/credit/exceptions/{exception_id}").status_code == 200


def test_requester_cannot_approve_own_request_on_the_page(client, within):
    def make(w):
        cp = w.counterparty()
        w.overdue_item(cp, "10.00", days=100)
        return services.request_exception(
            cp,
            amount_cap=Decimal("10.00"),
            valid_until=w.today,
            reason="x",
            actor=w.user("executive"),
        ).id

    exception_id = within(make)
    login(client, "executive")
    response = client.post(f"/credit/exceptions/{exception_id}/approve", data={"note": ""})
    assert response.status_code == 422
    assert "Nobody approves their own request." in response.get_data(as_text=True)


def test_sales_cannot_open_another_sales_users_exception(client, within):
    def make(w):
        cp = w.counterparty(responsible="sales2")
        return services.request_exception(
            cp,
            amount_cap=Decimal("10.00"),
            valid_until=w.today,
            reason="x",
            actor=w.user("sales2"),
        ).id

    exception_id = within(make)
    login(client, "sales")
    assert client.get(f"/credit/exceptions/{exception_id}").status_code == 404


def test_check_page_and_unknown_counterparty(client, within):
    _, code = within(_held)
    login(client, "finance")
    response = client.post("/credit/check", data={"counterparty": "NOPE", "amount": "1"})
    assert response.status_code == 404
    assert "No counterparty has the code NOPE." in response.get_data(as_text=True)
    response = client.post("/credit/check", data={"counterparty": code, "amount": "1"})
    assert 'data-decision="hold"' in response.get_data(as_text=True)


def test_group_pages(app, client, within):
    a, b = within(lambda w: (w.counterparty().code, w.counterparty().code))
    login(client, "finance")
    response = client.post(
        "/credit/groups/new", data={"code": "G9", "name": "集团九", "credit_limit": "abc"}
    )
    assert response.status_code == 422 and "Not an amount" in response.get_data(as_text=True)
    response = client.post(
        "/credit/groups/new", data={"code": "G9", "name": "集团九", "credit_limit": "1000"}
    )
    assert response.status_code == 302
    group_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    client.post(f"/credit/groups/{group_id}/members", data={"counterparty": a})
    response = client.post(f"/credit/groups/{group_id}/members", data={"counterparty": "NOPE"})
    assert response.status_code == 422 and "NOPE" in response.get_data(as_text=True)
    client.post(f"/credit/groups/{group_id}/members", data={"counterparty": b})

    def supply(w):
        from recovery.parties.models import Counterparty

        for code in (a, b):
            cp = db.session.query(Counterparty).filter_by(code=code).one()
            w.overdue_item(cp, "800.00", days=-3)
        return w.rules_of(db.session.query(Counterparty).filter_by(code=a).one())

    assert within(supply) == {"group_limit"}
    with app.app_context():
        member = db.session.query(CreditGroupMember).filter(CreditGroupMember.id > 0).all()[-1]
        member_id = member.id
    assert client.post(f"/credit/groups/members/{member_id}/remove").status_code == 302

    def held(w):
        from recovery.parties.models import Counterparty

        return w.status(db.session.query(Counterparty).filter_by(code=a).one()).on_hold

    assert within(held) is False
    assert "G9" in client.get("/credit/groups").get_data(as_text=True)


def test_posts_need_the_csrf_token(app, client, within):
    _, code = within(_held)
    login(client, "finance")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/credit/exceptions/new",
        data={"counterparty": code, "amount_cap": "10", "valid_until": "2099-01-01", "reason": "x"},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(CreditException).count() == 0


def test_sales_scope_on_exceptions_and_requests(client, within):
    def make(w):
        mine = w.counterparty()
        theirs = w.counterparty(responsible="sales2")
        for cp, who in ((mine, "sales"), (theirs, "sales2")):
            services.request_exception(
                cp,
                amount_cap=Decimal("10.00"),
                valid_until=w.today,
                reason=f"for {cp.code}",
                actor=w.user(who),
            )
        return mine.code, theirs.code

    mine, theirs = within(make)
    login(client, "sales")
    page = client.get("/credit/exceptions").get_data(as_text=True)
    assert mine in page and theirs not in page
    response = client.post(
        "/credit/exceptions/new",
        data={
            "counterparty": theirs,
            "amount_cap": "10",
            "valid_until": services.company_today().isoformat(),
            "reason": "x",
        },
    )
    assert response.status_code == 422
    assert f"No counterparty has the code {theirs}." in response.get_data(as_text=True)


def test_every_page_renders_in_chinese(client, within, make_user):
    cp_id, code = within(_held)

    def make(w):
        group = services.save_group(None, code="GZ", name="集团", credit_limit=Decimal("5.00"))
        services.add_member(group, code)
        return (
            services.request_exception(
                code,
                amount_cap=Decimal("10.00"),
                valid_until=w.today,
                reason="x",
                actor=w.user("sales"),
            ).id,
            group.id,
        )

    exception_id, group_id = within(make)
    make_user("zh-exec", "executive", "finance")  # no language: Chinese, the default
    login(client, "zh-exec")
    for url in (
        "/credit/",
        "/credit/exceptions",
        f"/credit/exceptions/{exception_id}",
        "/credit/exceptions/new",
        "/credit/check",
        "/credit/groups",
        f"/credit/groups/{group_id}",
        "/credit/groups/new",
        f"/parties/counterparties/{cp_id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-CN"' in response.get_data(as_text=True), url
    response = client.post("/credit/check", data={"counterparty": code, "amount": "1"})
    assert 'data-decision="hold"' in response.get_data(as_text=True)
