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


def test_sqlite_connections_check_foreign_keys(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1
