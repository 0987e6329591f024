"""Holds stored and re-evaluated on every change, through the session listener."""

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.activities.models import Promise
from recovery.credit import queries, services
from recovery.credit.models import CreditStatus
from recovery.extensions import db
from recovery.settings.services import update_settings


def test_overdue_trips_and_paying_releases_at_once(world):
    cp = world.counterparty()
    world.overdue_item(cp, "1000.00", days=95)
    status = world.status(cp)
    assert status.on_hold
    assert world.rules_of(cp) == {"overdue_days", "overdue_amount"}
    reasons = {r["rule"]: r for r in status.reasons}
    assert reasons["overdue_days"]["value"] == 95 and reasons["overdue_days"]["limit"] == 90
    assert status.since is not None and status.exposure == Decimal("1000.00")
    world.pay(cp, "1000.00")
    status = world.status(cp)
    assert not status.on_hold and status.reasons == [] and status.since is None


def test_an_item_not_yet_due_is_no_hold_and_since_is_kept(world):
    cp = world.counterparty()
    world.overdue_item(cp, "500.00", days=-10)
    assert not world.status(cp).on_hold
    world.overdue_item(cp, "100.00", days=5)
    first = world.status(cp).since
    assert world.rules_of(cp) == {"overdue_amount"}
    world.overdue_item(cp, "100.00", days=100)
    status = world.status(cp)
    assert status.since == first and world.rules_of(cp) == {"overdue_amount", "overdue_days"}


def test_exposure_above_limit_and_limit_change(world):
    cp = world.counterparty(credit_limit=Decimal("1000000.00"))
    world.overdue_item(cp, "1200000.00", days=-20)
    assert world.rules_of(cp) == {"exposure_limit"}
    reason = world.status(cp).reasons[0]
    assert (reason["value"], reason["limit"]) == (1_200_000_00, 1_000_000_00)
    cp = db.session.get(type(cp), cp.id)
    cp.credit_limit = Decimal("2000000.00")
    db.session.commit()
    assert not world.status(cp).on_hold


def test_settings_change_reevaluates_everybody_by_the_job(world):
    a, b = world.counterparty(), world.counterparty()
    world.overdue_item(a, "100.00", days=10)
    world.overdue_item(b, "100000.00", days=10)
    assert world.status(a).on_hold and world.status(b).on_hold

    def change(values):
        update_settings(values)
        db.session.commit()
        assert services.rules_pending() is not None
        assert services.reevaluate_all_now().status == "done"  # the job, run here
        assert services.rules_pending() is None

    change({"credit.overdue_amount": "5000"})
    assert not world.status(a).on_hold
    assert world.rules_of(b) == {"overdue_amount"}
    change({"credit.overdue_amount_rule": "off"})
    assert not world.status(b).on_hold
    change({"credit.overdue_days": "5"})
    assert world.rules_of(a) == {"overdue_days"} and world.rules_of(b) == {"overdue_days"}


def test_group_limit_holds_every_member(world):
    parent, child, other = world.counterparty(), world.counterparty(), world.counterparty()
    group = services.save_group(None, code="G1", name="集团", credit_limit=Decimal("1000.00"))
    services.add_member(group, parent, is_parent=True)
    services.add_member(group, child.code)
    db.session.commit()
    world.overdue_item(parent, "600.00", days=-5)
    assert not world.status(parent).on_hold
    world.overdue_item(child, "600.00", days=-5)
    assert world.rules_of(parent) == {"group_limit"} and world.rules_of(child) == {"group_limit"}
    assert world.status(parent).reasons[0]["group"] == "G1"
    assert world.status(other) is None
    # The child pays: the whole group is released.
    world.pay(child, "300.00")
    assert not world.status(parent).on_hold and not world.status(child).on_hold
    # Raising the exposure again and then leaving the group releases the one left alone.
    world.overdue_item(child, "600.00", days=-5)
    assert world.status(parent).on_hold
    member = group.members[1]
    services.remove_member(member)
    db.session.commit()
    assert not world.status(parent).on_hold and not world.status(child).on_hold


def test_broken_promise_holds_until_made_good_or_out_of_window(world):
    update_settings({"credit.overdue_amount_rule": "off", "credit.overdue_days_rule": "off"})
    db.session.commit()
    cp = world.counterparty()
    world.overdue_item(cp, "1000.00", days=20)
    promise = Promise(
        counterparty_id=cp.id,
        amount=Decimal("500.00"),
        promised_on=world.today - timedelta(days=15),
        due_on=world.today - timedelta(days=5),
        recorded_by_id=world.user_ids["sales"],
    )
    db.session.add(promise)
    db.session.commit()
    assert world.rules_of(cp) == {"broken_promise"}
    assert world.status(cp).stale_on == world.today + timedelta(days=86)
    world.pay(cp, "500.00")  # made good, late
    assert not world.status(cp).on_hold


def test_reevaluate_all_equals_reevaluate_one_by_one(world):
    cps = [world.counterparty(credit_limit=Decimal("150.00")) for _ in range(4)]
    for n, cp in enumerate(cps):
        world.overdue_item(cp, f"{100 * (n + 1)}.00", days=30 * n - 10)
    one_by_one = {cp.id: (world.status(cp).on_hold, world.rules_of(cp)) for cp in cps}
    db.session.execute(sa.delete(CreditStatus))
    services.reevaluate_all()
    db.session.commit()
    assert {cp.id: (world.status(cp).on_hold, world.rules_of(cp)) for cp in cps} == one_by_one
    assert queries.hold_totals()[0] == sum(1 for held, _ in one_by_one.values() if held)


def test_refresh_stale_follows_the_calendar(world):
    update_settings({"credit.overdue_amount_rule": "off"})
    db.session.commit()
    cp = world.counterparty()
    world.overdue_item(cp, "100.00", days=80)
    status = world.status(cp)
    assert not status.on_hold and status.stale_on == world.today + timedelta(days=11)
    assert services.refresh_stale(world.today) == 0
    assert services.refresh_stale(world.today + timedelta(days=11)) == 1
    db.session.commit()
    assert world.rules_of(cp) == {"overdue_days"}


def test_imports_call_reevaluate(world, tmp_path):
    from recovery.imports.services import import_file

    cp = world.counterparty()
    due = (world.today - timedelta(days=100)).isoformat()
    path = tmp_path / "items.csv"
    path.write_text(
        "document_no,counterparty_code,item_type,amount,recognized_on,due_on\n"
        f"IMP-1,{cp.code},goods,100.00,{due},{due}\n",
        encoding="utf-8",
    )
    result = import_file("items", path)
    assert result.ok, result.issues
    assert world.rules_of(cp) == {"overdue_days", "overdue_amount"}


def test_open_lawsuit_holds_until_closed(world):
    from recovery.cases import services as cases
    from recovery.legal.models import Lawsuit, Referral

    update_settings({"credit.overdue_amount_rule": "off", "credit.overdue_days_rule": "off"})
    db.session.commit()
    cp = world.counterparty()
    world.overdue_item(cp, "1000.00", days=200)
    assert not world.status(cp).on_hold
    case = cases.open_case(cp, actor=world.user("supervisor"), today=world.today)
    referral = Referral(
        number="R-1",
        case=case,
        counterparty_id=cp.id,
        claim_type="sale_of_goods",
        status="accepted",
        claim_as_of=world.today,
        created_by_id=world.user_ids["sales"],
    )
    lawsuit = Lawsuit(
        referral=referral,
        case=case,
        counterparty_id=cp.id,
        court="北京市朝阳区人民法院",
        case_number="(2026)京0105民初1号",
        filed_on=world.today,
        claimed_principal=Decimal("1000.00"),
        claimed_interest=Decimal("0.00"),
        created_by_id=world.user_ids["legal"],
    )
    db.session.add(lawsuit)
    db.session.commit()
    assert world.rules_of(cp) == {"lawsuit"}
    lawsuit = db.session.get(Lawsuit, lawsuit.id)
    lawsuit.stage, lawsuit.outcome, lawsuit.closed_on = "closed", "paid_in_full", world.today
    db.session.commit()
    assert not world.status(cp).on_hold


def test_dashboard_functions_follow_the_stored_holds(world):
    from recovery.dashboard.queries import COMPANY, scope_for

    cp = world.counterparty()
    world.overdue_item(cp, "1000.00", days=100)
    world.overdue_item(world.counterparty(), "10.00", days=-5)
    count, overdue, exposure = queries.dashboard_hold_totals(COMPANY)
    assert (count, overdue, exposure) == (1, Decimal("1000.00"), Decimal("1000.00"))
    page = queries.dashboard_hold_page(world.today, COMPANY)
    assert [row.code for row in page.items] == [cp.code]
    assert page.items[0].reasons[0].rule == "overdue_days"
    from recovery.auth.models import Department

    other = Department(name="Elsewhere", kind="company")
    db.session.add(other)
    db.session.commit()
    assert queries.dashboard_hold_totals(scope_for(other.id))[0] == 0


def test_a_change_to_an_unloaded_item_is_seen(world):
    from recovery.ledger.models import Item

    cp = world.counterparty()
    item = world.overdue_item(cp, "100.00", days=-10)
    assert not world.status(cp).on_hold
    item = db.session.get(Item, item.id)
    db.session.expire_all()
    item.due_on = world.today - timedelta(days=1)  # counterparty_id never loaded
    db.session.commit()
    assert world.rules_of(cp) == {"overdue_amount"}


def test_cli_reevaluates(app, world):
    cp = world.counterparty()
    world.overdue_item(cp, "100.00", days=100)
    db.session.execute(sa.delete(CreditStatus))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["credit", "reevaluate"])
    assert result.exit_code == 0, result.output
    assert "1 statuses written" in result.output
    assert world.status(cp).on_hold


def test_the_fast_path_of_one_counterparty_equals_the_bulk_one(world):
    from recovery.credit import rules

    update_settings({"credit.broken_promise_days": "30"})
    db.session.commit()
    group = services.save_group(None, code="GF", name="G", credit_limit=Decimal("900.00"))
    cps = [world.counterparty(credit_limit=Decimal(str(100 * n))) for n in range(1, 6)]
    for n, cp in enumerate(cps):
        world.overdue_item(cp, f"{50 * (n + 1)}.00", days=40 * n - 30)
        world.overdue_item(cp, "75.00", days=-(n + 2))
        if n % 2:
            services.add_member(group, cp)
        db.session.add(
            Promise(
                counterparty_id=cp.id,
                amount=Decimal("20.00"),
                promised_on=world.today - timedelta(days=20 + n),
                due_on=world.today - timedelta(days=10 - 5 * n),
                recorded_by_id=world.user_ids["sales"],
            )
        )
    db.session.commit()
    exception = services.request_exception(
        cps[0],
        amount_cap=Decimal("60.00"),
        valid_until=world.today,
        reason="r",
        actor=world.user("sales"),
    )
    services.decide_exception(exception, approve=True, actor=world.user("executive"))
    db.session.commit()
    policy = services.policy()
    bulk = queries.figures_for(world.today, policy, None)
    rooms = queries.exception_rooms(None, world.today)
    for cp in cps:
        one, found = queries.figures_one(cp.id, world.today, policy)
        assert one == bulk[cp.id], cp.code
        assert found == rooms.get(cp.id, [])
        assert rules.hold_reasons(one, policy, world.today) == rules.hold_reasons(
            queries.figures_for(world.today, policy, [cp.id])[cp.id], policy, world.today
        )


def test_a_change_that_cannot_matter_is_not_reevaluated(world):
    from recovery.ledger.models import Item

    cp = world.counterparty()
    item = world.overdue_item(cp, "100.00", days=100)
    before = world.status(cp).evaluated_at
    item = db.session.get(Item, item.id)
    item.description = "a note"
    db.session.commit()
    assert world.status(cp).evaluated_at == before
    item = db.session.get(Item, item.id)
    item.amount = Decimal("150.00")
    db.session.commit()
    assert world.status(cp).evaluated_at > before


def test_credit_and_activities_agree_on_a_broken_promise(world):
    """One SQL builder (activities.promises.judged_promises): a promise partly kept is broken
    for both; kept after its deadline it stays broken on the activities' pages (the word was
    broken) and is made good for credit control (the customer paid: released at once)."""
    from recovery.activities import promises

    update_settings({"credit.overdue_amount_rule": "off", "credit.overdue_days_rule": "off"})
    db.session.commit()
    cp = world.counterparty()
    world.overdue_item(cp, "1000.00", days=20)
    promise = Promise(
        counterparty_id=cp.id,
        amount=Decimal("500.00"),
        promised_on=world.today - timedelta(days=15),
        due_on=world.today - timedelta(days=5),
        recorded_by_id=world.user_ids["sales"],
    )
    db.session.add(promise)
    db.session.commit()
    world.pay(cp, "300.00", on=world.today - timedelta(days=10))  # partly kept
    D300, D500 = Decimal("300.00"), Decimal("500.00")

    def judged(as_of):
        query = promises.current(promises.judged_promises(as_of, made_good=True), as_of)
        return db.session.execute(query.where(Promise.id == promise.id)).one()

    def broken_for_credit(as_of):
        pol = services.policy()
        bulk = queries.figures_for(as_of, pol, [cp.id])[cp.id].broken_promises
        one = queries.figures_one(cp.id, as_of, pol)[0].broken_promises
        assert bulk == one
        return bulk

    before_due = world.today - timedelta(days=6)
    assert promises.promise_status(promise, before_due) == "open"
    assert broken_for_credit(before_due) == 0
    assert promises.promise_status(promise, world.today) == "broken"
    assert promises.promise_paid(promise, world.today) == Decimal("300.00")
    row = judged(world.today)
    assert (row.status, row.paid_to_date, bool(row.made_good)) == ("broken", D300, False)
    assert broken_for_credit(world.today) == 1
    assert world.rules_of(cp) == {"broken_promise"}

    world.pay(cp, "200.00")  # the rest, after the deadline
    assert promises.promise_status(promise, world.today) == "broken"
    assert promises.promise_paid(promise, world.today) == Decimal("300.00")
    row = judged(world.today)
    assert (row.status, row.paid_to_date, bool(row.made_good)) == ("broken", D500, True)
    assert broken_for_credit(world.today) == 0
    assert not world.status(cp).on_hold
    listed = promises.promise_status_rows(world.today, counterparty_ids=[cp.id]).subquery()
    assert db.session.execute(sa.select(listed.c.status)).scalars().all() == ["broken"]
