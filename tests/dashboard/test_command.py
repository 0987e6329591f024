"""flask --app recovery report kpi --from … --to … --format json: exactly the twelve keys,
amounts as two-decimal strings, ratios as decimals; the worked example's figures."""

from __future__ import annotations

import json
from decimal import Decimal

from recovery.dashboard import kpis
from tests.dashboard.example import FIGURES, SALES_ONE, SALES_ONE_FIGURES, build_example
from tests.ledger.conftest import LedgerBuilder


def run(runner, *extra):
    return runner.invoke(
        args=["report", "kpi", "--from", "2026-03-01", "--to", "2026-03-31", *extra],
    )


def test_the_worked_example_as_json(app, runner):
    with app.app_context():
        build_example(LedgerBuilder())
    result = run(runner, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_float=Decimal)
    assert list(data) == list(kpis.KEYS)
    for key in kpis.AMOUNT_KEYS:
        assert isinstance(data[key], str) and data[key] == f"{FIGURES[key]:.2f}", key
    for key in kpis.RATIO_KEYS + kpis.DAY_KEYS + kpis.INDEX_KEYS:
        assert isinstance(data[key], Decimal), key
    assert {key: Decimal(value) for key, value in data.items()} == FIGURES
    # Written exactly: four places for ratios, two for days and the index.
    assert '"overdue_ratio": 0.7000' in result.stdout
    assert '"collection_rate": 0.3333' in result.stdout
    assert '"dso": 64.17' in result.stdout and '"cei": 41.67' in result.stdout
    assert '"receivables": "100000.00"' in result.stdout


def test_one_department(app, runner):
    with app.app_context():
        build_example(LedgerBuilder())
    result = run(runner, "--department", SALES_ONE)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_float=Decimal)
    expected = {k: (None if v is None else Decimal(v)) for k, v in SALES_ONE_FIGURES.items()}
    assert {k: (None if v is None else Decimal(v)) for k, v in data.items()} == expected
    with app.app_context():  # as the command words it (the catalog's language)
        reason = str(kpis.REASONS["avg_days_to_pay"])
    assert f"avg_days_to_pay: {reason}" in result.stderr


def test_an_empty_ledger_gives_nulls_and_says_why(app, runner):
    result = run(runner)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["receivables"] == "0.00" and data["recovered"] == "0.00"
    assert data["dso"] is None and data["overdue_ratio"] is None and data["cei"] is None
    with app.app_context():
        reason = str(kpis.REASONS["dso"])
    assert f"dso: {reason}" in result.stderr
    assert "NaN" not in result.stdout


def test_bad_input_is_refused(app, runner, tmp_path):
    reversed_period = runner.invoke(
        args=["report", "kpi", "--from", "2026-04-01", "--to", "2026-03-31"]
    )
    assert reversed_period.exit_code != 0
    with app.app_context():
        message = str(kpis.PERIOD_REVERSED)
    assert message in reversed_period.output
    bad_date = runner.invoke(args=["report", "kpi", "--from", "2026-02-30", "--to", "2026-03-31"])
    assert bad_date.exit_code != 0 and "YYYY-MM-DD" in bad_date.output
    unknown = run(runner, "--department", "nowhere")
    assert unknown.exit_code != 0 and "no department" in unknown.output
    written = run(runner, "--output", str(tmp_path / "kpi.json"))
    assert written.exit_code == 0
    assert json.loads((tmp_path / "kpi.json").read_text(encoding="utf-8"))["overdue"] == "0.00"
