"""Fixtures of the dashboard tests: the ledger builder (documents through the real services)."""

from __future__ import annotations

import pytest

from recovery.extensions import db
from tests.ledger.conftest import LedgerBuilder


@pytest.fixture
def build(app):
    """A LedgerBuilder with an app context pushed for the test's duration."""
    with app.app_context():
        yield LedgerBuilder()
        db.session.rollback()
