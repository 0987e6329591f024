"""Visit records wait for a supervisor's review: approve, return with a note, complete and
send again; nobody reviews their own visit."""

from __future__ import annotations

import sqlalchemy as sa

from recovery.activities.models import Activity, EvidenceFile
from recovery.extensions import db
from tests.activities.conftest import PNG, post_activity, sign_in


def visit(app, world, username="sales1", counterparty_id=None, contact_id=None) -> int:
    client = sign_in(app, username)
    response = post_activity(
        client,
        counterparty_id or world.cp1,
        kind="visit",
        contact_id=contact_id or world.contact1,
        summary="Visited the site office.",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Activity.id)))


def status(app, activity_id):
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        return activity.review_status, activity.reviewed_by_id, activity.review_note


def test_a_visit_waits_for_review_other_kinds_do_not(app, world):
    activity_id = visit(app, world)
    assert status(app, activity_id)[0] == "pending"
    client = sign_in(app, "sales1")
    post_activity(client, world.cp1, contact_id=world.contact1)
    with app.app_context():
        call = db.session.scalar(sa.select(Activity).where(Activity.kind == "call"))
        assert call.review_status == "not_required"
    page = sign_in(app, "sup1").get("/activities/reviews").get_data(as_text=True)
    assert f'data-activity="{activity_id}"' in page
    assert page.count("data-activity=") == 1


def test_a_supervisor_approves(app, world):
    activity_id = visit(app, world)
    client = sign_in(app, "sup1")
    response = client.post(f"/activities/{activity_id}/review", data={"approve": "1"})
    assert response.status_code == 302
    assert status(app, activity_id) == ("approved", world.users["sup1"], None)
    page = client.get("/activities/reviews").get_data(as_text=True)
    assert "data-activity=" not in page


def test_returning_needs_a_note(app, world):
    activity_id = visit(app, world)
    client = sign_in(app, "sup1")
    response = client.post(
        f"/activities/{activity_id}/review",
        data={"send_back": "1", "note": ""},
        follow_redirects=True,
    )
    assert "Say what is missing" in response.get_data(as_text=True)
    assert status(app, activity_id)[0] == "pending"
    client.post(
        f"/activities/{activity_id}/review", data={"send_back": "1", "note": "Attach the photos."}
    )
    assert status(app, activity_id) == ("returned", world.users["sup1"], "Attach the photos.")


def test_nobody_reviews_their_own_visit(app, world):
    activity_id = visit(app, world, username="sup1")
    client = sign_in(app, "sup1")
    response = client.post(
        f"/activities/{activity_id}/review", data={"approve": "1"}, follow_redirects=True
    )
    assert "Nobody reviews their own visit record." in response.get_data(as_text=True)
    assert status(app, activity_id)[0] == "pending"
    # The list says so instead of offering the buttons.
    page = client.get("/activities/reviews").get_data(as_text=True)
    assert "another supervisor reviews it" in page
    sign_in(app, "sup2").post(f"/activities/{activity_id}/review", data={"approve": "1"})
    assert status(app, activity_id)[0] == "approved"


def test_only_supervisors_review(app, world):
    activity_id = visit(app, world)
    for username in ("sales1", "fin1", "exec1"):
        client = sign_in(app, username)
        assert (
            client.post(f"/activities/{activity_id}/review", data={"approve": "1"}).status_code
            == 403
        )
        assert client.get("/activities/reviews").status_code == 403
    assert status(app, activity_id)[0] == "pending"


def test_a_decision_without_a_button_is_not_taken(app, world):
    activity_id = visit(app, world)
    sign_in(app, "sup1").post(f"/activities/{activity_id}/review", data={"note": "x"})
    assert status(app, activity_id)[0] == "pending"


def test_an_approved_visit_cannot_be_reviewed_again_nor_a_call(app, world):
    activity_id = visit(app, world)
    client = sign_in(app, "sup1")
    client.post(f"/activities/{activity_id}/review", data={"approve": "1"})
    response = client.post(
        f"/activities/{activity_id}/review",
        data={"send_back": "1", "note": "x"},
        follow_redirects=True,
    )
    assert "not waiting for review" in response.get_data(as_text=True)
    assert status(app, activity_id)[0] == "approved"


def test_the_visitor_completes_a_returned_record(app, world):
    activity_id = visit(app, world)
    sign_in(app, "sup1").post(
        f"/activities/{activity_id}/review", data={"send_back": "1", "note": "Attach the photos."}
    )
    visitor = sign_in(app, "sales1")
    page = visitor.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert 'data-testid="resubmit-form"' in page and "Attach the photos." in page
    # Somebody else cannot.
    response = sign_in(app, "sup2").post(
        f"/activities/{activity_id}/resubmit", data={"supplement": "x"}, follow_redirects=True
    )
    assert "Only the person who made the visit" in response.get_data(as_text=True)
    import io

    response = visitor.post(
        f"/activities/{activity_id}/resubmit",
        data={"supplement": "Photos attached.", "files": [(io.BytesIO(PNG), "site.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert status(app, activity_id)[0] == "pending"
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        assert activity.summary.endswith("Photos attached.")
        assert db.session.scalar(sa.select(EvidenceFile.original_name)) == "site.png"


def test_a_sales_manager_cannot_review_from_another_account(app, world):
    activity_id = visit(
        app, world, username="sales2", counterparty_id=world.cp2, contact_id=world.contact2
    )
    assert sign_in(app, "sales1").get(f"/activities/{activity_id}").status_code == 404
