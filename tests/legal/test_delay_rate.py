"""The daily rate of the doubled interest for delayed performance is a setting (issue 5,
point 3): 0.0175 % a day by default (法释〔2014〕8号 art. 1), read when the figure is computed,
shown on the lawsuit's page, and refused on the settings page when negative or absurd."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale

from recovery.legal import judgment, services
from recovery.legal.models import Lawsuit
from recovery.settings.registry import SPECS_BY_KEY, SettingValueError, parse
from recovery.settings.services import all_texts, get_setting, update_settings

D = date
KEY = "legal.delay_rate_per_day"
AS_OF = D(2025, 7, 15)  # 30 days after the performance deadline of 2025-06-15


def judged(world) -> Lawsuit:
    suit = world.lawsuit()
    legal = world.user("legal")
    services.record_judgment(
        suit,
        version=suit.version,
        actor=legal,
        today=world.today,
        kind="judgment",
        judgment_on=D(2025, 5, 20),
        awarded_principal=Decimal("100000.00"),
        awarded_interest=Decimal("470.00"),
        awarded_costs=Decimal("2300.00"),
        effective_on=D(2025, 6, 5),
        performance_deadline=D(2025, 6, 15),
        post_judgment_rate=Decimal("3.65"),
        interest_runs_from=D(2025, 6, 16),
    )
    return suit


def test_the_default_rate_is_the_supreme_courts(world):
    assert get_setting(KEY) == Decimal("0.0175")
    assert judgment.delay_rate_per_day() == Decimal("0.0175")
    position = judgment.position(judged(world), AS_OF)
    # 100,000.00 × 0.0175 % × 30 days = 525.00; ordinary 3.65 %/365 × 30 days = 300.00
    assert position.delay_rate == Decimal("0.0175")
    assert position.delay_interest == Decimal("525.00")
    assert position.delayed_performance_interest == Decimal("825.00")


def test_a_changed_rate_applies_to_every_computation_from_then_on(world):
    suit = judged(world)
    assert judgment.position(suit, AS_OF).delay_interest == Decimal("525.00")
    assert update_settings({KEY: "0.05"}) == [KEY]
    position = judgment.position(suit, AS_OF)
    # 100,000.00 × 0.05 % × 30 days = 1,500.00 — the days before the change included.
    assert position.delay_rate == Decimal("0.05")
    assert position.delay_interest == Decimal("1500.00")
    assert position.delayed_performance_interest == Decimal("1800.00")
    # 100,000.00 + 470.00 + 2,300.00 awarded + 1,800.00
    assert position.total_due == Decimal("104570.00")
    # The pure function takes the rate it is given: 100,000.00 × 0.0001 % × 30 = 3.00.
    assert judgment.delay_interest(
        Decimal("100000.00"), [], D(2025, 6, 15), AS_OF, Decimal("0.0001")
    ) == Decimal("3.00")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-0.0175", "at least"),
        ("0", "at least"),
        ("0.5", "at most"),
        ("1.75", "at most"),
        ("0.00175", "four decimal places"),
        ("abc", "number"),
        ("", "required"),
    ],
)
def test_negative_or_absurd_rates_are_refused(app, text, reason):
    with app.app_context(), force_locale("en"):
        with pytest.raises(SettingValueError, match=reason):
            parse(SPECS_BY_KEY[KEY], text)
        assert parse(SPECS_BY_KEY[KEY], "0.1") == Decimal("0.1")


def test_the_settings_page_refuses_a_bad_rate_with_the_reason(screen_world, sign_in):
    world = screen_world
    admin = sign_in("admin")
    with world.db():
        values = all_texts()
    for typed, reason in (("-0.01", "Must be at least 0.0001."), ("2", "Must be at most 0.1.")):
        response = admin.post("/admin/settings/", data={**values, KEY: typed})
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 422
        assert f'name="{KEY}" value="{typed}"' in page
        assert reason in page
        assert "法释〔2014〕8号" in page  # the help text cites the interpretation
    with world.db():
        assert get_setting(KEY) == Decimal("0.0175")
    assert admin.post("/admin/settings/", data={**values, KEY: "0.05"}).status_code == 302
    with world.db():
        assert get_setting(KEY) == Decimal("0.05")


def test_the_lawsuit_page_shows_the_rate_used(screen_world, sign_in):
    world = screen_world
    with world.db():
        lawsuit_id = judged(world).id
    legal = sign_in("legal")
    url = f"/legal/lawsuits/{lawsuit_id}?as_of=2025-07-15"
    page = html.unescape(legal.get(url).get_data(as_text=True))
    assert "0.0175 % a day on the unpaid principal, 30 days after 2025-06-15" in page
    assert 'data-testid="delay-interest">525.00<' in page
    with world.db():
        update_settings({KEY: "0.05"})
    page = html.unescape(legal.get(url).get_data(as_text=True))
    assert "0.05 % a day on the unpaid principal, 30 days after 2025-06-15" in page
    assert 'data-testid="delay-interest">1,500.00<' in page
    assert 'data-testid="delayed-performance-interest">1,800.00<' in page
