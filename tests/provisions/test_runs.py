"""Provision runs: the movement between two closed periods, write-offs, frozen runs, and the
rules of closing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.ledger.models import Item
from recovery.parties.services import find_counterparty
from recovery.provisions import services
from recovery.provisions.models import ProvisionRun, ProvisionRunLine
from tests.provisions.scenario import AS_OF, TODAY, D, build_scenario

MARCH = D(2026, 3, 31)


def by_key(result):
    return {(row.counterparty_code, row.department_name): row for row in result.lines}


def close(run, actor):
    services.close_run(run, actor=actor, version=run.version)
    db.session.commit()


def write_off_b01(scenario):
    item = db.session.scalar(sa.select(Item).where(Item.amount == Decimal("200.00")).where(
        Item.counterparty_id == scenario.ids["B01"]
    ))  # fmt: skip
    adjustment = ledger.propose_adjustment(
        item,
        kind="write_off",
        amount=Decimal("200.00"),
        dated_on=D(2026, 6, 15),
        reason="核销：债务人注销",
        number="WO-1",
        actor=scenario.finance,
    )
    ledger.decide_adjustment(adjustment, approve=True, actor=scenario.finance2)


def test_movement_between_two_runs(build):
    scenario = build_scenario(build)
    first = services.create_run(MARCH, actor=scenario.finance, today=TODAY)
    db.session.commit()
    # March by hand: A01 50.01 + 33.33 + 15.02 (100.15 is 2–3 years old then) + 0.01 = 98.37;
    # A02 does not exist yet; B01 25.00 + 30.00; C01 10.00 and 5.00.
    assert first.total_provision == Decimal("168.37")
    assert first.line_count == 4
    close(first, scenario.finance)

    build.receipt(find_counterparty("C01"), "300.00", D(2026, 5, 1))
    write_off_b01(scenario)
    db.session.commit()

    second = services.create_run(AS_OF, actor=scenario.finance, today=TODAY, note="六月")
    db.session.commit()
    result = services.run_movement(second)
    assert result.opening_run.id == first.id
    rows = by_key(result)
    a01 = rows[("A01", "营销一部")]
    assert (a01.previous, a01.closing, a01.movement, a01.charge) == (
        Decimal("98.37"),
        Decimal("113.40"),
        Decimal("15.03"),
        Decimal("15.03"),
    )
    a02 = rows[("A02", "营销一部")]
    assert (a02.previous, a02.closing) == (Decimal("0.00"), Decimal("0.01"))
    b01 = rows[("B01", "营销一部")]
    assert (b01.previous, b01.closing, b01.written_off) == (
        Decimal("55.00"),
        Decimal("25.00"),
        Decimal("200.00"),
    )
    assert b01.movement == Decimal("-30.00")
    assert b01.charge == Decimal("170.00")  # 200 used by the write-off, 25 needed at the end
    c01 = rows[("C01", "营销二部")]
    assert c01.line is None  # paid: the provision is released
    assert (c01.previous, c01.closing, c01.movement) == (
        Decimal("5.00"),
        Decimal("0.00"),
        Decimal("-5.00"),
    )
    assert result.opening == Decimal("168.37")
    assert result.closing == Decimal("138.41")
    assert result.written_off == Decimal("200.00")
    assert result.movement == Decimal("-29.96")
    assert result.charge == Decimal("170.04")
    # The live view of the same date says the same.
    live = services.live_movement(AS_OF)
    assert (live.opening, live.closing, live.charge) == (
        result.opening,
        result.closing,
        result.charge,
    )


def test_a_closed_run_is_frozen_and_closes_the_period(build):
    scenario = build_scenario(build)
    first = services.create_run(MARCH, actor=scenario.finance, today=TODAY)
    db.session.commit()
    close(first, scenario.finance)
    # A back-dated receipt changes the live figures of March, not the closed run.
    build.receipt(find_counterparty("B01"), "700.00", D(2026, 3, 15))
    db.session.commit()
    assert services.matrix(MARCH).total_provision == Decimal("113.37")
    assert services.matrix_of_run(first).total_provision == Decimal("168.37")
    assert db.session.get(ProvisionRun, first.id).total_provision == Decimal("168.37")
    # Nothing on or before a closed date: no run, no specific provision, no second close.
    with pytest.raises(services.ProvisionError) as error:
        services.create_run(MARCH, actor=scenario.finance, today=TODAY)
    assert error.value.field == "as_of"
    with pytest.raises(services.ProvisionError) as error:
        services.propose_specific(
            find_counterparty("A01"),
            method="rate",
            rate=Decimal(50),
            amount=None,
            reason="x",
            effective_from=MARCH,
            actor=scenario.finance,
            today=TODAY,
        )
    assert error.value.field == "effective_from"
    with pytest.raises(services.ProvisionError):
        services.close_run(first, actor=scenario.finance, version=first.version)


def test_drafts_are_superseded_and_closing_checks_the_version(build):
    scenario = build_scenario(build)
    draft = services.create_run(AS_OF, actor=scenario.finance, today=TODAY)
    db.session.commit()
    newer = services.create_run(AS_OF, actor=scenario.finance2, today=TODAY)
    db.session.commit()
    assert db.session.get(ProvisionRun, draft.id).status == "superseded"
    with pytest.raises(services.ProvisionError):
        services.close_run(draft, actor=scenario.finance, version=draft.version)
    db.session.rollback()
    with pytest.raises(services.StaleProvision):
        services.close_run(newer, actor=scenario.finance, version=newer.version - 1)
    db.session.rollback()
    with pytest.raises(services.ProvisionError):
        services.close_run(newer, actor=scenario.executive, version=newer.version)
    db.session.rollback()
    with pytest.raises(services.ProvisionError) as error:
        services.create_run(D(2026, 7, 6), actor=scenario.finance, today=TODAY)
    assert error.value.field == "as_of"
    close(newer, scenario.finance)
    assert newer.status == "closed" and newer.closed_by_id == scenario.finance.id
    lines = db.session.scalar(sa.select(sa.func.count()).where(ProvisionRunLine.run_id == newer.id))
    assert lines == newer.line_count == 5
    # Both runs were audited; the lines (derived) were not.
    from recovery.audit.models import AuditLog

    tables = set(db.session.scalars(sa.select(AuditLog.table_name)))
    assert "provision_runs" in tables
    assert "provision_run_lines" not in tables
