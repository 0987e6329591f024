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
