"""The dashboard's credit holds (as of today: the stored statuses, the credit holds page's
figures; as of another date: estimated from the hold rules) and the cache of the computed
dashboard (docs/kpis.md, "Credit holds" and "Cache")."""

from __future__ import annotations

import dataclasses
import pickle
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from recovery import create_app
from recovery.credit import queries as credit_queries
from recovery.credit import services as credit_services
from recovery.dashboard import cache, kpis, queries, rules
from recovery.dashboard.models import KeptView
from recovery.dashboard.routes import departments as all_departments
from recovery.extensions import db
from recovery.ledger.routes import company_today
from recovery.settings.services import update_settings
from tests.conftest import base_config, login
from tests.dashboard.example import MARCH as MARCH_DATES
from tests.dashboard.example import departments
from tests.dashboard.test_routes import MARCH, text_of
from tests.ledger.conftest import LedgerBuilder


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def credit_page_totals(page: str) -> tuple[int, Decimal, Decimal]:
    """(count, exposure, overdue) from the credit holds page's sentence."""
    sentence = text_of(page, "hold-totals")
    count, exposure, overdue = re.findall(r"\d[\d,]*(?:\.\d\d)?", sentence)
    return int(count), amount(exposure), amount(overdue)


@pytest.fixture
def held(app):
    """Counterparties as of today: LATE overdue 100.00 (held by the estimate, not by the
    stored rules once credit.overdue_amount is 1,000), VERYLATE overdue 2,000.00 (held both
    ways), BIG 800.00 not yet due above its 500.00 limit (held both ways), FINE (not held);
    LATE and BIG in 营销一部, the others in 营销二部."""
    with app.app_context():
        build = LedgerBuilder()
        _company, one, two = departments()
        today = company_today()
        late = build.counterparty("LATE", department_id=one.id)
        very = build.counterparty("VERYLATE", department_id=two.id)
        big = build.counterparty("BIG", department_id=one.id, credit_limit=Decimal("500.00"))
        fine = build.counterparty("FINE", department_id=two.id, credit_limit=Decimal("5000.00"))
        past, later = today - timedelta(days=60), today + timedelta(days=30)
        build.item(late, "100.00", past, today - timedelta(days=10), department_id=one.id)
        build.item(very, "2000.00", past, today - timedelta(days=20), department_id=two.id)
        build.item(very, "300.00", past, later, department_id=two.id)
        build.item(big, "800.00", today - timedelta(days=5), later, department_id=one.id)
        build.item(fine, "800.00", today - timedelta(days=5), later, department_id=two.id)
        db.session.commit()
        update_settings({"credit.overdue_amount": "1000.00"})
        credit_services.reevaluate_all()
        db.session.commit()
        return {"today": today, "one": one.id, "two": two.id}


def test_holds_as_of_today_are_the_credit_holds_pages(client, login_as, app, held):
    login_as("executive")
    board = client.get("/dashboard/").get_data(as_text=True)  # as of today
    credit = client.get("/credit/").get_data(as_text=True)
    count, exposure, overdue = credit_page_totals(credit)
    assert (count, exposure, overdue) == (2, Decimal("3100.00"), Decimal("2000.00"))
    assert int(text_of(board, "holds-count")) == count
    assert amount(text_of(board, "holds-overdue")) == overdue
    assert "credit holds page" in text_of(board, "holds-basis")
    # Its drill-down lists them, with the rules that hold them; its totals are the figure.
    listed = client.get("/dashboard/holds").get_data(as_text=True)
    assert amount(text_of(listed, "list-total-amount")) == overdue
    assert amount(text_of(listed, "list-total-exposure")) == exposure
    assert listed.count('data-testid="list-row"') == count
    assert 'data-rule="exposure_limit"' in listed and 'data-rule="overdue_amount"' in listed
    assert ">LATE</a>" not in listed  # overdue 100.00: below the setting's 1,000.00
    # The rows behind the list add up to the figure.
    with app.app_context():
        rows = credit_queries.dashboard_hold_page(held["today"], queries.COMPANY, 1).items
        assert len(rows) == count
        assert sum(r.overdue for r in rows) == overdue and sum(r.exposure for r in rows) == exposure


def test_one_departments_holds_today(client, login_as, held):
    login_as("executive")
    for department, expected in ((held["one"], (1, "0.00")), (held["two"], (1, "2,000.00"))):
        board = client.get(f"/dashboard/?department_id={department}").get_data(as_text=True)
        credit = client.get(f"/credit/?department_id={department}").get_data(as_text=True)
        count, _exposure, overdue = credit_page_totals(credit)
        assert (int(text_of(board, "holds-count")), text_of(board, "holds-overdue")) == expected
        assert (count, overdue) == (expected[0], amount(expected[1]))
        listed = client.get(f"/dashboard/holds?department_id={department}")
        assert text_of(listed.get_data(as_text=True), "list-total-amount") == expected[1]


def test_the_figure_follows_a_payment_at_once_in_the_drill_down(client, login_as, app, held):
    """The list is live; the figure is the cached one until refreshed, then they agree."""
    login_as("executive")
    client.get("/dashboard/")
    with app.app_context():
        very = credit_services.find_counterparty("VERYLATE")
        LedgerBuilder().receipt(very, "2000.00", held["today"])
        db.session.commit()
    listed = client.get("/dashboard/holds").get_data(as_text=True)
    assert text_of(listed, "list-total-amount") == "0.00"
    board = client.get("/dashboard/?refresh=1").get_data(as_text=True)
    assert (text_of(board, "holds-count"), text_of(board, "holds-overdue")) == ("1", "0.00")


def test_a_past_date_is_estimated_and_says_so(client, login_as, held):
    login_as("executive")
    yesterday = (held["today"] - timedelta(days=1)).isoformat()
    board = client.get(f"/dashboard/?as_of={yesterday}").get_data(as_text=True)
    # DOMAIN §4 as of that date: any overdue debt or exposure above the limit (LATE too).
    assert (text_of(board, "holds-count"), text_of(board, "holds-overdue")) == ("3", "2,100.00")
    assert "Estimated from the hold rules as of that date" in text_of(board, "holds-basis")
    listed = client.get(f"/dashboard/holds?as_of={yesterday}").get_data(as_text=True)
    assert text_of(listed, "list-total-amount") == "2,100.00"
    assert listed.count('data-testid="list-row"') == 3
    assert "Estimated from the hold rules as of that date" in text_of(listed, "holds-basis")


def test_the_worked_example_in_the_past_keeps_its_estimate(app, example):
    """DOMAIN §4 as of 2026-03-31 (tests/dashboard/example.py): A holds 70,000.00 overdue of
    100,000.00 owed; B paid everything. Today is later: the estimate, not stored statuses."""
    with app.app_context():
        date_from, as_of = MARCH_DATES
        board = kpis.dashboard(as_of, date_from=date_from, today=as_of + timedelta(days=1))
        assert board.holds == queries.Holds(1, Decimal("70000.00"), Decimal("100000.00"))
        assert not board.holds.stored


# ---------------------------------------------------------------------------------------------
# The computed dashboard, kept for every worker (recovery/dashboard/cache.py)

TTL = 60  # dashboard.cache_seconds' default


@pytest.fixture
def computed(monkeypatch):
    """The views computed (as_of, date_from, scope), in order: kpis.dashboard counted."""
    calls = []
    real = kpis.dashboard

    def counting(as_of, **kwargs):
        calls.append((as_of, kwargs["date_from"], kwargs["department_id"]))
        return real(as_of, **kwargs)

    monkeypatch.setattr(kpis, "dashboard", counting)
    return calls


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock (naive UTC), moved by hand: ``clock.move(seconds)``."""

    class Clock:
        now = datetime(2026, 4, 1, 9, 0, 0)

        def move(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    moved = Clock()
    monkeypatch.setattr(cache, "wall_clock", lambda: moved.now)
    return moved


def set_cache_seconds(app, value: str) -> None:
    with app.app_context():
        update_settings({"dashboard.cache_seconds": value})
        db.session.commit()


def kept_rows(app) -> list:
    with app.app_context():
        return db.session.execute(sa.select(KeptView.key, KeptView.computed_at)).all()


def visit(client, view: str = MARCH) -> str:
    response = client.get(f"/dashboard/?{view}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def computed_time(page: str) -> str:
    return re.search(r"Figures computed at (\d\d:\d\d:\d\d)", page).group(1)


def test_a_second_visit_within_the_time_to_live_is_not_recomputed(
    client, login_as, example, computed, clock
):
    login_as("executive")
    first = visit(client)
    clock.move(TTL - 1)
    second = visit(client)
    assert len(computed) == 1
    assert text_of(second, "figure-receivables-link") == "100,000.00"
    shown = text_of(first, "computed-at")
    assert re.search(r"Figures computed at \d\d:\d\d:\d\d", shown)
    assert text_of(second, "computed-at") == shown  # the same computation
    assert 'data-testid="refreshing"' not in second
    # Another executive, another user: the same entry (nothing of the user in it).
    client.post("/logout")
    login_as("finance")
    visit(client)
    assert len(computed) == 1


def test_older_figures_are_shown_while_one_recomputation_runs_in_the_background(
    client, login_as, example, computed, clock
):
    login_as("executive")
    first = visit(client)
    clock.move(TTL + 1)
    stale = visit(client)  # the kept figures, at once, saying newer ones are coming
    assert computed_time(stale) == computed_time(first)
    assert "newer figures are being computed" in text_of(stale, "refreshing")
    cache.wait_for_refreshes()
    assert len(computed) == 2  # computed once more, in the background
    fresh = visit(client)
    assert 'data-testid="refreshing"' not in fresh
    assert len(computed) == 2
    kept = kept_rows(client.application)
    assert (
        len(kept) == 1 and kept[0].computed_at == clock.now
    )  # the background's computation is kept


def test_only_one_worker_takes_a_recomputation(app, clock):
    name = cache.key_name(("a view",))
    with app.app_context():
        cache.store(app, name, "figures", clock.now, TTL)
        assert cache._claim(name) is True
        assert cache._claim(name) is False  # another worker: already taken
        clock.move(cache.CLAIM_LEASE.total_seconds() + 1)
        assert cache._claim(name) is True  # the first one's server stopped: taken over
        cache.store(app, name, "newer", clock.now, TTL)  # a stored result frees it
        assert cache._claim(name) is True


def test_one_view_is_recomputed_at_a_time(app, clock):
    """Views that went stale together are recomputed one after another: while one is
    claimed (and its claim holds), no other is; its stored result frees the next."""
    first, second = cache.key_name(("a view",)), cache.key_name(("another view",))
    with app.app_context():
        cache.store(app, first, "figures", clock.now, TTL)
        cache.store(app, second, "figures", clock.now, TTL)
        assert cache._claim(first) is True
        assert cache._claim(second) is False  # the first is being recomputed
        cache.store(app, first, "newer", clock.now, TTL)
        assert cache._claim(second) is True
        assert cache._claim(first) is False
        clock.move(cache.CLAIM_LEASE.total_seconds() + 1)  # the second's server stopped
        assert cache._claim(first) is True


def test_a_view_waiting_for_another_ones_recomputation_does_not_say_it_is_being_computed(
    app, clock
):
    first, second = ("a view",), ("another view",)
    calls = []

    def compute():
        calls.append(1)
        return "newer"

    with app.app_context():
        for key in (first, second):
            cache.store(app, cache.key_name(key), "figures", clock.now, TTL)
        clock.move(TTL + 1)
        assert cache._claim(cache.key_name(first)) is True  # another worker is on it
        waiting = cache.get(second, compute, TTL)
        assert (waiting.value, waiting.refreshing) == ("figures", False)
        assert cache.get(first, compute, TTL).refreshing is True  # the other's claim holds
        assert calls == []
        cache.store(app, cache.key_name(first), "newer", clock.now, TTL)
        taken = cache.get(second, compute, TTL)
        cache.wait_for_refreshes()
        assert (taken.value, taken.refreshing, calls) == ("figures", True, [1])


def test_a_failed_recomputation_keeps_the_figures_and_frees_the_view(
    client, login_as, example, computed, clock, monkeypatch
):
    login_as("executive")
    first = visit(client)
    clock.move(TTL + 1)

    def broken(as_of, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(kpis, "dashboard", broken)
    visit(client)
    cache.wait_for_refreshes()
    with client.application.app_context():  # freed: a later visit may try again
        assert db.session.scalar(sa.select(KeptView.refreshing_since)) is None
    again = visit(client)  # still the first figures, and a new attempt
    assert computed_time(again) == computed_time(first)
    assert 'data-testid="refreshing"' in again
    cache.wait_for_refreshes()


def test_figures_too_old_to_show_are_computed_in_the_request(
    client, login_as, example, computed, clock
):
    login_as("executive")
    visit(client)
    clock.move(TTL * cache.STALE_FACTOR)
    page = visit(client)
    assert len(computed) == 2
    assert 'data-testid="refreshing"' not in page


def test_refresh_recomputes(client, login_as, example, computed, clock):
    login_as("executive")
    page = visit(client)
    link = re.search(r'<a href="([^"]+)" data-testid="refresh"', page).group(1)
    assert "refresh=1" in link and "as_of=2026-03-31" in link
    client.get(link.replace("&amp;", "&"))
    assert len(computed) == 2
    visit(client)  # the refreshed entry is kept
    assert len(computed) == 2


def test_zero_seconds_means_no_cache(client, login_as, example, computed, app):
    set_cache_seconds(app, "0")
    login_as("executive")
    for _ in range(3):
        visit(client)
    assert len(computed) == 3
    assert kept_rows(app) == []


def test_each_date_period_and_scope_is_its_own_entry(
    client, login_as, example, computed, clock, app
):
    login_as("executive")
    views = (
        MARCH,
        "as_of=2026-03-31&from=2026-02-01",
        "as_of=2026-03-30&from=2026-03-01",
        f"{MARCH}&department_id={example['one']}",
        f"{MARCH}&department_id={example['company']}",
        f"{MARCH}&department_id={example['company']}&exact=1",  # its own items only
        f"{MARCH}&department_id={example['two']}",
    )
    pages = {view: visit(client, view) for view in views}
    assert len(computed) == len(views) == len(kept_rows(app))
    for view in views:  # all kept: none computed again, each shows its own figures
        again = visit(client, view)
        for testid in ("computed-at", "figure-receivables-link", "figure-recovered-link"):
            assert text_of(again, testid) == text_of(pages[view], testid), (view, testid)
    assert len(computed) == len(views)
    recovered = {v: text_of(p, "figure-recovered-link") for v, p in pages.items()}
    assert recovered[MARCH] == "50,000.00"
    assert recovered[f"{MARCH}&department_id={example['one']}"] == "35,000.00"
    assert recovered[f"{MARCH}&department_id={example['two']}"] == "15,000.00"


def test_every_worker_reads_what_one_computed(client, login_as, example, computed, app, tmp_path):
    """A second application on the same database (another gunicorn worker, another
    server) shows the figures the first computed, without computing them."""
    login_as("executive")
    first = visit(client)
    other = create_app(base_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]))
    other_client = other.test_client()
    assert login(other_client, "u-executive").status_code == 302
    with other_client.session_transaction() as session:
        session["lang"] = "en"
    second = visit(other_client)
    assert len(computed) == 1
    assert text_of(second, "computed-at") == text_of(first, "computed-at")
    with other.app_context():
        db.engine.dispose()


def test_a_row_this_application_did_not_sign_is_not_read(client, login_as, example, computed, app):
    login_as("executive")
    visit(client)
    forged = pickle.dumps("anything")
    with app.app_context():
        db.session.execute(sa.update(KeptView).values(payload=b"\0" * 32 + forged))
        db.session.commit()
    page = visit(client)
    assert len(computed) == 2  # computed again, and the forged row replaced
    assert text_of(page, "figure-receivables-link") == "100,000.00"


@dataclasses.dataclass(frozen=True)
class Figures:
    receivables: Decimal
    overdue: Decimal


def test_figures_written_by_other_code_are_not_used(app, clock):
    """A row written before a field was added (a deploy) is treated as missing."""
    with app.app_context():
        name = cache.key_name(("figures",))
        cache.store(app, name, [Figures(Decimal("1.00"), Decimal("2.00"))], clock.now, TTL)
        assert cache.get(("figures",), lambda: "computed", TTL).value == [
            Figures(Decimal("1.00"), Decimal("2.00"))
        ]
        older = Figures(Decimal("1.00"), Decimal("2.00"))
        object.__delattr__(older, "overdue")  # as unpickled from a version without the field
        cache.store(app, name, {"top": [older]}, clock.now, TTL)
        assert cache.get(("figures",), lambda: "computed", TTL).value == "computed"
        # A field the code no longer has is harmless (nothing reads it): the row is used.
        later = Figures(Decimal("1.00"), Decimal("2.00"))
        object.__setattr__(later, "removed_since", Decimal("3.00"))
        cache.store(app, name, [later], clock.now + timedelta(seconds=1), TTL)
        assert cache.get(("figures",), lambda: "computed", TTL).value == [later]


def test_an_older_computation_does_not_replace_a_newer_one_and_old_rows_go(app, clock):
    with app.app_context():
        name = cache.key_name(("a view",))
        cache.store(app, name, "newer", clock.now, TTL)
        cache.store(app, name, "older", clock.now - timedelta(seconds=5), TTL)
        assert cache.get(("a view",), lambda: "computed", TTL).value == "newer"
        clock.move(TTL * cache.STALE_FACTOR + 1)
        cache.store(app, cache.key_name(("another",)), "x", clock.now, TTL)
        assert [row.key for row in kept_rows(app)] == [cache.key_name(("another",))]


def test_the_role_check_runs_before_the_cache(client, login_as, example, computed):
    login_as("executive")
    visit(client)
    client.post("/logout")
    assert client.get(f"/dashboard/?{MARCH}").status_code == 302  # to sign in
    login_as("sales")
    assert client.get(f"/dashboard/?{MARCH}").status_code == 403
    assert len(computed) == 1


def test_kept_figures_are_shown_in_the_viewers_language(client, login_as, app):
    with app.app_context():
        departments()
        db.session.commit()
    login_as("executive")
    english = visit(client)
    assert "No sales were recognised" in text_of(english, "figure-dso-reason")
    with client.session_transaction() as session:
        session["lang"] = "zh_CN"
    chinese = visit(client)
    with app.test_request_context(), force_locale("zh_CN"):
        expected = str(kpis.REASONS["dso"])
    assert text_of(chinese, "figure-dso-reason") == expected


def test_warm_computes_the_usual_views_and_visits_then_read_them(
    client, login_as, example, computed, runner, app
):
    result = runner.invoke(args=["dashboard", "warm"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        today = company_today()
        count = len(all_departments())
    assert len(computed) == 2 + count
    assert f"{2 + count} views computed and kept." in result.stderr
    assert {(as_of, scope) for as_of, _, scope in computed} >= {
        (today, queries.COMPANY),
        (rules.previous_month_end(today), queries.COMPANY),
    }
    login_as("executive")
    visit(client, "")  # as of today
    visit(client, f"as_of={rules.previous_month_end(today).isoformat()}")
    visit(client, f"department_id={example['one']}")
    assert len(computed) == 2 + count
