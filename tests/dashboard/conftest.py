"""Fixtures of the dashboard tests: the ledger builder (documents through the real services),
the example ledger, signing in (reading English), and the background recomputations of kept
views waited for before the test's database goes."""

from __future__ import annotations

import pytest

from recovery.dashboard import cache
from recovery.extensions import db
from tests.dashboard.example import build_example
from tests.ledger.conftest import LedgerBuilder


@pytest.fixture
def build(app):
    """A LedgerBuilder with an app context pushed for the test's duration."""
    with app.app_context():
        yield LedgerBuilder()
        db.session.rollback()


@pytest.fixture
def login_as(login_as, client):
    """Sign in as in tests/conftest.py, reading English (the catalog's Chinese may change)."""

    def do(*roles, **kwargs):
        user = login_as(*roles, **kwargs)
        with client.session_transaction() as session:
            session["lang"] = "en"
        return user

    return do


@pytest.fixture
def example(app):
    """The example ledger of tests/dashboard/example.py: the ids of its departments."""
    with app.app_context():
        docs = build_example(LedgerBuilder())
        return {"company": docs["company"].id, "one": docs["one"].id, "two": docs["two"].id}


@pytest.fixture(autouse=True)
def _background_refreshes_finish():
    yield
    cache.wait_for_refreshes()
