"""flask --app recovery ledger import items|receipts FILE [--dry-run] (issue 3, point 6)."""

from __future__ import annotations

import sqlalchemy as sa

from recovery.audit.models import AuditLog
from recovery.extensions import db
from recovery.ledger.models import Item, Receipt
from tests.imports.conftest import (
    ITEM_HEADER,
    RECEIPT_HEADER,
    item_row,
    receipt_row,
    write_csv,
    write_xlsx,
)


def run(runner, *args):
    return runner.invoke(args=["ledger", "import", *map(str, args)])


def rows_of(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_items_then_receipts(app, runner, tmp_path):
    items = write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row(), item_row(document_no="B")])
    result = run(runner, "items", items)
    assert result.exit_code == 0, result.output
    assert "Imported: 2 row(s) of items" in result.output
    assert "items: 2 new, 0 updated, 0 unchanged" in result.output
    assert rows_of(app, Item) == 2
    receipts = write_csv(tmp_path / "r.csv", RECEIPT_HEADER, [receipt_row(document_no="B")])
    result = run(runner, "receipts", receipts)
    assert result.exit_code == 0, result.output
    assert "receipts: 1 new" in result.output
    assert rows_of(app, Receipt) == 1


def test_errors_print_one_line_each_and_exit_1(app, runner, tmp_path):
    rows = [item_row(amount="12.345"), item_row(document_no="B", recognized_on="2025-02-30")]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, rows)
    result = run(runner, "items", path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        "row 2, column amount, value '12.345': An amount has at most two decimals (fen)."
    )
    assert lines[1] == "row 3, column recognized_on, value '2025-02-30': There is no such date."
    assert "nothing was imported" in lines[2]
    assert rows_of(app, Item) == 0


def test_a_file_level_error_exits_1(app, runner, tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(b"")
    result = run(runner, "items", path)
    assert result.exit_code == 1
    assert result.output.startswith("file: The file is empty.")


def test_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = run(runner, "items", tmp_path / "nope.csv")
    assert result.exit_code == 2


def test_dry_run_writes_nothing(app, runner, tmp_path):
    path = write_xlsx(tmp_path / "items.xlsx", ITEM_HEADER, [item_row()])
    result = run(runner, "items", path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dry run, nothing written: 1 row(s) of items")
    assert rows_of(app, Item) == 0
    run(runner, "items", path)
    changed = write_xlsx(tmp_path / "items.xlsx", ITEM_HEADER, [item_row(amount="5")])
    result = run(runner, "items", changed, "--dry-run")
    assert "items INV001 would change: amount '1000.00' -> '5.00'" in result.output


def test_the_command_acts_as_the_system_user(app, runner, tmp_path):
    run(runner, "items", write_csv(tmp_path / "items.csv", ITEM_HEADER, [item_row()]))
    with app.app_context():
        actors = set(db.session.scalars(sa.select(AuditLog.actor_name)))
    assert len(actors) == 1 and next(iter(actors)).startswith("cli:")
