"""Logging activities through the form: who may, what is stored, what interrupts limitation,
the promise logged with a call, and the link to the case."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.activities import services
from recovery.activities.models import Activity, Promise
from recovery.cases.models import RecoveryCase
from recovery.extensions import db
from tests.activities.conftest import post_activity, sign_in


def activities(app) -> list[Activity]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Activity).order_by(Activity.id)).all()
        db.session.expunge_all()
        return rows


def make_case(app, counterparty_id: int, number="CASE-1", status="open") -> int:
    with app.app_context():
        case = RecoveryCase(
            number=number,
            counterparty_id=counterparty_id,
            status=status,
            outcome="recovered" if status == "closed" else None,
            opened_on=date(2025, 3, 1),
            assigned_at=datetime(2025, 3, 3, 1, 0),
        )
        db.session.add(case)
        db.session.commit()
        return case.id


def test_the_form_opens_from_a_worklist_link_with_the_kind_chosen(app, world):
    client = sign_in(app, "sales1")
    case_id = make_case(app, world.cp1)
    page = client.get(f"/activities/new?counterparty_id={world.cp1}&case_id={case_id}&kind=visit")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<option selected value="visit">' in text
    assert "CASE-1" in text
    # Only cp1's active named contacts are offered.
    assert "张经理" in text and "李会计" in text
    assert "王前任" not in text and "赵总" not in text


def test_another_sales_managers_counterparty_answers_404(app, world):
    client = sign_in(app, "sales1")
    assert client.get(f"/activities/new?counterparty_id={world.cp2}").status_code == 404
    response = post_activity(client, world.cp2, contact_id=world.contact2)
    assert response.status_code == 404
    assert activities(app) == []
    # A case of another counterparty cannot be named either.
    other_case = make_case(app, world.cp2, "CASE-2")
    assert (
        client.get(f"/activities/new?counterparty_id={world.cp1}&case_id={other_case}").status_code
        == 404
    )


def test_without_a_counterparty_the_form_sends_the_user_to_choose_one(app, world):
    client = sign_in(app, "sales1")
    response = client.get("/activities/new")
    assert response.status_code == 302


def test_a_call_is_stored_with_its_person_contact_and_next_step(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        outcome="Will check with the boss",
        next_step="Call again",
        next_step_on="2025-03-05",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [activity] = activities(app)
    assert activity.user_id == world.users["sales1"]
    assert activity.contact_id == world.contact1
    assert activity.kind == "call" and activity.connected
    # Typed in Beijing time, stored in UTC.
    assert activity.occurred_at == datetime(2025, 3, 3, 2, 0)
    assert activity.next_step_on == date(2025, 3, 5)
    assert not activity.interrupts_limitation
    assert activity.review_status == "not_required"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2025-03-03 10:00" in page
    assert "Record the promise now" in page


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        ("call", {}, False),
        ("call", {"debtor_acknowledged": "y"}, True),
        ("visit", {}, False),
        ("visit", {"debtor_acknowledged": "y"}, True),
        ("meeting", {"debtor_acknowledged": "y"}, True),
        ("demand", {}, False),
        ("demand", {"proof_of_arrival": "EMS 1234, signed for on 2025-03-05"}, True),
        ("letter", {"proof_of_arrival": "Courier delivery record"}, True),
        ("letter", {"debtor_acknowledged": "y"}, False),
        ("email", {}, False),
        ("email", {"proof_of_arrival": "Read receipt 2025-03-03 10:05"}, True),
        ("message", {"proof_of_arrival": "WeChat: read"}, True),
        ("confirmation", {}, False),
        ("confirmation", {"proof_of_arrival": "Returned signed and stamped"}, True),
        ("call", {"promise_amount": "1000", "promise_due_on": "2025-03-31"}, True),
        ("letter", {"promise_amount": "1000", "promise_due_on": "2025-03-31"}, True),
    ],
)
def test_interrupts_limitation_is_computed_per_kind(app, world, kind, fields, expected):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, kind=kind, contact_id=world.contact1, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    [activity] = activities(app)
    assert activity.interrupts_limitation is expected
    # The proof is kept only where it means something.
    if kind in ("call", "visit", "meeting"):
        assert activity.proof_of_arrival is None


def test_the_interrupts_box_cannot_be_ticked_by_hand(app, world):
    client = sign_in(app, "sales1")
    post_activity(client, world.cp1, kind="demand", interrupts_limitation="y")
    [activity] = activities(app)
    assert activity.interrupts_limitation is False


def test_a_call_and_a_promise_in_one_form(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        promise_amount="3,000.00",
        promise_due_on="2025-03-20",
        promise_note="Half this month",
    )
    assert response.status_code == 302
    with app.app_context():
        [promise] = db.session.scalars(sa.select(Promise)).all()
        assert promise.amount == Decimal("3000.00")
        assert promise.promised_on == date(2025, 3, 3)
        assert promise.due_on == date(2025, 3, 20)
        assert promise.activity.interrupts_limitation
        assert promise.recorded_by_id == world.users["sales1"]


def test_a_promise_needs_both_amount_and_date(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact1, promise_amount="100")
    assert response.status_code == 200
    assert "Enter the date it is promised by." in response.get_data(as_text=True)
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        promise_amount="100",
        promise_due_on="2025-03-01",
    )
    assert "cannot be before the promise was made" in response.get_data(as_text=True)
    assert activities(app) == []


def test_a_promise_recorded_after_the_call_makes_it_interrupt(app, world):
    client = sign_in(app, "sales1")
    post_activity(client, world.cp1, contact_id=world.contact1)
    [activity] = activities(app)
    assert not activity.interrupts_limitation
    page = client.get(f"/activities/promises/new?activity_id={activity.id}")
    assert 'value="2025-03-03"' in page.get_data(as_text=True)
    response = client.post(
        f"/activities/promises/new?activity_id={activity.id}",
        data={"amount": "500", "promised_on": "2025-03-03", "due_on": "2025-03-10"},
    )
    assert response.status_code == 302
    [activity] = activities(app)
    assert activity.interrupts_limitation


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"occurred_at": "2999-01-01T10:00"}, "cannot be in the future"),
        ({"occurred_at": "yesterday"}, "Not a date and time"),
        ({"summary": ""}, "This field is required"),
        ({"next_step_on": "2025-03-01", "next_step": "x"}, "cannot be before the activity"),
        ({"next_step_on": "2025-03-04"}, "Describe the next step."),
        ({"connected": False, "debtor_acknowledged": "y"}, "did not connect"),
    ],
)
def test_bad_input_is_refused_and_shown_again(app, world, fields, message):
    client = sign_in(app, "sales1")
    fields.setdefault("outcome", "typed outcome kept")
    response = post_activity(client, world.cp1, contact_id=world.contact1, **fields)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text
    assert "typed outcome kept" in text
    assert activities(app) == []


def test_an_activity_is_linked_to_the_open_case_and_starts_its_clock(app, world):
    case_id = make_case(app, world.cp1)
    client = sign_in(app, "sales1")
    post_activity(client, world.cp1, contact_id=world.contact1)
    [activity] = activities(app)
    assert activity.case_id == case_id
    with app.app_context():
        case = db.session.get(RecoveryCase, case_id)
        try:
            from recovery.cases import services as case_services
        except ModuleNotFoundError:
            case_services = None
        if case_services is not None and hasattr(case_services, "record_first_action"):
            assert case.first_action_at == activity.occurred_at
        else:
            assert case.first_action_at is None


def test_record_first_action_reports_whether_the_cases_module_offers_it(app, world):
    case_id = make_case(app, world.cp1)
    with app.app_context():
        case = db.session.get(RecoveryCase, case_id)
        called = services.record_first_action(case, datetime(2025, 3, 3, 2, 0))
        try:
            from recovery.cases import services as case_services

            offered = hasattr(case_services, "record_first_action")
        except ModuleNotFoundError:
            offered = False
        assert called is offered


def test_no_activity_on_a_closed_case(app, world):
    case_id = make_case(app, world.cp1, status="closed")
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, case_id=case_id, contact_id=world.contact1)
    assert response.status_code == 200
    assert "This case is closed." in response.get_data(as_text=True)
    assert activities(app) == []


def test_executives_read_activities_but_do_not_log_them(app, world):
    client = sign_in(app, "sales1")
    post_activity(client, world.cp1, contact_id=world.contact1)
    [activity] = activities(app)
    reader = sign_in(app, "exec1")
    assert reader.get(f"/activities/{activity.id}").status_code == 200
    assert reader.get(f"/activities/new?counterparty_id={world.cp1}").status_code == 403
    other = sign_in(app, "sales2")
    assert other.get(f"/activities/{activity.id}").status_code == 404


def test_the_counterparty_page_shows_the_panel_and_links(app, world):
    client = sign_in(app, "sales1")
    post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        promise_amount="100",
        promise_due_on="2025-03-10",
    )
    page = client.get(f"/parties/counterparties/{world.cp1}?as_of=2025-03-31").get_data(
        as_text=True
    )
    assert 'data-testid="activity-panel"' in page
    assert 'data-testid="log-activity"' in page
    assert "Called about INV-1." in page
    assert 'data-status="broken"' in page


def test_case_panel_totals(app, world):
    case_id = make_case(app, world.cp1)
    client = sign_in(app, "sales1")
    post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        promise_amount="100",
        promise_due_on="2025-03-10",
    )
    with app.app_context():
        case = db.session.get(RecoveryCase, case_id)
        panel = services.case_panel(case, date(2025, 3, 5))
        assert panel["activity_count"] == 1
        assert [line.status for line in panel["promises"]] == ["open"]
        assert panel["totals"]["promised_open"] == Decimal("100.00")
        assert panel["totals"]["last_interruption"] == datetime(2025, 3, 3, 2, 0)
        later = services.case_panel(case, date(2025, 3, 11))
        assert later["totals"]["promised_broken"] == Decimal("100.00")
        assert later["totals"]["broken_count"] == 1


def test_a_collector_assigned_to_the_case_works_it(app, world):
    """A sales user who is not responsible for the account but is assigned its case."""
    case_id = make_case(app, world.cp1)
    with app.app_context():
        db.session.get(RecoveryCase, case_id).assignee_id = world.users["sales2"]
        db.session.commit()
    client = sign_in(app, "sales2")
    response = post_activity(
        client,
        world.cp1,
        case_id=case_id,
        contact_id=world.contact1,
        promise_amount="10",
        promise_due_on="2025-03-10",
    )
    assert response.status_code == 302
    promises = client.get("/activities/promises?as_of=2025-03-31").get_data(as_text=True)
    assert "CP1" in promises and "CP2" not in promises
    assert client.get(response.headers["Location"]).status_code == 200
