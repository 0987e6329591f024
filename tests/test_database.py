"""Per-engine connection settings (recovery/core/database.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from recovery.extensions import db


def test_postgresql_sessions_run_without_jit(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: JIT compilation is a PostgreSQL feature")
        assert db.session.scalar(sa.text("SHOW jit")) == "off"


def test_postgresql_statements_are_planned_for_their_own_parameters(app):
    """No server-side prepared statements (a generic plan for ``= ANY($1)`` scanned whole
    tables): a statement run many times on one connection is never prepared — except the
    bulk writes' executemany, which prepares its one statement on purpose."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: psycopg's server-side prepared statements")
        connection = db.session.connection()
        assert connection.connection.driver_connection.prepare_threshold is None
        for _ in range(12):
            db.session.execute(sa.text("SELECT 1 WHERE 1 = ANY(:ids)"), {"ids": [1, 2]})
        prepared = db.session.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared == 0


def test_sqlite_connections_check_foreign_keys(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1
