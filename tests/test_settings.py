"""Business settings: typed, validated, edited by admin, audited (issue #2, point 2)."""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.audit.models import AuditLog
from recovery.extensions import db
from recovery.settings.registry import SPECS, SPECS_BY_KEY, SettingValueError, parse
from recovery.settings.services import get_setting


def test_every_default_parses():
    for spec in SPECS:
        parse(spec, spec.default)


def test_defaults_are_typed(app):
    with app.app_context():
        assert get_setting("conduct.max_calls_per_day") == 3
        assert get_setting("conduct.contact_from") == time(8, 0)
        assert get_setting("interest.default_annual_rate") == Decimal("4.65")
        assert get_setting("provision.rates") == [Decimal(v) for v in (5, 10, 15, 30, 50, 100)]
        assert get_setting("cases.leader_amount") == Decimal("1000000.00")


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("conduct.max_calls_per_day", "3.5"),
        ("conduct.max_calls_per_day", "0"),
        ("conduct.contact_from", "25:00"),
        ("interest.default_annual_rate", "abc"),
        ("interest.default_annual_rate", "NaN"),
        ("interest.day_count", "actual/364"),
        ("provision.rates", "5,10,15"),
        ("provision.rates", "5,10,15,30,50,101"),
        ("cases.leader_amount", "100.001"),
        ("limitation.warning_days", "180,,30"),
    ],
)
def test_bad_values_are_refused(key, text):
    with pytest.raises(SettingValueError):
        parse(SPECS_BY_KEY[key], text)


def _form(**changes):
    from recovery.settings.services import all_texts

    values = all_texts()
    values.update(changes)
    return values


def test_admin_edits_settings_and_the_change_is_audited(app, client, login_as):
    login_as("admin")
    with app.app_context():
        data = _form(**{"conduct.max_calls_per_day": "2", "interest.day_count": "actual/360"})
    response = client.post("/admin/settings/", data=data)
    assert response.status_code == 302
    with app.app_context():
        assert get_setting("conduct.max_calls_per_day") == 2
        assert get_setting("interest.day_count") == "actual/360"
        rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.table_name == "settings")
        ).all()
        assert {r.row_id for r in rows} == {"conduct.max_calls_per_day", "interest.day_count"}


def test_invalid_settings_are_reshown_and_nothing_is_saved(app, client, login_as):
    login_as("admin")
    with app.app_context():
        data = _form(**{"conduct.max_calls_per_day": "2", "conduct.contact_until": "late evening"})
    response = client.post("/admin/settings/", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="late evening"' in page
    assert "is-invalid" in page
    with app.app_context():
        assert get_setting("conduct.max_calls_per_day") == 3
        assert json.dumps(get_setting("conduct.contact_until").isoformat()) == '"22:00:00"'
