"""Idempotency keys expire after ``api.idempotency_hours``: a replay after that is a new
request, and ``flask api purge-keys`` removes the expired answers."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from recovery.api.idempotency import purge_expired
from recovery.api.models import IdempotencyKey
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.settings.services import update_settings
from tests.api.conftest import bearer
from tests.api.test_api import TODAY, _count, _receipt, assert_envelope


def _age(app, key: str, hours: float) -> None:
    """Make the stored answer for ``key`` ``hours`` old."""
    with app.app_context():
        db.session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
        db.session.commit()


def _keys(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (row.key, row.response_body)
            for row in db.session.scalars(sa.select(IdempotencyKey).order_by(IdempotencyKey.id))
        ]


def test_a_replay_after_expiry_is_a_new_request(app, client, token_for, ledger):
    from recovery.ledger.models import Receipt

    h = {**bearer(token_for("fin", "finance")), "Idempotency-Key": "k-old"}
    first = client.post("/api/v1/receipts", json=_receipt("R-1"), headers=h)
    assert first.status_code == 201
    _age(app, "k-old", 23.5)  # within the default 24 hours: the first answer
    again = client.post("/api/v1/receipts", json=_receipt("R-1"), headers=h)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    _age(app, "k-old", 24.5)  # expired: the key is forgotten
    # The same request again is a new request: the ledger refuses the receipt number twice,
    # and the expired answer is not given back (nor removed: the refusal wrote nothing).
    repeated = client.post("/api/v1/receipts", json=_receipt("R-1"), headers=h)
    assert_envelope(repeated, 422)
    assert "Idempotent-Replayed" not in repeated.headers
    assert len(_keys(app)) == 1
    # A different request with the expired key is no "key reused": it is written, and its
    # answer replaces the expired one.
    other = client.post("/api/v1/receipts", json=_receipt("R-2"), headers=h)
    assert other.status_code == 201
    assert _count(app, Receipt) == 2
    (stored,) = _keys(app)
    assert stored[0] == "k-old" and '"R-2"' in stored[1]
    replay = client.post("/api/v1/receipts", json=_receipt("R-2"), headers=h)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == other.get_json()
    assert _count(app, Receipt) == 2


def test_the_hours_are_a_setting(app, client, token_for, ledger):
    with app.app_context():
        update_settings({"api.idempotency_hours": "48"})
        db.session.commit()
    h = {**bearer(token_for("fin", "finance")), "Idempotency-Key": "k-48"}
    assert client.post("/api/v1/receipts", json=_receipt("R-1"), headers=h).status_code == 201
    _age(app, "k-48", 30)
    again = client.post("/api/v1/receipts", json=_receipt("R-1"), headers=h)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


def test_purge_removes_only_the_expired_keys(app, client, token_for, ledger):
    h = bearer(token_for("fin", "finance"))
    for n, hours in enumerate((1, 23, 25, 24 * 30)):
        key = f"k-{hours}"
        body = {**_receipt(f"R-{n}"), "received_on": TODAY}
        response = client.post("/api/v1/receipts", json=body, headers={**h, "Idempotency-Key": key})
        assert response.status_code == 201
        _age(app, key, hours)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["api", "purge-keys", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 2 idempotency keys older than 24 hours" in dry.output
    assert len(_keys(app)) == 4
    done = runner.invoke(args=["api", "purge-keys"])
    assert done.exit_code == 0, done.output
    assert "removed 2 idempotency keys" in done.output
    assert [key for key, _ in _keys(app)] == ["k-1", "k-23"]
    with app.app_context():
        assert purge_expired() == 0
        assert purge_expired(utcnow() + timedelta(hours=24)) == 2  # their turn comes
        db.session.rollback()
