"""Fixtures: a fresh, migrated database per test on SQLite (default) or PostgreSQL.

Set RECOVERY_TEST_DATABASE_URL to a PostgreSQL URL to run the suite there (``make test``
starts a throwaway server and does this). The schema is built once per run by the real
migrations; each test then starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from recovery import PROJECT_ROOT, create_app
from recovery.extensions import db

TEST_PASSWORD = "correct-horse-9"
FAST_HASH = "pbkdf2:sha256:1000"  # the real app uses scrypt; tests need speed, not strength

POSTGRES_URL = os.environ.get("RECOVERY_TEST_DATABASE_URL")

# The suite (and CI) runs hypothesis with fixed examples, so that main stays predictable: a
# fuzz test that once found a real bug turned an unrelated change red. To look for new bugs,
# run by hand with fresh random examples: HYPOTHESIS_PROFILE=explore pytest tests/imports ...
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_sessionstart(session):
    compile_translations()


def compile_translations() -> None:
    from recovery.core.translations import compile_catalogs

    compile_catalogs()


def base_config(tmp_path: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SERVER_NAME": None,
    }


def _upgrade(database_url: str, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(tmp_path, database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def run_bench_generate(url: str, tmp_path: Path, *args: str, timeout: int = 600) -> None:
    """Run bench/generate.py into ``url`` as a user would (its own process, the test's
    instance folder); ``args``: sizes, seed and options. Fails with its output."""
    import subprocess
    import sys

    env = {**os.environ, "RECOVERY_INSTANCE_PATH": str(tmp_path / "instance")}
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "generate.py"), "--database", url]
    done = subprocess.run(  # noqa: S603 - our own script
        [*command, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """Build the schema once with the migrations; return (kind, url or template path)."""
    tmp = tmp_path_factory.mktemp("schema")
    os.environ.setdefault("RECOVERY_INSTANCE_PATH", str(tmp / "instance"))
    if POSTGRES_URL:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        _upgrade(POSTGRES_URL, tmp)
        return ("postgresql", POSTGRES_URL)
    template = tmp / "template.sqlite3"
    _upgrade(f"sqlite:///{template}", tmp)
    with sqlite3.connect(template) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ("sqlite", template)


def fresh_database_url(migrated_database, tmp_path: Path) -> str:
    kind, location = migrated_database
    if kind == "postgresql":
        engine = sa.create_engine(location)
        from recovery import models  # noqa: F401

        with engine.begin() as connection:
            # Replica mode switches off the audit trail's append-only triggers for the wipe.
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        engine.dispose()
        return location
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(location, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(migrated_database, tmp_path):
    """A fresh app and database. No app context stays pushed: each request of the test client
    must get its own context (its own ``g`` and database session), as in production. Tests
    that touch the database directly use ``with app.app_context():``."""
    app = create_app(base_config(tmp_path, fresh_database_url(migrated_database, tmp_path)))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    from recovery.auth import services

    def make(username, *roles, password=TEST_PASSWORD, department=None, **kwargs):
        """Create a user; returns it loaded and detached (usable outside an app context)."""
        with app.app_context():
            if isinstance(department, str):
                department = services.find_department(department)
            user = services.create_user(
                username, password, roles or ("finance",), department=department, **kwargs
            )
            db.session.commit()
            user = db.session.get(type(user), user.id)
            _ = user.roles, user.department
            db.session.expunge_all()
            return user

    return make


def login(client, username, password=TEST_PASSWORD, follow_redirects=False):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        follow_redirects=follow_redirects,
    )


@pytest.fixture
def login_as(client, make_user):
    """Create a user with the given roles and sign the test client in as them."""

    def do(*roles, username=None):
        username = username or "u-" + "-".join(roles)
        user = make_user(username, *roles)
        response = login(client, username)
        assert response.status_code == 302, response.data
        return user

    return do
