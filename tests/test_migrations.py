"""The migrations build the schema the models describe (issue #2, point 12)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from recovery.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models differ from migrations; run flask db migrate: {diff}"


def test_schema_is_at_the_latest_revision(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    from recovery import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    with app.app_context(), db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert set(current) == set(heads)


def test_upgrade_keeps_the_rows_of_a_populated_database(tmp_path):
    """Batch ALTERs rebuild tables on SQLite; rows that refer to a rebuilt table (an item's
    contract, a contract's counterparty) must survive an upgrade from an older release."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from recovery import create_app
    from tests.conftest import base_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        upgrade(revision="0003")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO counterparties (id, code, name, kind, financial_status,"
                " business_status, active, created_at)"
                " VALUES (1, 'C1', 'Old', 'customer', 'good', 'normal', 1, '2026-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO contracts (id, number, counterparty_id, rate_basis, reviewed,"
                " created_at) VALUES (1, 'K1', 1, 'annual', 0, '2026-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO items (id, document_no, counterparty_id, contract_id, item_type,"
                " category, amount, recognized_on, due_on, open_amount, created_at)"
                " VALUES (1, 'D1', 1, 1, 'goods', 'accounts_receivable', 10000, '2026-01-01',"
                " '2026-02-01', 10000, '2026-01-01')"
            )
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM items")).scalar() == 1
            assert connection.execute(sa.text("SELECT contract_id FROM items")).scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        db.engine.dispose()


def test_postgresql_vacuums_items_often(app):
    """Migration 0021: the index-only scans of open items stay index-only under steady
    receipts (docs/deployment.md, "PostgreSQL")."""
    import pytest
    import sqlalchemy as sa

    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL storage parameter")
        options = connection.execute(
            sa.text("SELECT reloptions FROM pg_class WHERE relname = 'items'")
        ).scalar()
    assert set(options) == {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=500"}
