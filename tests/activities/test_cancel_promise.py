"""Withdrawing a promise recorded by mistake (activities.cancel_promise): who may, the reason
kept, the promise gone from the status lists, the activity's limitation ground, the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from recovery.activities import services
from recovery.activities.models import Activity, Promise
from recovery.activities.promises import promise_status_rows
from recovery.audit.models import AuditLog
from recovery.auth.models import User
from recovery.extensions import db
from tests.activities.conftest import post_activity, sign_in

D = date


def record(app, world, user="sales1", counterparty_id=None, amount="1000") -> int:
    with app.test_request_context():
        promise = services.record_promise(
            counterparty_id=counterparty_id or world.cp1,
            amount=Decimal(amount),
            promised_on=D(2025, 3, 1),
            due_on=D(2025, 3, 10),
            actor=db.session.get(User, world.users[user]),
            today=D(2030, 1, 1),
        )
        db.session.commit()
        return promise.id


def load(app, promise_id: int) -> Promise:
    with app.app_context():
        promise = db.session.get(Promise, promise_id)
        db.session.expunge(promise)
        return promise


def cancel(client, promise_id: int, reason="Typed the wrong amount", **extra):
    return client.post(
        f"/activities/promises/{promise_id}/cancel", data={"reason": reason, **extra}
    )


# ---------------------------------------------------------------------------------------------
# The service


def test_the_recorder_withdraws_with_a_reason_and_it_leaves_the_lists(app, world):
    promise_id = record(app, world)
    with app.test_request_context():
        promise = db.session.get(Promise, promise_id)
        assert len(db.session.execute(promise_status_rows(D(2025, 3, 31))).all()) == 1
        services.cancel_promise(
            promise, actor=db.session.get(User, world.users["sales1"]), reason="  Wrong debtor "
        )
        db.session.commit()
        assert promise.cancelled and promise.cancel_reason == "Wrong debtor"
        # Neither open, kept nor broken any more.
        assert db.session.execute(promise_status_rows(D(2025, 3, 31))).all() == []
        # The row stays; the change is in the audit trail.
        assert db.session.get(Promise, promise_id) is not None
        entry = db.session.scalars(
            sa.select(AuditLog).where(
                AuditLog.table_name == "promises",
                AuditLog.row_id == str(promise_id),
                AuditLog.action == "update",
            )
        ).one()
        assert "Wrong debtor" in entry.changes


@pytest.mark.parametrize(
    ("actor", "reason", "message"),
    [
        ("sales1", "   ", "Say why"),
        ("fin1", "Wrong", "Only the person who recorded the promise or a supervisor"),
        ("sales2", "Wrong", "Only the person who recorded the promise or a supervisor"),
    ],
)
def test_refusals(app, world, actor, reason, message):
    promise_id = record(app, world)
    with app.test_request_context(), force_locale("en"):
        promise = db.session.get(Promise, promise_id)
        with pytest.raises(services.ActivityError, match=message):
            services.cancel_promise(
                promise, actor=db.session.get(User, world.users[actor]), reason=reason
            )
        db.session.rollback()
    assert not load(app, promise_id).cancelled


def test_a_supervisor_may_withdraw_anyones_promise_once(app, world):
    promise_id = record(app, world)
    with app.test_request_context(), force_locale("en"):
        promise = db.session.get(Promise, promise_id)
        supervisor = db.session.get(User, world.users["sup1"])
        services.cancel_promise(promise, actor=supervisor, reason="Duplicate of the call's")
        with pytest.raises(services.ActivityError, match="already withdrawn"):
            services.cancel_promise(promise, actor=supervisor, reason="again")
        db.session.rollback()


def promise_by_call(app, world, client, **fields) -> tuple[int, int]:
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        promise_amount="500",
        promise_due_on="2025-03-20",
        **fields,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        promise = db.session.scalars(sa.select(Promise).order_by(Promise.id.desc())).first()
        return promise.id, promise.activity_id


def interrupts(app, activity_id: int) -> bool:
    with app.app_context():
        return db.session.get(Activity, activity_id).interrupts_limitation


def test_a_call_whose_only_promise_is_withdrawn_no_longer_interrupts_limitation(app, world):
    client = sign_in(app, "sales1")
    promise_id, activity_id = promise_by_call(app, world, client)
    second = record(app, world)
    with app.app_context():
        db.session.get(Promise, second).activity_id = activity_id
        db.session.commit()
    assert interrupts(app, activity_id)
    assert cancel(client, promise_id).status_code == 302
    assert interrupts(app, activity_id)  # the second promise still stands
    assert cancel(client, second).status_code == 302
    assert not interrupts(app, activity_id)
    page = client.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert 'data-testid="interrupts">no' in page


def test_a_demand_that_arrived_keeps_interrupting(app, world):
    client = sign_in(app, "sales1")
    promise_id, activity_id = promise_by_call(
        app, world, client, kind="demand", proof_of_arrival="EMS 1234 signed", connected=False
    )
    assert cancel(client, promise_id).status_code == 302
    assert interrupts(app, activity_id)


# ---------------------------------------------------------------------------------------------
# The action and the pages


def test_who_may_post_the_action(app, world):
    first = record(app, world)
    # Another sales manager does not see the counterparty at all.
    assert cancel(sign_in(app, "sales2"), first).status_code == 404
    # Executives read but do not write.
    assert cancel(sign_in(app, "exec1"), first).status_code == 403
    # Finance sees every account but did not record it: refused, with the reason.
    response = cancel(sign_in(app, "fin1"), first)
    assert response.status_code == 403
    assert "Only the person who recorded the promise" in response.get_data(as_text=True)
    assert not load(app, first).cancelled
    # Reading is not withdrawing.
    assert sign_in(app, "sales1").get(f"/activities/promises/{first}/cancel").status_code == 405
    assert cancel(sign_in(app, "sup1"), first).status_code == 302
    assert load(app, first).cancelled
    assert cancel(sign_in(app, "sup1"), 999_999).status_code == 404


def test_a_missing_reason_re_shows_the_form(app, world):
    promise_id = record(app, world)
    client = sign_in(app, "sales1")
    response = cancel(client, promise_id, reason="")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'data-testid="cancel-promise-form"' in text and "is-invalid" in text
    assert not load(app, promise_id).cancelled
    response = cancel(client, promise_id, next="/activities/promises?status=withdrawn")
    assert response.status_code == 302
    assert response.headers["Location"] == "/activities/promises?status=withdrawn"
    # A second time: already withdrawn, said on the page.
    response = cancel(client, promise_id)
    assert response.status_code == 200
    assert "already withdrawn" in response.get_data(as_text=True)
    assert load(app, promise_id).cancel_reason == "Typed the wrong amount"


def test_the_promises_page_offers_it_and_lists_withdrawn_promises(app, world):
    promise_id = record(app, world)
    record(app, world, user="sales2", counterparty_id=world.cp2, amount="700")
    recorder = sign_in(app, "sales1")
    page = recorder.get("/activities/promises?as_of=2025-03-15").get_data(as_text=True)
    assert page.count('data-testid="withdraw-promise"') == 1
    assert f"/activities/promises/{promise_id}/cancel" in page
    # Finance sees both promises but recorded neither; a supervisor may withdraw both.
    page = sign_in(app, "fin1").get("/activities/promises?as_of=2025-03-15").get_data(as_text=True)
    assert page.count("data-promise=") == 2 and 'data-testid="withdraw-promise"' not in page
    page = sign_in(app, "sup1").get("/activities/promises?as_of=2025-03-15").get_data(as_text=True)
    assert page.count('data-testid="withdraw-promise"') == 2

    assert cancel(recorder, promise_id, reason="Wrong amount").status_code == 302
    page = recorder.get("/activities/promises?as_of=2025-03-15").get_data(as_text=True)
    assert "data-promise=" not in page  # sales1's only promise is gone from the statuses
    withdrawn = recorder.get("/activities/promises?as_of=2025-03-15&status=withdrawn")
    text = withdrawn.get_data(as_text=True)
    assert text.count("data-promise=") == 1 and 'data-status="withdrawn"' in text
    assert "Withdrawn: Wrong amount" in text and 'data-testid="withdraw-promise"' not in text
    # Another sales manager's withdrawn list is their own.
    other = sign_in(app, "sales2").get("/activities/promises?as_of=2025-03-15&status=withdrawn")
    assert "data-promise=" not in other.get_data(as_text=True)


def test_the_activity_page_offers_it_and_shows_the_reason(app, world):
    client = sign_in(app, "sales1")
    promise_id, activity_id = promise_by_call(app, world, client)
    page = client.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert 'data-testid="withdraw-promise"' in page
    assert f"/activities/promises/{promise_id}/cancel?next=/activities/{activity_id}" in page
    other = sign_in(app, "fin1").get(f"/activities/{activity_id}").get_data(as_text=True)
    assert 'data-testid="withdraw-promise"' not in other
    response = cancel(client, promise_id, reason="The debtor said 5,000, not 500")
    assert response.headers["Location"] == f"/activities/{activity_id}"
    page = client.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert "The debtor said 5,000, not 500" in page
    assert 'data-testid="withdraw-promise"' not in page
