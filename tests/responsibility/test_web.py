"""The responsibility screens: who may read and act, forms re-shown with the reason, hand-over
through the pages, lifetime responsibility and the leader on the ledger's own screens."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.ledger.models import Item
from recovery.parties import services as parties
from recovery.parties.models import Counterparty
from recovery.responsibility.models import Handover, ResponsibilityChange
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder
from tests.responsibility.conftest import make_people

D = date


@pytest.fixture
def site(app):
    """People, and two accounts: s1's (with an item under an unreviewed contract signed by
    s2) and s2's. Returns {name: id}."""
    with app.app_context():
        users = make_people()
        b = LedgerBuilder()
        mine = b.counterparty("MINE", "甲公司", responsible_id=users["s1"].id)
        theirs = b.counterparty("THEIRS", "乙公司", responsible_id=users["s2"].id)
        contract = parties.save_contract(
            number="K-1", counterparty_id=mine.id, reviewed=False, signer_id=users["s2"].id
        )
        under = b.item(
            mine, "100.00", D(2025, 1, 1), D(2025, 2, 1), "I-UNDER", contract_id=contract.id
        )
        plain = b.item(mine, "50.00", D(2025, 1, 1), D(2025, 2, 1), "I-PLAIN")
        b.item(theirs, "70.00", D(2025, 1, 1), D(2025, 2, 1), "I-THEIRS")
        db.session.commit()
        ids = {name: user.id for name, user in users.items()}
        ids.update(mine=mine.id, theirs=theirs.id, under=under.id, plain=plain.id)
        return ids


def sign_in(client, username):
    assert login(client, username).status_code == 302


def test_who_reads_the_history(app, site):
    mine = f"/responsibility/counterparties/{site['mine']}"
    theirs = f"/responsibility/counterparties/{site['theirs']}"
    for username, expected in [
        ("boss", (200, 200)),
        ("fin", (200, 200)),
        ("law", (200, 200)),
        ("exec", (200, 200)),
        ("s1", (200, 404)),  # a sales user reads their own counterparties only
        ("root", (403, 403)),  # the administrator manages users, not accounts
    ]:
        client = app.test_client()
        sign_in(client, username)
        assert (client.get(mine).status_code, client.get(theirs).status_code) == expected, username
        item_page = client.get(f"/responsibility/items/{site['under']}").status_code
        assert item_page == expected[0], username


@pytest.mark.parametrize("username", ["s1", "fin", "law", "exec"])
def test_only_supervisors_act(app, site, username):
    client = app.test_client()
    sign_in(client, username)
    data = {"to_user_id": site["s3"], "reason": "x"}
    assert (
        client.post(
            f"/responsibility/counterparties/{site['mine']}/reassign", data=data
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/responsibility/counterparties/{site['mine']}/leader",
            data={"leader_id": site["exec"], "reason": "x"},
        ).status_code
        == 403
    )
    assert client.get("/responsibility/handovers/new").status_code == 403
    page = client.get(f"/responsibility/counterparties/{site['mine']}").get_data(as_text=True)
    assert 'data-testid="reassign-form"' not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ResponsibilityChange)) == 0


def test_a_supervisor_reassigns_and_sees_the_history_line(app, site, client):
    sign_in(client, "boss")
    url = f"/responsibility/counterparties/{site['mine']}"
    response = client.post(f"{url}/reassign", data={"to_user_id": site["s3"], "reason": "区域调整"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "区域调整" in page and "S3 名" in page and "BOSS 名" in page
    with app.app_context():
        assert db.session.get(Counterparty, site["mine"]).responsible_id == site["s3"]
        assert {
            i.responsible_id
            for i in db.session.scalars(sa.select(Item).where(Item.counterparty_id == site["mine"]))
        } == {site["s3"]}


def test_a_reassignment_without_reason_is_re_shown_with_what_was_typed(app, site, client):
    sign_in(client, "boss")
    url = f"/responsibility/counterparties/{site['mine']}/reassign"
    response = client.post(url, data={"to_user_id": site["s3"], "reason": "   "})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "is-invalid" in page
    assert f'<option selected value="{site["s3"]}">' in page
    response = client.post(url, data={"to_user_id": site["s1"], "reason": "同一人"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "同一人" in page and "is-invalid" in page
    with app.app_context():
        assert db.session.get(Counterparty, site["mine"]).responsible_id == site["s1"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ResponsibilityChange)) == 0


def test_lifetime_responsible_and_leader_are_shown_on_the_ledger_screens(app, site, client):
    sign_in(client, "boss")
    client.post(
        f"/responsibility/counterparties/{site['mine']}/leader",
        data={"leader_id": site["exec"], "reason": "大额"},
    )
    client.post(
        f"/responsibility/counterparties/{site['mine']}/reassign",
        data={"to_user_id": site["s3"], "reason": "调整"},
    )
    item = client.get(f"/ledger/items/{site['under']}").get_data(as_text=True)
    assert 'data-testid="lifetime"' in item and "S2 名" in item and "EXEC 名" in item
    plain = client.get(f"/ledger/items/{site['plain']}").get_data(as_text=True)
    assert 'data-testid="lifetime"' not in plain
    statement = client.get(f"/parties/counterparties/{site['mine']}").get_data(as_text=True)
    assert statement.count('data-testid="lifetime"') == 2  # the header and the item's line
    assert "EXEC 名" in statement and f"/responsibility/counterparties/{site['mine']}" in statement
    listing = client.get("/ledger/?show=all").get_data(as_text=True)
    assert listing.count('data-testid="lifetime"') == 1
    history = client.get(f"/responsibility/counterparties/{site['mine']}").get_data(as_text=True)
    assert "S2 名" in history  # still responsible for life after the reassignment


def test_a_hand_over_through_the_pages(app, site, client):
    sign_in(client, "boss")
    response = client.post(
        "/responsibility/handovers/new",
        data={
            "from_user_id": site["s1"],
            "to_user_id": site["s3"],
            "reason": "离职",
            "extra_lines": "交还钥匙",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        handover = db.session.scalar(sa.select(Handover))
        checks = [c.id for c in handover.checklist]
    url = f"/responsibility/handovers/{handover.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="preview"' in page and "交还钥匙" in page

    def lines(done):
        data = {}
        for n, check_id in enumerate(checks):
            data[f"lines-{n}-check_id"] = str(check_id)
            data[f"lines-{n}-note"] = f"note {n}"
            if done(n):
                data[f"lines-{n}-done"] = "y"
        return data

    refused = client.post(f"{url}/checklist", data={**lines(lambda n: n > 0), "apply": "1"})
    assert refused.status_code == 200
    assert 'data-testid="error"' in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Handover, handover.id).status == "draft"
        ticked = [c.done for c in db.session.get(Handover, handover.id).checklist]
        assert ticked == [False] + [True] * (len(checks) - 1)  # the ticks were saved
    applied = client.post(f"{url}/checklist", data={**lines(lambda n: True), "apply": "1"})
    assert applied.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="moved"' in page and "MINE" in page
    with app.app_context():
        done = db.session.get(Handover, handover.id)
        assert (done.status, done.counterparties_moved, done.items_moved) == ("completed", 1, 2)
        assert done.checklist[0].note == "note 0"
    listing = client.get("/responsibility/handovers").get_data(as_text=True)
    assert f'data-handover="{handover.id}"' in listing


def test_the_leaving_supervisor_cannot_apply_their_own_hand_over(app, site, client):
    sign_in(client, "leaving_boss")
    client.post(
        "/responsibility/handovers/new",
        data={"from_user_id": site["leaving_boss"], "to_user_id": site["s3"], "reason": "调岗"},
    )
    with app.app_context():
        handover = db.session.scalar(sa.select(Handover))
        data = {"apply": "1"}
        for n, check in enumerate(handover.checklist):
            data.update({f"lines-{n}-check_id": str(check.id), f"lines-{n}-done": "y"})
    response = client.post(f"/responsibility/handovers/{handover.id}/checklist", data=data)
    assert response.status_code == 200 and 'data-testid="error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Handover, handover.id).status == "draft"


def test_the_leaders_page_lists_debts_without_a_leader_and_sets_one(app, site, client):
    with app.app_context():
        b = LedgerBuilder()
        big = b.counterparty("BIG", "大客户", responsible_id=site["s1"])
        b.item(big, "2000000.00", D(2025, 1, 1), date.today() - timedelta(days=10))
        db.session.commit()
        big_id = big.id
    sign_in(client, "boss")
    page = client.get("/responsibility/leaders").get_data(as_text=True)
    # BIG is large; MINE's items are more than a year overdue (the default thresholds).
    assert 'data-counterparty="BIG"' in page and 'data-counterparty="MINE"' in page
    response = client.post(
        f"/responsibility/counterparties/{big_id}/leader",
        data={"leader_id": site["exec"], "reason": "大额", "next": "/responsibility/leaders"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/responsibility/leaders"
    page = client.get("/responsibility/leaders").get_data(as_text=True)
    assert 'data-counterparty="BIG"' not in page and 'data-counterparty="MINE"' in page
    with app.app_context():
        assert db.session.get(Counterparty, big_id).leader_id == site["exec"]
    other = app.test_client()
    sign_in(other, "s1")
    assert other.get("/responsibility/leaders").status_code == 403


def test_a_leader_who_is_not_an_executive_is_refused_on_the_page(app, site, client):
    sign_in(client, "boss")
    response = client.post(
        f"/responsibility/counterparties/{site['mine']}/leader",
        data={"leader_id": site["s2"], "reason": "大额"},
    )
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Counterparty, site["mine"]).leader_id is None
