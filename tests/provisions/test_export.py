"""The export finance posts from: its columns (English codes and Chinese names), the values of
a line, the journal summary of a charge and of a release, and the XLSX sheets."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from recovery.extensions import db
from recovery.parties.services import find_counterparty
from recovery.provisions import export, services
from tests.provisions.scenario import AS_OF, TODAY, D, build_scenario
from tests.provisions.test_runs import MARCH, close, write_off_b01

EN_COLUMNS = [
    "counterparty_code",
    "counterparty_name",
    "department",
    "outstanding",
    "y0_1",
    "y1_2",
    "y2_3",
    "y3_4",
    "y4_5",
    "y5_plus",
    "rate_y0_1",
    "rate_y1_2",
    "rate_y2_3",
    "rate_y3_4",
    "rate_y4_5",
    "rate_y5_plus",
    "matrix_provision",
    "specific_basis",
    "specific_provision",
    "total_provision",
    "previous_provision",
    "written_off",
    "movement",
    "charge",
]


def two_periods(build):
    scenario = build_scenario(build)
    first = services.create_run(MARCH, actor=scenario.finance, today=TODAY)
    db.session.commit()
    close(first, scenario.finance)
    build.receipt(find_counterparty("C01"), "300.00", D(2026, 5, 1))
    write_off_b01(scenario)
    specific = services.propose_specific(
        find_counterparty("A01"),
        method="rate",
        rate=Decimal(80),
        amount=None,
        reason="诉讼中，财产保全不足",
        effective_from=D(2026, 6, 1),
        actor=scenario.finance,
        today=TODAY,
    )
    services.decide_specific(
        specific, approve=True, actor=scenario.executive, note="", version=1, today=TODAY
    )
    db.session.commit()
    return scenario


def test_line_columns_and_values(build):
    two_periods(build)
    result = services.live_movement(AS_OF)
    assert export.columns(export.LINE_COLUMNS, "en") == EN_COLUMNS
    zh = export.columns(export.LINE_COLUMNS, "zh")
    assert zh[:4] == ["客户编码", "客户名称", "部门", "应收余额"]
    assert zh[-1] == "本期计提(转回)"
    rows = {
        (row[0], row[2]): dict(zip(EN_COLUMNS, row, strict=True))
        for row in export.line_rows(result)
    }
    a01 = rows[("A01", "营销一部")]
    assert a01["outstanding"] == Decimal("1433.59")
    assert a01["y3_4"] == Decimal("100.15")
    assert a01["rate_y3_4"] == Decimal(30)
    assert a01["matrix_provision"] == Decimal("113.40")
    assert a01["specific_basis"] == "80%"
    assert a01["specific_provision"] == Decimal("1146.87")  # 1433.59 × 80 % = 1146.872
    assert a01["total_provision"] == Decimal("1146.87")
    assert a01["previous_provision"] == Decimal("98.37")
    assert a01["movement"] == Decimal("1048.50")
    assert rows[("B01", "营销一部")]["written_off"] == Decimal("200.00")
    assert rows[("B01", "营销一部")]["specific_provision"] is None
    assert rows[("C01", "营销二部")]["outstanding"] == Decimal("0.00")


def test_journal_of_a_charge(build):
    two_periods(build)
    result = services.live_movement(AS_OF)
    # closing 1146.87 + 0.01 + 25.00 = 1171.88; opening 168.37; write-offs 200.00
    assert result.charge == Decimal("1171.88") - Decimal("168.37") + Decimal("200.00")
    assert export.journal_rows(result, "zh") == [
        [1, "信用减值损失", Decimal("1203.51"), None, "本期计提"],
        [1, "坏账准备", None, Decimal("1203.51"), "本期计提"],
        [2, "坏账准备", Decimal("200.00"), None, "本期核销：已随各核销单过账，仅供核对"],
        [2, "应收账款", None, Decimal("200.00"), "本期核销：已随各核销单过账，仅供核对"],
    ]
    assert export.columns(export.JOURNAL_COLUMNS, "en") == [
        "entry",
        "account",
        "debit",
        "credit",
        "note",
    ]


def test_journal_of_a_release(build):
    scenario = build_scenario(build)
    first = services.create_run(MARCH, actor=scenario.finance, today=TODAY)
    db.session.commit()
    close(first, scenario.finance)
    build.receipt(find_counterparty("B01"), "700.00", D(2026, 6, 1))
    build.receipt(find_counterparty("A01"), "1433.59", D(2026, 6, 1))
    db.session.commit()
    result = services.live_movement(AS_OF)
    # closing: A02 0.01 + C01 15.00 = 15.01; opening 168.37 → release 153.36
    assert result.charge == Decimal("-153.36")
    rows = export.journal_rows(result, "en")
    assert rows == [
        [1, "坏账准备 Bad-debt provision", Decimal("153.36"), None, "Release for the period"],
        [
            1,
            "信用减值损失 Credit impairment loss",
            None,
            Decimal("153.36"),
            "Release for the period",
        ],
    ]


def test_workbook_sheets(build):
    two_periods(build)
    result = services.live_movement(AS_OF)
    book = load_workbook(io.BytesIO(export.workbook(result, "en")))
    assert book.sheetnames == ["lines", "buckets", "journal", "reconciliation"]
    lines = list(book["lines"].values)
    assert lines[0][0].startswith("Provision as of 2026-06-30; opening: closed period 2026-03-31")
    assert list(lines[2]) == EN_COLUMNS
    assert lines[3][0] == "A01" and lines[3][19] == 1146.87
    reconciliation = list(book["reconciliation"].values)[3:]
    assert [row[1] for row in reconciliation] == [168.37, -200.0, 1203.51, 1171.88]
    buckets = list(book["buckets"].values)
    assert buckets[3][0] == "Individually assessed" and buckets[3][4] == 1146.87


def test_csv_is_neutralised_and_readable_by_excel(build):
    scenario = build_scenario(build)
    build.item(
        build.counterparty("=HYPERLINK", name="=cmd|' /C calc'!A0"), "10.00", D(2026, 1, 1),
        D(2026, 2, 1)
    )  # fmt: skip
    db.session.commit()
    from recovery.core.spreadsheets import write_csv

    result = services.live_movement(AS_OF)
    data = write_csv(export.columns(export.LINE_COLUMNS, "en"), export.line_rows(result))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == EN_COLUMNS
    hostile = rows[1]
    assert hostile[0] == "'=HYPERLINK" and hostile[1].startswith("'=cmd")
    assert scenario.ids
