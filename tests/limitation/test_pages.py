"""The pages: everything expiring by date (scoped for sales), one item's limitation with what
set it and what would interrupt it, events recorded by hand (refusals re-shown), the ledger's
item page, legal's worklist, the contract's installments box."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from recovery.audit.models import AuditLog
from recovery.credit.services import company_today
from recovery.extensions import db
from recovery.limitation.models import LimitationEvent
from recovery.parties.models import Contract, Counterparty
from tests.conftest import login
from tests.limitation.conftest import LimitationBuilder

AS_OF = "2024-01-01"


def world(app, make_user):
    """ACME (sales s1): SPRING ends 18 Feb 2024, OLD ended 15 Mar 2023. BETA (sales s2):
    NATIONAL ends 8 Oct 2024."""
    s1 = make_user("s1", "sales")
    s2 = make_user("s2", "sales")
    make_user("legal1", "legal")
    make_user("fin1", "finance")
    with app.app_context():
        build = LimitationBuilder()
        acme = build.counterparty("ACME", responsible_id=s1.id)
        beta = build.counterparty("BETA", responsible_id=s2.id)
        spring = build.item(acme, 500, date(2021, 1, 1), date(2021, 2, 12), document_no="SPRING")
        build.item(acme, 1234.5, date(2020, 1, 1), date(2020, 3, 15), document_no="OLD")
        national = build.item(
            beta, 700, date(2021, 9, 1), date(2021, 10, 3), document_no="NATIONAL"
        )
        db.session.commit()
        return {"spring": spring.id, "national": national.id, "acme": acme.id}


def english(client):
    client.post("/language", data={"language": "en"})


def text(response):
    return response.get_data(as_text=True)


def test_the_expiring_page_lists_by_date_and_sales_see_their_own(client, app, make_user):
    ids = world(app, make_user)
    login(client, "legal1")
    english(client)
    html = text(client.get(f"/limitation/?as_of={AS_OF}&within=365"))
    order = [html.index(f'data-item="{no}"') for no in ("OLD", "SPRING", "NATIONAL")]
    assert order == sorted(order)
    assert "2024-10-08" in html and "2024-02-18" in html
    assert 'data-days-left="-292"' in html and 'data-days-left="48"' in html
    # A window of 60 days leaves NATIONAL out (281 days left).
    html = text(client.get(f"/limitation/?as_of={AS_OF}&within=60"))
    assert 'data-item="NATIONAL"' not in html and 'data-item="SPRING"' in html
    # The same rows as a download.
    csv = client.get(f"/limitation/?as_of={AS_OF}&within=60&format=csv").get_data()
    assert b"document_no,counterparty_code,outstanding" in csv and b"SPRING" in csv
    # Bad input is shown, not an error.
    html = text(client.get("/limitation/?within=abc&counterparty=NOPE"))
    assert "No counterparty has this code." in html

    client = app.test_client()
    login(client, "s1")
    english(client)
    html = text(client.get(f"/limitation/?as_of={AS_OF}&within=365"))
    assert 'data-item="SPRING"' in html and 'data-item="NATIONAL"' not in html
    assert client.get(f"/limitation/items/{ids['national']}").status_code == 404
    assert client.get(f"/limitation/items/{ids['spring']}").status_code == 200
    # Sales read, but do not record.
    assert client.get(f"/limitation/items/{ids['spring']}/events/new").status_code == 403


def test_the_item_page_shows_the_expiry_what_set_it_and_what_would_interrupt_it(
    client, app, make_user
):
    ids = world(app, make_user)
    login(client, "legal1")
    english(client)
    html = text(client.get(f"/limitation/items/{ids['spring']}?as_of={AS_OF}"))
    assert 'data-testid="expires-on">2024-02-18' in html
    assert "2021-02-12 · due date" in html
    assert "art. 203" in html  # 12 Feb 2024 is a holiday: moved
    assert 'data-testid="what-interrupts"' in html and "proof of arrival" in html
    # The ledger's own item page shows the same, with a link here.
    html = text(client.get(f"/ledger/items/{ids['spring']}?as_of={AS_OF}"))
    assert 'data-testid="limitation-panel"' in html
    assert "Expires 2024-02-18" in html
    assert f"/limitation/items/{ids['spring']}" in html


def test_recording_an_interruption_refuses_the_future_and_dates_before_due(client, app, make_user):
    ids = world(app, make_user)
    login(client, "legal1")
    english(client)
    url = f"/limitation/items/{ids['spring']}/events/new"
    assert client.get(url).status_code == 200
    # The company's tomorrow (Asia/Shanghai): the UTC date is a day behind from 16:00 UTC.
    with app.app_context():
        tomorrow = (company_today() + timedelta(days=1)).isoformat()
    response = client.post(
        url, data={"kind": "acknowledgement", "dated_on": tomorrow, "note": "signed letter"}
    )
    html = text(response)
    assert response.status_code == 422 and "in the future" in html  # refused: the form again
    assert "signed letter" in html and tomorrow in html  # what was typed is shown again
    html = text(client.post(url, data={"kind": "demand", "dated_on": "2021-02-11", "note": "EMS"}))
    assert "due date (2021-02-12)" in html and "nothing to interrupt" in html
    html = text(client.post(url, data={"kind": "demand", "dated_on": "2022-05-06", "note": ""}))
    assert "This field is required." in html or "Say what proves it" in html
    response = client.post(
        url, data={"kind": "demand", "dated_on": "2022-05-06", "note": "EMS 1234, signed"}
    )
    assert response.status_code == 302
    html = text(client.get(f"/limitation/items/{ids['spring']}?as_of={AS_OF}"))
    # Three years from the demand: Tuesday 6 May 2025 (the day after the Labour Day break).
    assert 'data-testid="expires-on">2025-05-06' in html
    assert "2022-05-06 · demand that reached the debtor" in html
    with app.app_context():
        event = db.session.scalar(sa.select(LimitationEvent))
        assert event.recorded_by.username == "legal1"
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.table_name == "limitation_events")
        )


def test_a_suspension_is_ended_and_an_event_withdrawn_with_optimistic_locking(
    client, app, make_user
):
    ids = world(app, make_user)
    login(client, "legal1")
    english(client)
    url = f"/limitation/items/{ids['national']}/events/new"
    response = client.post(
        url,
        data={"kind": "suspension", "dated_on": "2024-06-01", "note": "flood: court closed"},
    )
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(sa.select(LimitationEvent))
        event_id, version = event.id, event.version
    html = text(client.get(f"/limitation/items/{ids['national']}?as_of=2024-07-01"))
    assert "still lasting" in html
    # Lasting as of 1 July 2024: not before six months later, 1 January 2025 → a holiday,
    # so Thursday 2 January 2025.
    assert 'data-testid="expires-on">2025-01-02' in html
    # Someone ends it; a second page opened before is refused.
    response = client.post(
        f"/limitation/events/{event_id}/end",
        data={"ended_on": "2024-08-15", "version": str(version)},
    )
    assert response.status_code == 302
    response = client.post(
        f"/limitation/events/{event_id}/withdraw",
        data={"reason": "typed twice", "version": str(version)},
        follow_redirects=True,
    )
    assert "Changed by legal1" in text(response)
    html = text(client.get(f"/limitation/items/{ids['national']}?as_of=2024-09-01"))
    # Ended 15 August: six months later, Saturday 15 February 2025 → Monday the 17th.
    assert 'data-testid="expires-on">2025-02-17' in html
    with app.app_context():
        version = db.session.get(LimitationEvent, event_id).version
    response = client.post(
        f"/limitation/events/{event_id}/withdraw",
        data={"reason": "wrong item", "version": str(version)},
    )
    assert response.status_code == 302
    html = text(client.get(f"/limitation/items/{ids['national']}?as_of=2024-09-01"))
    assert 'data-testid="expires-on">2024-10-08' in html and "withdrawn" in html


def test_legal_sees_the_warnings_on_the_worklist_and_sales_on_their_accounts(
    client, app, make_user
):
    world(app, make_user)
    # The worklist is as of today: an item whose period ends in ten days.
    with app.app_context():
        build = LimitationBuilder()
        acme = db.session.scalar(sa.select(Counterparty).where(Counterparty.code == "ACME"))
        due = date.today().replace(year=date.today().year - 3) + timedelta(days=10)
        build.item(acme, 99, due - timedelta(days=30), due, document_no="SOON")
        db.session.commit()
    login(client, "legal1")
    english(client)
    html = text(client.get("/worklist/"))
    assert 'data-waiting="limitation"' in html
    assert 'data-band="expired"' in html  # OLD and SPRING have expired by today
    client = app.test_client()
    login(client, "s1")
    english(client)
    html = text(client.get("/worklist/"))
    assert 'data-reason="limitation"' in html


def test_the_contract_form_marks_installments(client, app, make_user):
    world(app, make_user)
    login(client, "fin1")
    english(client)
    data = {"number": "K-INST", "counterparty_code": "ACME", "rate_basis": "annual"}
    response = client.post("/parties/contracts/new", data={**data, "installments": "y"})
    assert response.status_code == 302, text(response)
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(Contract.number == "K-INST"))
        assert contract.installments is True
    assert "Installments of one debt" in text(client.get(f"/parties/contracts/{contract.id}/edit"))


def test_a_last_day_beyond_the_known_calendar_is_marked_provisional(client, app, make_user):
    make_user("legal1", "legal")
    with app.app_context():
        build = LimitationBuilder()
        cp = build.counterparty("LEAP")
        item = build.item(cp, 100, date(2024, 2, 1), date(2024, 2, 29), document_no="LEAP-1")
        item_id = item.id
        db.session.commit()
    login(client, "legal1")
    english(client)
    html = text(client.get("/limitation/?as_of=2026-06-01&within=365"))
    # 29 February 2024 + 3 years = Sunday 28 February 2027; weekends only → 1 March.
    assert 'data-item="LEAP-1"' in html and "2027-03-01" in html
    assert 'data-testid="calendar-unknown"' in html and "provisional" in html
    html = text(client.get(f"/limitation/items/{item_id}?as_of=2026-06-01"))
    assert "only weekends were counted" in html
