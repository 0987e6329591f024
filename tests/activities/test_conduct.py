"""The conduct guard (DOMAIN §7): contact hours, the daily limit of connected calls per
debtor, saving anyway with a recorded reason, and contacts that are not the debtor's."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale

from recovery.activities.models import Activity, EvidenceFile
from recovery.extensions import db
from recovery.settings.services import update_settings
from tests.activities.conftest import PDF, evidence_files, post_activity, sign_in


def stored(app) -> list[Activity]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Activity).order_by(Activity.id)).all()
        db.session.expunge_all()
        return rows


def test_a_call_at_night_is_warned_and_not_saved(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client, world.cp1, contact_id=world.contact1, occurred_at="2025-03-03T22:30"
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'data-testid="conduct-warning"' in text
    assert "22:30 is outside the contact hours (08:00–22:00)." in text
    # The reason field appears, and what was typed is kept.
    assert 'name="conduct_override_reason"' in text
    assert "Called about INV-1." in text
    assert stored(app) == []


def test_saving_anyway_records_the_warning_and_the_reason(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        occurred_at="2025-03-03T07:30",
        conduct_override_reason="The debtor asked to be called before work.",
    )
    assert response.status_code == 302
    [activity] = stored(app)
    assert activity.conduct_warning == "07:30 is outside the contact hours (08:00–22:00)."
    assert activity.conduct_override_reason == "The debtor asked to be called before work."
    assert activity.user_id == world.users["sales1"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="conduct-record"' in page
    assert "The debtor asked to be called before work." in page


def test_a_reason_without_a_warning_is_not_stored(app, world):
    client = sign_in(app, "sales1")
    post_activity(
        client, world.cp1, contact_id=world.contact1, conduct_override_reason="just in case"
    )
    [activity] = stored(app)
    assert activity.conduct_warning is None and activity.conduct_override_reason is None


def test_a_blank_reason_does_not_count(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        occurred_at="2025-03-03T23:00",
        conduct_override_reason="   ",
    )
    assert response.status_code == 200
    assert stored(app) == []


def test_no_file_is_kept_while_the_warning_waits(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        occurred_at="2025-03-03T23:00",
        files=[("rec.pdf", PDF)],
    )
    assert response.status_code == 200
    assert evidence_files(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceFile)) == 0


def test_letters_and_emails_are_exempt_from_the_hours(app, world):
    client = sign_in(app, "sales1")
    for kind in ("letter", "email", "demand", "confirmation"):
        response = post_activity(
            client, world.cp1, kind=kind, contact_id=world.contact1, occurred_at="2025-03-03T23:45"
        )
        assert response.status_code == 302, kind
    assert all(a.conduct_warning is None for a in stored(app))


def test_visits_and_messages_follow_the_hours(app, world):
    client = sign_in(app, "sales1")
    for kind in ("visit", "message", "meeting"):
        response = post_activity(
            client, world.cp1, kind=kind, contact_id=world.contact1, occurred_at="2025-03-03T06:00"
        )
        assert response.status_code == 200, kind
    assert stored(app) == []


def test_the_hours_are_a_setting(app, world):
    with app.app_context():
        update_settings({"conduct.contact_from": "09:00", "conduct.contact_until": "18:00"})
        db.session.commit()
    client = sign_in(app, "sales1")
    response = post_activity(
        client, world.cp1, contact_id=world.contact1, occurred_at="2025-03-03T08:30"
    )
    assert "08:30 is outside the contact hours (09:00–18:00)." in response.get_data(as_text=True)


def call(client, world, at="2025-03-03T10:00", **fields):
    return post_activity(client, world.cp1, contact_id=world.contact1, occurred_at=at, **fields)


def test_the_fourth_connected_call_of_the_day_is_warned(app, world):
    client = sign_in(app, "sales1")
    other = sign_in(app, "sup1")
    assert call(client, world, "2025-03-03T09:00").status_code == 302
    assert call(client, world, "2025-03-03T11:00").status_code == 302
    # Calls by anyone count: the limit protects the debtor, not the collector.
    assert call(other, world, "2025-03-03T14:00").status_code == 302
    # Calls that did not connect do not count.
    assert call(client, world, "2025-03-03T15:00", connected=False).status_code == 302
    response = call(client, world, "2025-03-03T16:00")
    assert response.status_code == 200
    assert (
        "This would be connected call no. 4 with this debtor on 2025-03-03; the limit is 3 a day."
        in response.get_data(as_text=True)
    )
    # A call that does not connect is not warned; nor is the next day's first call.
    assert call(client, world, "2025-03-03T16:05", connected=False).status_code == 302
    assert call(client, world, "2025-03-04T09:00").status_code == 302
    # With a reason it is saved, and recorded.
    response = call(
        client, world, "2025-03-03T16:10", conduct_override_reason="The debtor called back."
    )
    assert response.status_code == 302
    last = stored(app)[-1]
    assert "connected call no. 4" in last.conduct_warning
    assert last.conduct_override_reason == "The debtor called back."


def test_the_day_is_the_local_day(app, world):
    """00:30 in Beijing is the previous day in UTC: it counts on its own (local) day."""
    client = sign_in(app, "sales1")
    for at in ("2025-03-04T08:00", "2025-03-04T09:00", "2025-03-04T10:00"):
        assert call(client, world, at).status_code == 302
    # 2025-03-03 21:00 local is 13:00 UTC on the 3rd: a different local day, no warning.
    assert call(client, world, "2025-03-03T21:00").status_code == 302
    assert call(client, world, "2025-03-04T21:59").status_code == 200


def test_the_limit_is_per_debtor(app, world):
    client = sign_in(app, "sales1")
    for at in ("2025-03-03T09:00", "2025-03-03T10:00", "2025-03-03T11:00"):
        assert call(client, world, at).status_code == 302
    other = sign_in(app, "sales2")
    response = post_activity(
        other, world.cp2, contact_id=world.contact2, occurred_at="2025-03-03T12:00"
    )
    assert response.status_code == 302


def test_both_rules_at_once(app, world):
    client = sign_in(app, "sales1")
    for at in ("2025-03-03T09:00", "2025-03-03T10:00", "2025-03-03T11:00"):
        call(client, world, at)
    text = call(client, world, "2025-03-03T23:00").get_data(as_text=True)
    assert "outside the contact hours" in text and "connected call no. 4" in text


def test_a_contact_of_another_debtor_is_refused(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact2)
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert stored(app) == []


def test_an_inactive_contact_is_refused(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact_inactive)
    assert response.status_code == 200
    assert stored(app) == []


def test_a_free_text_third_party_cannot_be_entered(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id="the debtor's neighbour")
    assert response.status_code == 200
    assert stored(app) == []


def test_the_service_refuses_a_non_contact_whatever_the_form(app, world):
    """The service checks too (another screen or an import cannot go around the rule)."""
    from datetime import datetime

    import pytest

    from recovery.activities import services
    from recovery.auth.models import User

    with app.test_request_context(), force_locale("en"):
        actor = db.session.get(User, world.users["sales1"])
        values = services.ActivityInput(
            counterparty_id=world.cp1,
            kind="call",
            occurred_at=datetime(2025, 3, 3, 10, 0),
            summary="x",
            contact_id=world.contact2,
        )
        with pytest.raises(services.ActivityError, match="not one of its active contacts"):
            services.record_activity(values, actor=actor)
        values.contact_id = world.contact_inactive
        with pytest.raises(services.ActivityError):
            services.record_activity(values, actor=actor)
        values.contact_id = world.contact1b
        assert services.record_activity(values, actor=actor).contact_id == world.contact1b


def test_a_call_needs_the_contact_reached_a_letter_may_go_to_the_debtor(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1)
    assert response.status_code == 200
    assert "Choose the named contact you reached." in response.get_data(as_text=True)
    assert post_activity(client, world.cp1, kind="letter").status_code == 302
    [letter] = stored(app)
    assert letter.contact_id is None
