"""The provision matrix worked out by hand (scenario.py), specific provisions overriding it,
the 100 % rule and the rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

from recovery.extensions import db
from recovery.ledger import queries
from recovery.provisions import services
from recovery.settings.services import update_settings
from tests.provisions.scenario import AS_OF, TODAY, D, build_scenario

Z = Decimal("0.00")


def lines_by_code(result):
    return {(line.counterparty_code, line.department_name): line for line in result.lines}


def approve(specific, scenario):
    services.decide_specific(
        specific,
        approve=True,
        actor=scenario.finance2,
        note="",
        version=specific.version,
        today=TODAY,
    )


def propose(scenario, code, method, *, rate=None, amount=None, effective_from=D(2026, 1, 1)):
    from recovery.parties.services import find_counterparty

    return services.propose_specific(
        find_counterparty(code),
        method=method,
        rate=None if rate is None else Decimal(rate),
        amount=None if amount is None else Decimal(amount),
        reason="债务人已停业，法院裁定破产清算",
        effective_from=effective_from,
        actor=scenario.finance,
        today=TODAY,
    )


def test_rounding_helpers():
    assert services.provision_fen(3004, Decimal(30)) == 901  # 30.045 → 30.05... in fen: 901.2
    assert services.provision_fen(10015, Decimal(30)) == 3005  # 3004.5 fen → 3005, half up
    assert services.provision_fen(100010, Decimal(5)) == 5001  # 5000.5 → 5001 (not even 5000)
    assert services.provision_fen(1, Decimal(100)) == 1
    assert services.provision_fen(12345, Decimal("0")) == 0
    assert services.share_fen(10000, [20000, 10000]) == [6667, 3333]
    assert services.share_fen(1, [1, 1]) == [1, 0]
    assert sum(services.share_fen(99999, [3, 3, 3, 7])) == 99999


def test_matrix_by_hand(build):
    scenario = build_scenario(build)
    result = services.matrix(AS_OF)
    lines = lines_by_code(result)
    assert list(lines) == [
        ("A01", "营销一部"),
        ("A02", "营销一部"),
        ("B01", "营销一部"),
        ("C01", "营销一部"),
        ("C01", "营销二部"),
    ]
    a01 = lines[("A01", "营销一部")]
    assert a01.buckets == {
        "y0_1": Decimal("1000.10"),
        "y1_2": Decimal("333.33"),
        "y2_3": Z,
        "y3_4": Decimal("100.15"),
        "y4_5": Z,
        "y5_plus": Decimal("0.01"),
    }
    assert a01.bucket_provisions == {
        "y0_1": Decimal("50.01"),
        "y1_2": Decimal("33.33"),
        "y2_3": Z,
        "y3_4": Decimal("30.05"),
        "y4_5": Z,
        "y5_plus": Decimal("0.01"),
    }
    assert a01.outstanding == Decimal("1433.59")
    assert a01.matrix_provision == a01.total_provision == Decimal("113.40")
    # Rounded per line and bucket: 0.20 × 5 % = 0.01, not 0.005 + 0.005 rounded each.
    assert lines[("A02", "营销一部")].total_provision == Decimal("0.01")
    assert lines[("B01", "营销一部")].total_provision == Decimal("55.00")
    assert lines[("C01", "营销一部")].total_provision == Decimal("10.00")
    assert lines[("C01", "营销二部")].total_provision == Decimal("5.00")
    assert result.outstanding == Decimal("2433.79")
    assert result.total_provision == Decimal("183.41")
    assert result.matrix_provision == Decimal("183.41")
    assert result.specific_provision == Z
    buckets = {s.bucket: (s.balance, s.rate, s.provision) for s in result.collective_buckets()}
    assert buckets["y0_1"] == (Decimal("1800.30"), Decimal(5), Decimal("90.02"))
    assert buckets["y2_3"] == (Decimal("200.00"), Decimal(15), Decimal("30.00"))
    departments = {row.name: row for row in result.by_department()}
    assert departments["营销一部"].total_provision == Decimal("178.41")
    assert departments["营销二部"].total_provision == Decimal("5.00")
    assert sum(r.total_provision for r in departments.values()) == result.total_provision
    assert scenario.ids  # built


def test_matrix_agrees_with_the_aging_on_the_age_basis(build):
    build_scenario(build)
    build.receipt(
        build.counterparty("X01"), "10.00", D(2026, 1, 1)
    )  # unapplied credit: never inside a bucket, never provided for
    db.session.commit()
    result = services.matrix(AS_OF)
    aging = queries.aging(AS_OF, by="counterparty", basis="age")
    for bucket in services.BUCKETS:
        assert result.bucket_totals()[bucket] == sum(r.values[bucket] for r in aging)
    assert result.outstanding == sum(r.values["outstanding"] for r in aging)


def test_a_department_matrix_is_its_part_of_the_whole(build):
    scenario = build_scenario(build)
    whole = services.matrix(AS_OF)
    part = services.matrix(AS_OF, department_id=scenario.ids["two"])
    assert [(line.counterparty_code, line.total_provision) for line in part.lines] == [
        ("C01", Decimal("5.00"))
    ]
    assert part.total_provision == whole.by_department()[1].total_provision


def test_rates_come_from_the_setting(build):
    build_scenario(build)
    update_settings({"provision.rates": "1,2,3,4,5,6"})
    result = services.matrix(AS_OF)
    a01 = lines_by_code(result)[("A01", "营销一部")]
    # 1000.10 × 1 % = 10.001 → 10.00; 333.33 × 2 % = 6.6666 → 6.67; 100.15 × 4 % = 4.006 → 4.01
    assert a01.matrix_provision == Decimal("10.00") + Decimal("6.67") + Decimal("4.01") + Z


def test_a_specific_rate_overrides_the_matrix_up_to_100_percent(build):
    scenario = build_scenario(build)
    specific = propose(scenario, "B01", "rate", rate="100")
    # Proposed only: the matrix still applies.
    assert lines_by_code(services.matrix(AS_OF))[("B01", "营销一部")].total_provision == Decimal(
        "55.00"
    )
    approve(specific, scenario)
    result = services.matrix(AS_OF)
    b01 = lines_by_code(result)[("B01", "营销一部")]
    assert b01.specific.id == specific.id
    assert b01.matrix_provision == Decimal("55.00")  # shown, not used
    assert b01.specific_provision == b01.total_provision == Decimal("700.00")
    assert result.specific_provision == Decimal("700.00")
    assert result.matrix_provision == Decimal("128.41")
    assert result.total_provision == Decimal("828.41")
    # Before its effective date it is not in force.
    assert lines_by_code(services.matrix(D(2025, 12, 31)))[("B01", "营销一部")].specific is None


def test_a_rate_rounds_per_line(build):
    scenario = build_scenario(build)
    approve(propose(scenario, "A01", "rate", rate="33.3333"), scenario)
    a01 = lines_by_code(services.matrix(AS_OF))[("A01", "营销一部")]
    # 1433.59 × 33.3333 % = 477.862856… → 477.86
    assert a01.total_provision == Decimal("477.86")


def test_more_than_100_percent_or_the_outstanding_is_refused(build):
    scenario = build_scenario(build)
    with pytest.raises(services.ProvisionError) as error:
        propose(scenario, "B01", "rate", rate="100.01")
    assert error.value.field == "rate"
    with pytest.raises(services.ProvisionError) as error:
        propose(scenario, "B01", "amount", amount="700.01", effective_from=AS_OF)
    assert error.value.field == "amount"
    assert "700.00" in str(error.value.message)
    # Checked on the effective date: on 1 January only the older item of 200.00 existed.
    with pytest.raises(services.ProvisionError) as error:
        propose(scenario, "B01", "amount", amount="700.00", effective_from=D(2026, 1, 1))
    assert "200.00" in str(error.value.message)
    propose(scenario, "B01", "amount", amount="700.00", effective_from=AS_OF)  # allowed


def test_a_fixed_amount_is_shared_over_departments_and_capped(build):
    scenario = build_scenario(build)
    approve(propose(scenario, "C01", "amount", amount="100.00"), scenario)
    lines = lines_by_code(services.matrix(AS_OF))
    assert lines[("C01", "营销一部")].total_provision == Decimal("66.67")
    assert lines[("C01", "营销二部")].total_provision == Decimal("33.33")
    # The department's own matrix shows its share of the same split.
    part = services.matrix(AS_OF, department_id=scenario.ids["two"])
    assert part.lines[0].total_provision == Decimal("33.33")
    # Paid down to 60.00: the provision is capped at what is still outstanding.
    from recovery.parties.services import find_counterparty

    build.receipt(find_counterparty("C01"), "240.00", D(2026, 6, 1))
    db.session.commit()
    lines = lines_by_code(services.matrix(AS_OF))
    c01 = [line for key, line in lines.items() if key[0] == "C01"]
    assert sum(line.total_provision for line in c01) == Decimal("60.00")
    assert all(line.total_provision <= line.outstanding for line in c01)


def test_the_latest_specific_wins_and_matrix_ends_it(build):
    scenario = build_scenario(build)
    approve(propose(scenario, "B01", "rate", rate="50", effective_from=D(2026, 1, 1)), scenario)
    approve(propose(scenario, "B01", "rate", rate="80", effective_from=D(2026, 4, 1)), scenario)
    approve(propose(scenario, "B01", "matrix", effective_from=D(2026, 6, 1)), scenario)

    def b01(on):
        return lines_by_code(services.matrix(on))[("B01", "营销一部")].total_provision

    assert b01(D(2026, 3, 31)) == Decimal("350.00")
    assert b01(D(2026, 5, 31)) == Decimal("560.00")
    assert b01(AS_OF) == Decimal("55.00")  # back to the matrix


def test_approval_rules(build):
    with force_locale("en"):
        check_approval_rules(build)


def check_approval_rules(build):
    scenario = build_scenario(build)
    specific = propose(scenario, "B01", "rate", rate="100")
    with pytest.raises(services.ProvisionError, match="own proposal"):
        services.decide_specific(
            specific, approve=True, actor=scenario.finance, note="", version=1, today=TODAY
        )
    with pytest.raises(services.ProvisionError):
        services.decide_specific(
            specific, approve=True, actor=scenario.sales, note="", version=1, today=TODAY
        )
    with pytest.raises(services.ProvisionError) as error:
        services.decide_specific(
            specific, approve=False, actor=scenario.executive, note=" ", version=1, today=TODAY
        )
    assert error.value.field == "note"
    with pytest.raises(services.StaleProvision):
        services.decide_specific(
            specific, approve=True, actor=scenario.executive, note="", version=0, today=TODAY
        )
    with pytest.raises(services.ProvisionError, match="Only finance"):
        services.propose_specific(
            specific.counterparty,
            method="rate",
            rate=Decimal(10),
            amount=None,
            reason="x",
            effective_from=AS_OF,
            actor=scenario.executive,
            today=TODAY,
        )
    services.decide_specific(
        specific, approve=True, actor=scenario.executive, note="同意", version=1, today=TODAY
    )
    assert specific.status == "approved"
    assert specific.decided_by_id == scenario.executive.id
    with pytest.raises(services.ProvisionError, match="already decided"):
        services.decide_specific(
            specific,
            approve=False,
            actor=scenario.finance2,
            note="x",
            version=specific.version,
            today=TODAY,
        )
